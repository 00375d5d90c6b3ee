export { scanSecrets, redactSecrets, looksLikeSecret, fingerprintOf, redactionMarker, MAX_SCANNED_CHARS } from "./scan";
export { buildCorpus } from "./corpus";
export type { SecretFinding } from "./scan";
export { SECRET_RULES, HIGH_ENTROPY_RULE_ID } from "./rules";
export type { SecretRule } from "./rules";
export { shannonEntropy } from "./entropy";
export { redactSpans } from "./redact-span";
export type { SpanRedaction } from "./redact-span";
