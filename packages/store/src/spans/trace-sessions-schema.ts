import type { Migration } from "../migrations";

/**
 * Which session each (agent, trace) belongs to, filled by a materialized view from every
 * span that names a session. Agents often set the session only on a trace's root span,
 * and OpenTelemetry's batch processor exports a trace's children before their root, in
 * an earlier request, so the children are stored without one. Stored rows are never
 * rewritten: readers and detection resolve a session-less span's session through this
 * table, whatever order the spans arrived in.
 *
 * Spans stored before this migration are not in it: filling it would scan every stored
 * span at upgrade, for traces whose sessions the per-request inheritance mostly found.
 *
 * Per agent (another agent naming the same trace id cannot pull an agent's steps into
 * its session), ordered for "the traces of these sessions of an agent", with a bloom
 * filter for "the session of these traces".
 */
export const TRACE_SESSIONS_TABLE = `
CREATE TABLE IF NOT EXISTS trace_sessions (
  agent_id LowCardinality(String),
  session_id String CODEC(ZSTD(1)),
  trace_id String CODEC(ZSTD(1)),
  start_time DateTime64(9, 'UTC'),
  end_time DateTime64(9, 'UTC'),
  INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(start_time)
ORDER BY (agent_id, session_id, trace_id)`;

const TRACE_SESSIONS_QUERY = `
SELECT agent_id, session_id, trace_id, min(start_time) AS start_time, max(end_time) AS end_time
FROM spans WHERE session_id != '' GROUP BY agent_id, session_id, trace_id`;

export const TRACE_SESSIONS_MIGRATION: Migration = {
  version: 14,
  name: "trace to session lookup table",
  statements: [
    TRACE_SESSIONS_TABLE,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS trace_sessions_mv TO trace_sessions AS ${TRACE_SESSIONS_QUERY}`,
    // As the other views (migration 9): run with the migrate user's rights, not the inserter's.
    "ALTER TABLE trace_sessions_mv MODIFY SQL SECURITY DEFINER DEFINER = CURRENT_USER",
  ],
};
