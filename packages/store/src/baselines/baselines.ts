import type { ClickHouseClient } from "@clickhouse/client";
import type { SeenValue } from "../activity/activity";
import { ORIGIN_FILTER_SQL } from "../activity/schema";

/** Calls per 5-minute bucket at one hour of the week, over the same hour in earlier weeks. */
export interface VolumeCell {
  /** The hour (epoch seconds) these statistics judge: its earlier weeks are the samples. */
  hourStartSec: number;
  median: number;
  /** Median absolute deviation scaled to a standard deviation. */
  sigma: number;
  /** Five-minute buckets the statistics were computed over (0: no history yet). */
  samples: number;
}

/** What one agent normally does in one environment, as of `builtAtMs`. */
export interface BaselineSnapshot {
  agentId: string;
  environment: string;
  builtAtMs: number;
  firstSeenNs: string;
  lastSeenNs: string;
  spans: number;
  /** Learned detectors stay silent while an agent learns; the reason says what is missing. */
  learning: boolean;
  learningReason: string;
  /** Spans per UTC hour of day (24 entries). */
  hours: number[];
  /** 168 cells, one per hour of the week, Monday 00:00 UTC first. */
  volume: VolumeCell[];
  /** Per dimension (tool, table, table_operation, host, credential, credential_host, peer), the values seen. */
  dimensions: Record<string, SeenValue[]>;
}

interface BaselineRow {
  agent_id: string;
  environment: string;
  built_ms: string;
  first_ns: string;
  last_ns: string;
  spans: string;
  learning: number;
  learning_reason: string;
  hours: string[];
  volume: string;
  dimensions: string;
}

export async function insertBaselines(client: ClickHouseClient, snapshots: readonly BaselineSnapshot[]): Promise<void> {
  if (snapshots.length === 0) return;
  await client.insert({
    table: "agent_baselines",
    format: "JSONEachRow",
    values: snapshots.map((b) => ({
      agent_id: b.agentId,
      environment: b.environment,
      built_at: String(b.builtAtMs),
      first_seen: b.firstSeenNs,
      last_seen: b.lastSeenNs,
      spans: String(b.spans),
      learning: b.learning ? 1 : 0,
      learning_reason: b.learningReason,
      hours: b.hours.map(String),
      volume: JSON.stringify(b.volume),
      dimensions: JSON.stringify(b.dimensions),
    })),
  });
}

/** The latest snapshot of every agent and environment (or of one agent). */
export async function latestBaselines(client: ClickHouseClient, agentId?: string): Promise<BaselineSnapshot[]> {
  const rs = await client.query({
    query: `SELECT agent_id, environment, toString(toUnixTimestamp64Milli(built_at)) AS built_ms,
              toString(toUnixTimestamp64Nano(first_seen)) AS first_ns, toString(toUnixTimestamp64Nano(last_seen)) AS last_ns,
              toString(spans) AS spans, learning, learning_reason, arrayMap(x -> toString(x), hours) AS hours, volume, dimensions
            FROM agent_baselines
            ${agentId === undefined ? "" : "WHERE agent_id = {agentId:String}"}
            ORDER BY agent_id, environment, built_at DESC
            LIMIT 1 BY agent_id, environment`,
    query_params: agentId === undefined ? {} : { agentId },
    format: "JSONEachRow",
  });
  return (await rs.json<BaselineRow>()).map((r) => ({
    agentId: r.agent_id,
    environment: r.environment,
    builtAtMs: Number(r.built_ms),
    firstSeenNs: r.first_ns,
    lastSeenNs: r.last_ns,
    spans: Number(r.spans),
    learning: r.learning === 1,
    learningReason: r.learning_reason,
    hours: r.hours.map(Number),
    volume: JSON.parse(r.volume) as VolumeCell[],
    dimensions: JSON.parse(r.dimensions) as Record<string, SeenValue[]>,
  }));
}

/** One aggregated row of agent_activity: a value of a dimension an agent has used. */
export interface ActivityRow extends SeenValue {
  agentId: string;
  environment: string;
  dimension: string;
}

/** Every agent's aggregated activity (one read for a whole rebuild; per-credential hours left out). */
export async function allActivity(client: ClickHouseClient): Promise<ActivityRow[]> {
  const rs = await client.query({
    query: `SELECT agent_id AS agent, environment AS env, dimension AS dim, value AS val,
              toString(toUnixTimestamp64Nano(min(first_seen))) AS first_ns,
              toString(toUnixTimestamp64Nano(max(last_seen))) AS last_ns, toString(sum(calls)) AS total
            FROM agent_activity WHERE ${ORIGIN_FILTER_SQL} AND dimension != 'credential_hour'
            GROUP BY agent_id, environment, dimension, value`,
    query_params: { observed: false },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{
    agent: string;
    env: string;
    dim: string;
    val: string;
    first_ns: string;
    last_ns: string;
    total: string;
  }>();
  return rows.map((r) => ({
    agentId: r.agent,
    environment: r.env,
    dimension: r.dim,
    value: r.val,
    firstSeenNs: r.first_ns,
    lastSeenNs: r.last_ns,
    calls: Number(r.total),
  }));
}

/** Every agent's non-empty 5-minute buckets in [fromSec, toSec). */
export async function allCallBuckets(
  client: ClickHouseClient,
  fromSec: number,
  toSec: number,
): Promise<Array<{ agentId: string; environment: string; bucketSec: number; calls: number }>> {
  const rs = await client.query({
    query: `SELECT agent_id AS agent, environment AS env, toUnixTimestamp(bucket) AS b, toString(sum(calls)) AS n
            FROM agent_calls_5m
            WHERE ${ORIGIN_FILTER_SQL} AND NOT backfill
              AND bucket >= toDateTime({from:UInt32}, 'UTC') AND bucket < toDateTime({to:UInt32}, 'UTC')
            GROUP BY agent_id, environment, b`,
    query_params: { observed: false, from: fromSec, to: toSec },
    format: "JSONEachRow",
  });
  return (await rs.json<{ agent: string; env: string; b: number; n: string }>()).map((r) => ({
    agentId: r.agent,
    environment: r.env,
    bucketSec: Number(r.b),
    calls: Number(r.n),
  }));
}
