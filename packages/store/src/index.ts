export { openStoreClient } from "./client";
export type { ClickHouseClient, StorePlacement } from "./client";
export { federateShards, runMigrations, MIGRATIONS, MIGRATIONS_TABLE } from "./migrations";
export { clusterStatements } from "./cluster";
export type { Migration } from "./migrations";
export {
  SPAN_INSERT_COLUMNS,
  SPAN_READ_BACK_EXPRESSIONS,
  encodeSpanRows,
  encodeSpanLines,
  sealSpanLines,
  formatSpanRow,
  NO_INTEGRITY_FINDINGS,
} from "./spans/rows";
export type { EncodedRows, SpanIntegrity, SpanRowValues } from "./spans/rows";
export { Ledger, readLedger, readLedgerAfter, ledgerHeads } from "./ledger/ledger";
export type { LedgerTable } from "./ledger/ledger";
export { canonicalEntry, entryHashOf, entryLeaf, sortLeaves, GENESIS_HASH } from "./ledger/entry";
export type { LedgerEntry } from "./ledger/entry";
export { leafHash, nodeHash, merkleRoot, inclusionProof, verifyInclusion, EMPTY_ROOT } from "./ledger/merkle";
export { MerkleFrontier } from "./ledger/frontier";
export {
  signCheckpoint,
  verifyCheckpoint,
  formatCheckpoint,
  verifierKey,
  parseVerifierKey,
  loadOrCreateSigningKey,
  rawPublicKey,
} from "./ledger/checkpoint";
export type { Checkpoint, SigningKey } from "./ledger/checkpoint";
export { Checkpointer, latestCheckpoint, readCheckpoints } from "./ledger/checkpointer";
export { LedgerFollower } from "./ledger/follower";
export type { ChainHead, StoredCheckpoint } from "./ledger/checkpointer";
export { appendWitnessCheckpoint, readWitnessCheckpoints } from "./ledger/witness";
export { verifyStore } from "./ledger/verify";
export type { VerifyReport, VerifyProblem, ProblemKind, ChainStatus } from "./ledger/verify";
export { buildSpanProof, verifySpanProof, ProofUnavailableError } from "./ledger/proof";
export type { SpanProof, ProofVerdict } from "./ledger/proof";
export type { RowContext } from "./spans/rows";
export { insertSpanBatch, isRowRejection } from "./spans/write";
export { AUDIT_DIGEST_PREFIX, IS_AUDIT_ROW_SQL, LOG_DIGEST_PREFIX } from "./spans/origin";
export type { RowOrigin } from "./spans/origin";
export {
  findTrace,
  findSession,
  findAgentSpans,
  findAgentActions,
  causingInputs,
  findBatchSpans,
  detectSpansOf,
  compareDetectOrder,
  findAuditSpansSince,
  findSessionlessTraceSpans,
  findSpansOfOrigin,
  auditRecordDetails,
  recentRequestDigests,
  countSpans,
} from "./spans/read";
export type { SpanCursor, CausingInput, AuditRecordDetails } from "./spans/read";
export { listAgentSummaries, listSessions } from "./spans/overview";
export type { AgentSummary, SessionSummary, SessionFilter } from "./spans/overview";
export type { StoredSpan, DetectSpan } from "./spans/read";
export {
  insertAlerts,
  findAlerts,
  countAlertsByAgentAndDetector,
  alertsByIds,
  alertsCreatedSince,
  readDetectionCursor,
  advanceDetectionCursor,
  readAuditJudgedUntil,
  saveAuditJudgedUntil,
} from "./alerts/alerts";
export type { Alert, AlertFilter, AlertGroupCount, Severity } from "./alerts/alerts";
export {
  credentialUsers,
  callBuckets,
  sameHourOfWeekHistory,
  hourHistogramBefore,
  seenPairs,
  environmentsFirstSeen,
  weeklySeries,
} from "./activity/activity";
export type { SeenValue, AgentProfile } from "./activity/activity";
export { insertBaselines, latestBaselines, allActivity, allCallBuckets } from "./baselines/baselines";
export type { BaselineSnapshot, VolumeCell, ActivityRow } from "./baselines/baselines";
export {
  insertNotifications,
  findNotification,
  notificationsSince,
  undeliveredNotifications,
  recordAttempt,
  findAttempts,
  deliveriesOfAlert,
  insertSilence,
  listSilences,
  insertAck,
  acksOf,
  disabledReceivers,
  setReceiverState,
  readDispatchCursor,
  advanceDispatchCursor,
} from "./delivery/delivery";
export type { Notification, DeliveryAttempt, DeliveryOutcome, Silence, AlertAck } from "./delivery/delivery";
export { insertTokenRow, listStoredTokens } from "./tokens/tokens";
export type { StoredToken } from "./tokens/tokens";
export { applyRetention, RETENTION_COLUMNS } from "./retention";
export type { Retention, RetentionTable } from "./retention";
export { ledgerOrphanBatches } from "./ledger/recover";
export { prepareReadOnlyQuery, executeReadOnlyQuery, READABLE_TABLES, READ_POLICY } from "./sql/read-only-query";
export type { ReadOnlyLimits, PreparedQuery } from "./sql/read-only-query";
export { SERVICE_USERS, renderUsersSql, renderUsersXml } from "./access/service-users";
export type { ServiceRole, ServiceUser } from "./access/service-users";
export {
  DecisionLog,
  DECISION_CHAIN_PREFIX,
  decisionLine,
  decisionBatchCounts,
  readDecisionLeaves,
} from "./decisions/decision-log";
export { findDecision, listDecisions, usedApprovals } from "./decisions/decisions";
export type { Decision, DecisionEvent, DecisionRow, DecisionStatus } from "./decisions/decisions";
export { sessionsOfTraces, splitTracesOfSessions, tracesInSeveralRequests, traceKey } from "./spans/trace-sessions";
export { MAX_PARAM_VALUES, inSlices } from "./query-params";
