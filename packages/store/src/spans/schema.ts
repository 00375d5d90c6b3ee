import type { Migration } from "../migrations";
import { spanColumnDefinitions } from "./columns";

/**
 * The span store. Insert-only: no code path updates, deletes, truncates or drops span
 * data; retention is a TTL that operators add.
 *
 * - ORDER BY (agent_id, start_time) serves the main question, "one agent over a time
 *   range", straight from the primary key.
 * - One session and one trace are found through small lookup tables filled by
 *   materialized views (as the OTel ClickHouse exporter does for trace ids): they give
 *   the agents and time range to read, so the span read uses the primary key too, and
 *   bloom filters on trace_id and session_id skip the granules that do not match.
 * - Daily partitions on event time, so retention drops whole parts.
 * - Attributes, events and links are kept losslessly as OTLP/JSON text in one String
 *   each, exact for every AnyValue type; the typed security facts live in their own
 *   columns, which is what queries filter and group on.
 * - The columns are the catalogue's (spans/columns.ts): a store created before a column
 *   was added gets it from runMigrations, not from a migration of its own.
 */
export const SPANS_TABLE = `
CREATE TABLE IF NOT EXISTS spans (
${spanColumnDefinitions()
  .map((c) => `  ${c.definition},`)
  .join("\n")}
  INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_received_at received_at TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(start_time)
ORDER BY (agent_id, start_time)
SETTINGS index_granularity = 8192`;

/** Where each trace lives: its agents and time range, one row per trace per insert block (per request since migration 18). */
export const TRACE_INDEX_TABLE = `
CREATE TABLE IF NOT EXISTS span_trace_index (
  trace_id String CODEC(ZSTD(1)),
  agent_id LowCardinality(String),
  start_time DateTime64(9, 'UTC'),
  end_time DateTime64(9, 'UTC')
) ENGINE = MergeTree
PARTITION BY toDate(start_time)
ORDER BY (trace_id, agent_id)`;

export const TRACE_INDEX_VIEW = `
CREATE MATERIALIZED VIEW IF NOT EXISTS span_trace_index_mv TO span_trace_index AS
SELECT trace_id, agent_id, min(start_time) AS start_time, max(end_time) AS end_time
FROM spans GROUP BY trace_id, agent_id`;

/** Where each session lives, like the trace index. */
export const SESSION_INDEX_TABLE = `
CREATE TABLE IF NOT EXISTS span_session_index (
  session_id String CODEC(ZSTD(1)),
  agent_id LowCardinality(String),
  start_time DateTime64(9, 'UTC'),
  end_time DateTime64(9, 'UTC'),
  spans UInt64
) ENGINE = MergeTree
PARTITION BY toDate(start_time)
ORDER BY (session_id, agent_id)`;

export const SESSION_INDEX_VIEW = `
CREATE MATERIALIZED VIEW IF NOT EXISTS span_session_index_mv TO span_session_index AS
SELECT session_id, agent_id, min(start_time) AS start_time, max(end_time) AS end_time, count() AS spans
FROM spans WHERE session_id != '' GROUP BY session_id, agent_id`;

export const SPANS_MIGRATION: Migration = {
  version: 1,
  name: "spans with trace and session lookup tables",
  statements: [SPANS_TABLE, TRACE_INDEX_TABLE, TRACE_INDEX_VIEW, SESSION_INDEX_TABLE, SESSION_INDEX_VIEW],
};

/**
 * Wider merges of the spans table. Ingest's group commit writes parts of a few thousand
 * rows (what arrives while the previous INSERT runs), and with the default merge selector
 * each row was rewritten by merges about twice as often as with this one: at 3,393-row
 * inserts the engine spent 31 µs of merge CPU per row, 18 µs with a base of 10, and the
 * active parts settled at the same count (bench/raw-insert.ts with the setting applied,
 * 20 s of inserts plus 20 s for merges to settle). A base of 20 cut more (12 µs) but left
 * twice the parts for every query to open.
 */
export const SPANS_MERGES_MIGRATION: Migration = {
  version: 13,
  name: "wider merges of the spans table",
  statements: ["ALTER TABLE spans MODIFY SETTING merge_selector_base = 10"],
};

/**
 * The trace index counts requests, not inserts: group commit puts several agents'
 * requests in one INSERT, and a trace whose root came in one request and its children
 * (or its log records) in another is still split, however they were committed. Readers
 * that look for a split trace's session-less steps (trace-sessions.ts) depend on it.
 * A request's rows of one trace give one index row, as one insert's did.
 */
export const TRACE_INDEX_PER_REQUEST_MIGRATION: Migration = {
  version: 18,
  name: "trace index rows per request",
  statements: [
    `ALTER TABLE span_trace_index_mv MODIFY QUERY
    SELECT trace_id, agent_id, min(start_time) AS start_time, max(end_time) AS end_time
    FROM spans GROUP BY trace_id, agent_id, request_digest`,
  ],
};
