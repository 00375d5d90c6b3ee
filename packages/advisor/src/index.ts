export { observePermissions, DIMENSIONS } from "./observe";
export type { Observed, ObservedItem, Dimension } from "./observe";
export { suggestPolicy, diffPolicy, policyYaml } from "./policy";
export type { PolicySuggestion, PolicyDiff, ReviewItem } from "./policy";
export { suggestGrants, beyondCurrentGrants, parseGrants } from "./grants";
export type { GrantDialect, GrantSuggestion } from "./grants";
export { promotionReport, promotionMarkdown, DEFAULT_CRITERIA } from "./promotion";
export type { PromotionReport, IrreversibleAction, PromotionCriteria } from "./promotion";
