export { VigilConfigSchema, AgentSchema, TokenSchema, ApiKeySchema, PolicySchema, DetectionSchema } from "./schema";
export type {
  VigilConfig,
  AgentConfig,
  ApiKeyConfig,
  PolicyConfig,
  DetectionConfig,
  AgentApprovalsConfig,
  ApprovalsConfig,
  AuditConfig,
  AuditSourceConfig,
  DatabaseUserConfig,
} from "./schema";
export { AUDIT_FORMATS, AUDIT_FORMAT_SYSTEMS, UNMAPPED_DB_USER_AGENT } from "./audit";
export type { AuditFormat } from "./audit";
export { parseVigilConfig, loadVigilConfig } from "./load";
export { generateToken, sha256Hex, TOKEN_PREFIX, API_KEY_PREFIX } from "./tokens";
export { readEnvironment, serverConnection } from "./environment";
export type { Environment, EnvironmentVariables, StoreRole, StoreCredentials } from "./environment";
export {
  parseDuration,
  resolveSecret,
  ReceiverSchema,
  RouteSchema,
  MatcherSchema,
  InhibitRuleSchema,
  GROUP_LABELS,
} from "./alerting";
export type { ReceiverConfig, RouteConfig, Matcher, InhibitRuleConfig, GroupLabel, SecretRef } from "./alerting";
