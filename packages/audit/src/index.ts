export type { AuditRecord } from "./record";
export { parseAuditRecord, csvRecordComplete } from "./parse";
export { auditRecordSpan, AUDIT_SCOPE } from "./to-span";
export { AuditFileFollower } from "./follower";
