import type { Migration } from "../migrations";
import { IS_AUDIT_ROW_SQL, IS_LOG_ROW_SQL } from "../spans/origin";

/**
 * Per-agent activity aggregates, kept by materialized views at insert time so that
 * baselines and novelty checks read a few rows per agent instead of raw spans:
 *
 * - `agent_activity`: for each agent and environment, every value seen per dimension
 *   (tool, table, table:operation, host, credential, credential@host, peer, hour of day),
 *   with first and last event time and a count. "Has this agent ever used X before T?"
 *   is one lookup.
 * - `agent_calls_5m`: span counts per agent and 5-minute bucket of event time, the series
 *   call volume is judged on.
 */
export const ACTIVITY_MIGRATION: Migration = {
  version: 5,
  name: "per-agent activity aggregates",
  statements: [
    `CREATE TABLE IF NOT EXISTS agent_activity (
      agent_id LowCardinality(String),
      environment LowCardinality(String),
      dimension LowCardinality(String),
      value String,
      first_seen SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
      last_seen SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
      calls SimpleAggregateFunction(sum, UInt64)
    ) ENGINE = AggregatingMergeTree
    ORDER BY (agent_id, environment, dimension, value)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS agent_activity_mv TO agent_activity AS
    SELECT agent_id, environment, d.1 AS dimension, d.2 AS value,
      min(start_time) AS first_seen, max(start_time) AS last_seen, count() AS calls
    FROM spans
    ARRAY JOIN arrayFilter(x -> x.2 != '', arrayConcat(
      [('tool', tool), ('host', outbound_host), ('credential', credential_id), ('peer', peer_agent),
       ('credential_host', if(credential_id != '' AND outbound_host != '', concat(credential_id, '@', outbound_host), '')),
       ('hour', toString(toHour(start_time))),
       ('credential_hour', if(credential_id != '', concat(credential_id, '@', toString(toHour(start_time))), ''))],
      arrayMap(t -> ('table', t), db_tables),
      arrayMap(t -> ('table_operation', if(db_operation != '', concat(t, ':', db_operation), '')), db_tables)
    )) AS d
    GROUP BY agent_id, environment, dimension, value`,
    `CREATE TABLE IF NOT EXISTS agent_calls_5m (
      agent_id LowCardinality(String),
      environment LowCardinality(String),
      bucket DateTime('UTC'),
      calls SimpleAggregateFunction(sum, UInt64)
    ) ENGINE = AggregatingMergeTree
    PARTITION BY toYYYYMM(bucket)
    ORDER BY (agent_id, environment, bucket)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS agent_calls_5m_mv TO agent_calls_5m AS
    SELECT agent_id, environment, toStartOfFiveMinutes(start_time) AS bucket, count() AS calls
    FROM spans GROUP BY agent_id, environment, bucket`,
  ],
};

/** What the aggregates of a row say about where it came from: an agent's report or a database's record. */
const ORIGIN_SQL = `if(${IS_AUDIT_ROW_SQL}, 'db-audit', 'agent')`;

/**
 * The aggregates kept apart by origin: what an agent reported and what its databases'
 * audit logs saw are two histories of the same agent. Learned detectors judge each
 * against its own, so a database user at work while its agent reports nothing is still
 * judged (new table, new operation, off hours, volume), and audit records do not make a
 * table "already known" to the agent's reported history. Rows aggregated before this
 * migration have an empty origin and count as the agent's.
 *
 * The key gains the column in the same ALTER that adds it (the only way ClickHouse
 * extends a sorting key), and the views change their query in place, without a moment
 * in which an INSERT into spans feeds no view.
 */
export const ACTIVITY_BY_ORIGIN_MIGRATION: Migration = {
  version: 11,
  name: "activity aggregates kept apart by origin",
  statements: [
    `ALTER TABLE agent_activity ADD COLUMN IF NOT EXISTS origin LowCardinality(String),
      MODIFY ORDER BY (agent_id, environment, dimension, value, origin)`,
    `ALTER TABLE agent_calls_5m ADD COLUMN IF NOT EXISTS origin LowCardinality(String),
      MODIFY ORDER BY (agent_id, environment, bucket, origin)`,
    activityViewQuery(""),
    callsViewQuery(""),
  ],
};

/** The activity view's query by origin (migration 11), over the rows `where` keeps. */
function activityViewQuery(where: string): string {
  return `ALTER TABLE agent_activity_mv MODIFY QUERY
    SELECT agent_id, environment, d.1 AS dimension, d.2 AS value, ${ORIGIN_SQL} AS origin,
      min(start_time) AS first_seen, max(start_time) AS last_seen, count() AS calls
    FROM spans
    ARRAY JOIN arrayFilter(x -> x.2 != '', arrayConcat(
      [('tool', tool), ('host', outbound_host), ('credential', credential_id), ('peer', peer_agent),
       ('credential_host', if(credential_id != '' AND outbound_host != '', concat(credential_id, '@', outbound_host), '')),
       ('hour', toString(toHour(start_time))),
       ('credential_hour', if(credential_id != '', concat(credential_id, '@', toString(toHour(start_time))), ''))],
      arrayMap(t -> ('table', t), db_tables),
      arrayMap(t -> ('table_operation', if(db_operation != '', concat(t, ':', db_operation), '')), db_tables)
    )) AS d
    ${where}GROUP BY agent_id, environment, dimension, value, origin`;
}

/** The call-volume view's query by origin (migration 11), over the rows `where` keeps. */
function callsViewQuery(where: string): string {
  return `ALTER TABLE agent_calls_5m_mv MODIFY QUERY
    SELECT agent_id, environment, toStartOfFiveMinutes(start_time) AS bucket, ${ORIGIN_SQL} AS origin, count() AS calls
    FROM spans ${where}GROUP BY agent_id, environment, bucket, origin`;
}

/**
 * Judge by what Vigil saw when it saw it. A step an agent sends far from the time it
 * states (backdated into an agent's first days, or dated ahead) is stored, searchable and
 * judged, but is kept out of the aggregates: it cannot end learning, make a tool or host
 * "already seen" before its real first use, or train the hours and volume baselines.
 * (The call counts keep it, marked, so its own bucket is judged with it.)
 * History an administrator imports (POST /v1/import/traces) is not backfill and counts.
 */
export const BACKFILL_MIGRATION: Migration = {
  version: 16,
  name: "backfill kept out of the activity aggregates",
  statements: [
    activityViewQuery("WHERE NOT backfill\n    "),
    // Call counts keep backfill apart instead: a backdated burst is still a burst to judge
    // (call_volume counts every step in its bucket), while history reads only live rows.
    `ALTER TABLE agent_calls_5m ADD COLUMN IF NOT EXISTS backfill Bool,
      MODIFY ORDER BY (agent_id, environment, bucket, origin, backfill)`,
    `ALTER TABLE agent_calls_5m_mv MODIFY QUERY
    SELECT agent_id, environment, toStartOfFiveMinutes(start_time) AS bucket, ${ORIGIN_SQL} AS origin, backfill,
      count() AS calls
    FROM spans GROUP BY agent_id, environment, bucket, origin, backfill`,
  ],
};

/**
 * The aggregates count steps. An agent's log records (GenAI message events beside its
 * model calls, POST /v1/logs) are stored and judged with its spans, but would double
 * its call volume and hours if counted as steps of their own.
 */
export const LOG_RECORDS_MIGRATION: Migration = {
  version: 17,
  name: "agents' log records kept out of the activity aggregates",
  statements: [
    activityViewQuery(`WHERE NOT backfill AND NOT ${IS_LOG_ROW_SQL}\n    `),
    `ALTER TABLE agent_calls_5m_mv MODIFY QUERY
    SELECT agent_id, environment, toStartOfFiveMinutes(start_time) AS bucket, ${ORIGIN_SQL} AS origin, backfill,
      count() AS calls
    FROM spans WHERE NOT ${IS_LOG_ROW_SQL} GROUP BY agent_id, environment, bucket, origin, backfill`,
  ],
};

/**
 * SQL over agent_activity or agent_calls_5m: 1 for the aggregate rows of one origin,
 * the origin given as the Bool query parameter `observed` (true: databases' records).
 */
export const ORIGIN_FILTER_SQL = "((origin = 'db-audit') = {observed:Bool})";
