export { actionAttributes, actionDigestOf, actionFacts, renderAction } from "./action";
export type { Action } from "./action";
export { signApprovalToken, verifyApprovalToken } from "./token";
export type { ApprovalClaims, TokenCheck } from "./token";
export { decide } from "./decide";
export type { KnownActivity, Verdict } from "./decide";
