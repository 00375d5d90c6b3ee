import type { ClickHouseClient } from "@clickhouse/client";
import type { RowOrigin } from "../spans/origin";
import { ORIGIN_FILTER_SQL } from "./schema";

/** What an agent's history says about one value of one dimension. */
export interface SeenValue {
  value: string;
  firstSeenNs: string;
  lastSeenNs: string;
  calls: number;
}

/** For each credential, every agent that has used it, with when it first did (any environment); one read. */
export async function credentialUsers(
  client: ClickHouseClient,
  credentialIds: readonly string[],
  /** Whose history: what the agent reported (default) or what its databases saw. */
  origin: RowOrigin = "agent",
): Promise<Map<string, SeenValue[]>> {
  const out = new Map<string, SeenValue[]>();
  if (credentialIds.length === 0) return out;
  const rs = await client.query({
    // The aliases are not "value": in ClickHouse an alias would shadow the column in WHERE.
    query: `SELECT value AS credential, agent_id AS agent, toString(toUnixTimestamp64Nano(min(first_seen))) AS first_ns,
              toString(toUnixTimestamp64Nano(max(last_seen))) AS last_ns, toString(sum(calls)) AS total
            FROM agent_activity WHERE ${ORIGIN_FILTER_SQL} AND dimension = 'credential' AND value IN {credentialIds:Array(String)}
            GROUP BY value, agent_id`,
    query_params: { observed: origin === "db-audit", credentialIds },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ credential: string; agent: string; first_ns: string; last_ns: string; total: string }>();
  for (const r of rows) {
    const users = out.get(r.credential) ?? [];
    users.push({ value: r.agent, firstSeenNs: r.first_ns, lastSeenNs: r.last_ns, calls: Number(r.total) });
    out.set(r.credential, users);
  }
  return out;
}

/** An agent's overall history in one environment: when it started, how much, and when in the day. */
export interface AgentProfile {
  firstSeenNs: string | undefined;
  spans: number;
  /** Spans per UTC hour of day (24 entries). */
  byHour: number[];
}

/**
 * Calls per 5-minute bucket for one agent: the buckets asked for, and the history used
 * to judge them (the same hour of the week in earlier weeks, before `beforeNs`).
 */
export async function callBuckets(
  client: ClickHouseClient,
  agentId: string,
  environment: string,
  bucketsSec: readonly number[],
  /** Whose history: what the agent reported (default) or what its databases saw. */
  origin: RowOrigin = "agent",
): Promise<Map<number, number>> {
  if (bucketsSec.length === 0) return new Map();
  const rs = await client.query({
    query: `SELECT toUnixTimestamp(bucket) AS b, toString(sum(calls)) AS n FROM agent_calls_5m
            WHERE ${ORIGIN_FILTER_SQL} AND agent_id = {agentId:String} AND environment = {environment:String}
              AND bucket IN (SELECT toDateTime(arrayJoin({buckets:Array(UInt32)}), 'UTC'))
            GROUP BY b`,
    query_params: { observed: origin === "db-audit", agentId, environment, buckets: bucketsSec },
    format: "JSONEachRow",
  });
  return new Map((await rs.json<{ b: number; n: string }>()).map((r) => [Number(r.b), Number(r.n)]));
}

/**
 * The 5-minute call counts of earlier weeks at the same hour of the week as `bucketSec`
 * (the 12 buckets of that hour in each of up to `weeks` weeks; empty buckets count 0
 * once the agent was active that week).
 */
export async function sameHourOfWeekHistory(
  client: ClickHouseClient,
  agentId: string,
  environment: string,
  bucketSec: number,
  weeks: number,
  /** Whose history: what the agent reported (default) or what its databases saw. */
  origin: RowOrigin = "agent",
): Promise<number[]> {
  const hourStart = bucketSec - (bucketSec % 3600);
  const rs = await client.query({
    query: `SELECT toUnixTimestamp(bucket) AS b, toString(sum(calls)) AS n FROM agent_calls_5m
            WHERE ${ORIGIN_FILTER_SQL} AND NOT backfill AND agent_id = {agentId:String} AND environment = {environment:String}
              AND bucket >= toDateTime({from:UInt32}, 'UTC') AND bucket < toDateTime({to:UInt32}, 'UTC')
              AND toDayOfWeek(bucket) = toDayOfWeek(toDateTime({hour:UInt32}, 'UTC')) AND toHour(bucket) = toHour(toDateTime({hour:UInt32}, 'UTC'))
            GROUP BY b`,
    query_params: {
      observed: origin === "db-audit",
      agentId,
      environment,
      from: hourStart - weeks * 7 * 86400,
      to: hourStart,
      hour: hourStart,
    },
    format: "JSONEachRow",
  });
  const counts = new Map((await rs.json<{ b: number; n: string }>()).map((r) => [Number(r.b), Number(r.n)]));
  return weeklySeries(counts, hourStart, weeks);
}

/**
 * The 12 five-minute counts of the hour `hourStartSec` in each of the `weeks` weeks
 * before it, from bucket counts keyed by bucket start (epoch seconds), most recent week
 * first. Weeks before the agent's first activity at that hour of the week are left out,
 * so a new agent is not judged against weeks in which it did not exist.
 */
export function weeklySeries(counts: ReadonlyMap<number, number>, hourStartSec: number, weeks: number): number[] {
  const perWeek: number[][] = [];
  for (let w = 1; w <= weeks; w++) {
    const start = hourStartSec - w * 7 * 86400;
    const week: number[] = [];
    for (let i = 0; i < 12; i++) week.push(counts.get(start + i * 300) ?? 0);
    perWeek.push(week);
  }
  // Drop the oldest weeks with no activity at all: the agent did not exist yet.
  while (perWeek.length > 0 && (perWeek.at(-1) as number[]).every((n) => n === 0)) perWeek.pop();
  return perWeek.flat();
}

/**
 * An agent's spans per UTC hour of day (24 entries) from its 5-minute call series,
 * counting only buckets before `beforeSec`: history as it stood before a point in event
 * time, whatever has been ingested since.
 */
export async function hourHistogramBefore(
  client: ClickHouseClient,
  agentId: string,
  environment: string,
  beforeSec: number,
  /** Whose history: what the agent reported (default) or what its databases saw. */
  origin: RowOrigin = "agent",
): Promise<number[]> {
  const rs = await client.query({
    query: `SELECT toHour(bucket) AS h, toString(sum(calls)) AS n FROM agent_calls_5m
            WHERE ${ORIGIN_FILTER_SQL} AND NOT backfill AND agent_id = {agentId:String} AND environment = {environment:String}
              AND bucket < toDateTime({before:UInt32}, 'UTC')
            GROUP BY h`,
    query_params: { observed: origin === "db-audit", agentId, environment, before: beforeSec },
    format: "JSONEachRow",
  });
  const byHour = new Array<number>(24).fill(0);
  for (const r of await rs.json<{ h: number; n: string }>()) byHour[Number(r.h)] = Number(r.n);
  return byHour;
}

/** The history of many (dimension, value) pairs of one agent and environment, in one read. */
export async function seenPairs(
  client: ClickHouseClient,
  agentId: string,
  /** One environment, or undefined for all of the agent's environments together. */
  environment: string | undefined,
  pairs: ReadonlyArray<readonly [string, string]>,
  /** Whose history: what the agent reported (default) or what its databases saw. */
  origin: RowOrigin = "agent",
): Promise<Map<string, SeenValue>> {
  if (pairs.length === 0) return new Map();
  const rs = await client.query({
    query: `SELECT dimension AS dim, value AS val, toString(toUnixTimestamp64Nano(min(first_seen))) AS first_ns,
              toString(toUnixTimestamp64Nano(max(last_seen))) AS last_ns, toString(sum(calls)) AS total
            FROM agent_activity
            WHERE ${ORIGIN_FILTER_SQL} AND agent_id = {agentId:String} ${environment === undefined ? "" : "AND environment = {environment:String}"}
              AND concat(dimension, '\\n', value) IN {keys:Array(String)}
            GROUP BY dimension, value`,
    // Pairs travel as "dimension\nvalue" strings: tuple parameters are not bound alike in both placements.
    query_params: {
      observed: origin === "db-audit",
      agentId,
      environment: environment ?? "",
      keys: pairs.map(([d, v]) => `${d}\n${v}`),
    },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ dim: string; val: string; first_ns: string; last_ns: string; total: string }>();
  return new Map(
    rows.map((r) => [
      `${r.dim}\n${r.val}`,
      { value: r.val, firstSeenNs: r.first_ns, lastSeenNs: r.last_ns, calls: Number(r.total) },
    ]),
  );
}

/** When the agent was first seen in each of its environments (event time, ns). */
export async function environmentsFirstSeen(
  client: ClickHouseClient,
  agentId: string,
  /** Whose history: what the agent reported (default) or what its databases saw. */
  origin: RowOrigin = "agent",
): Promise<Map<string, string>> {
  const rs = await client.query({
    query: `SELECT environment AS env, toString(toUnixTimestamp64Nano(min(first_seen))) AS first_ns
            FROM agent_activity WHERE ${ORIGIN_FILTER_SQL} AND agent_id = {agentId:String} AND dimension = 'hour' GROUP BY environment`,
    query_params: { observed: origin === "db-audit", agentId },
    format: "JSONEachRow",
  });
  return new Map((await rs.json<{ env: string; first_ns: string }>()).map((r) => [r.env, r.first_ns]));
}
