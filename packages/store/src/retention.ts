import type { ClickHouseClient } from "@clickhouse/client";

/**
 * Retention, per table, as ClickHouse TTLs: rows older than the configured number of
 * days are removed by the engine during merges. Spans expire by the time Vigil received
 * them (the ledger's clock), so `verifyStore` can tell an expired batch from a deleted
 * one. Without a setting a table keeps everything.
 */
export const RETENTION_COLUMNS = {
  spans: "received_at",
  span_trace_index: "end_time",
  span_session_index: "end_time",
  trace_sessions: "end_time",
  alerts: "created_at",
  notifications: "created_at",
  delivery_attempts: "at",
  agent_calls_5m: "bucket",
  agent_baselines: "built_at",
} as const;

export type RetentionTable = keyof typeof RETENTION_COLUMNS;
export type Retention = { [T in RetentionTable]?: number | undefined };

/** Sets (or removes) each table's TTL to match the configuration; idempotent. */
export async function applyRetention(
  client: ClickHouseClient,
  retention: Retention,
  options: { cluster?: string } = {},
): Promise<void> {
  // The lookup tables follow the spans unless configured on their own.
  const days: Retention = {
    ...(retention.spans === undefined
      ? {}
      : { span_trace_index: retention.spans, span_session_index: retention.spans, trace_sessions: retention.spans }),
    ...retention,
  };
  // REMOVE TTL on a table that has none is an error in ClickHouse, so only tables that
  // have one are asked to drop it; every other failure (a missing grant) is raised.
  const withTtl = await tablesWithTtl(client, options.cluster === undefined ? "" : "_local");
  for (const [table, column] of Object.entries(RETENTION_COLUMNS) as Array<[RetentionTable, string]>) {
    if (table === "agent_baselines" && days[table] === undefined) continue; // keeps its own 30-day TTL
    const target = options.cluster === undefined ? table : `${table}_local ON CLUSTER '${options.cluster}'`;
    const n = days[table];
    if (n === undefined && !withTtl.has(table)) continue;
    const query =
      n === undefined
        ? `ALTER TABLE ${target} REMOVE TTL`
        : `ALTER TABLE ${target} MODIFY TTL toDateTime(${column}) + INTERVAL ${Math.floor(n)} DAY`;
    await client.command({ query });
  }
}

/** The retention tables whose definition holds a table TTL now. */
async function tablesWithTtl(client: ClickHouseClient, suffix: string): Promise<Set<string>> {
  const rs = await client.query({
    query: `SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}`,
    query_params: { names: Object.keys(RETENTION_COLUMNS).map((t) => t + suffix) },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ name: string; engine_full: string }>();
  return new Set(
    rows.filter((r) => /\bTTL\b/.test(r.engine_full)).map((r) => r.name.slice(0, r.name.length - suffix.length)),
  );
}
