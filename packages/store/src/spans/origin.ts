/**
 * Where a stored row came from. Agents' spans and databases' audit records share the
 * spans table (one store, one ledger, one redaction path); what tells them apart is the
 * request digest, which only ingest writes: an agent request's is hex, an audit record's
 * starts with this prefix. The agent chooses everything in its spans but not this.
 */
export const AUDIT_DIGEST_PREFIX = "db-audit:";

/**
 * The request digest prefix of an agent's log records (POST /v1/logs with its token):
 * they are the agent's own report, judged like its spans, and shown as log records.
 */
export const LOG_DIGEST_PREFIX = "log:";

export type RowOrigin = "agent" | "db-audit";

/** SQL: 1 for rows that are database audit records (the spans table's columns in scope). */
export const IS_AUDIT_ROW_SQL = `startsWith(request_digest, '${AUDIT_DIGEST_PREFIX}')`;

/** SQL: 1 for rows that are an agent's log records. */
export const IS_LOG_ROW_SQL = `startsWith(request_digest, '${LOG_DIGEST_PREFIX}')`;
