import type { Migration } from "../migrations";

/**
 * Baseline snapshots: what each agent normally does, rebuilt from the activity
 * aggregates on a schedule and on demand. Insert-only like everything else: a rebuild
 * adds a new snapshot and readers take the latest one per agent and environment, so the
 * history of baselines is itself kept (for 30 days; it is derived data, not evidence).
 */
export const BASELINES_MIGRATION: Migration = {
  version: 6,
  name: "baseline snapshots",
  statements: [
    `CREATE TABLE IF NOT EXISTS agent_baselines (
      agent_id LowCardinality(String),
      environment LowCardinality(String),
      built_at DateTime64(3, 'UTC'),
      first_seen DateTime64(9, 'UTC'),
      last_seen DateTime64(9, 'UTC'),
      spans UInt64,
      learning UInt8,
      learning_reason String,
      hours Array(UInt64) COMMENT 'spans per UTC hour of day, 24 entries',
      volume String COMMENT 'JSON: 168 cells, one per hour of week (Monday 00 UTC first), of 5-minute call statistics',
      dimensions String COMMENT 'JSON: per dimension, the values seen with counts and first and last event time'
    ) ENGINE = MergeTree
    ORDER BY (agent_id, environment, built_at)
    TTL toDateTime(built_at) + INTERVAL 30 DAY`,
  ],
};
