import type { Migration } from "../migrations";

/**
 * Alerts, insert-only like everything else. An alert's id is derived from what it is
 * about (detector and spans), so examining a batch twice after a crash cannot store the
 * same alert twice. The detection cursor records, per ledger chain, the last batch every
 * detector has examined: detection resumes from it whatever happened to the queue.
 */
export const ALERTS_MIGRATION: Migration = {
  version: 4,
  name: "alerts and detection cursor",
  statements: [
    `CREATE TABLE IF NOT EXISTS alerts (
      alert_id String,
      created_at DateTime64(3, 'UTC'),
      event_time DateTime64(9, 'UTC') COMMENT 'start of the span that triggered the alert (event time)',
      detector LowCardinality(String),
      severity LowCardinality(String),
      score UInt8,
      agent_id LowCardinality(String),
      environment LowCardinality(String),
      session_id String,
      trace_id String,
      span_ids Array(String),
      summary String,
      explanation String,
      evidence String COMMENT 'JSON: the offending values and what they were compared with',
      input String COMMENT 'the input that caused the step (redacted)',
      credentials Array(String) COMMENT 'credential ids or fingerprints involved: the ones to rotate',
      fingerprint String COMMENT 'dedup and grouping key: detector, agent and subject',
      INDEX idx_alert_id alert_id TYPE bloom_filter(0.001) GRANULARITY 1
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(event_time)
    ORDER BY (agent_id, event_time, alert_id)`,
    `CREATE TABLE IF NOT EXISTS detection_cursor (
      chain_id LowCardinality(String),
      seq UInt64,
      updated_at DateTime64(3, 'UTC')
    ) ENGINE = MergeTree ORDER BY (chain_id, seq)`,
  ],
};

/** Where the audit judge has judged up to, so a restart judges every record once its window has passed. */
export const AUDIT_JUDGE_CURSOR_MIGRATION: Migration = {
  version: 12,
  name: "audit judge cursor",
  statements: [
    `CREATE TABLE IF NOT EXISTS audit_judge_cursor (
      until_ms UInt64 COMMENT 'every audit record received before this (epoch ms) is judged',
      updated_at DateTime64(3, 'UTC')
    ) ENGINE = MergeTree ORDER BY updated_at
    TTL toDateTime(updated_at) + INTERVAL 30 DAY`,
  ],
};
