import { IS_AUDIT_ROW_SQL } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";

/** What an agent used of one kind (a tool, a table operation, a host...) in the window. */
export interface ObservedItem {
  value: string;
  calls: number;
  sessions: number;
  firstSeenNs: string;
  lastSeenNs: string;
  /** Up to five sessions that used it: what a reviewer opens to check a one-off use. */
  sampleSessions: string[];
  /** Used too seldom to allow silently: in fewer than `minSessions` sessions. */
  rare: boolean;
  /**
   * Of `calls`, how many the databases' audit logs recorded (the rest the agent reported):
   * a use only the database saw is one the agent's own trace leaves out.
   */
  seenByDatabase: number;
}

export const DIMENSIONS = ["tool", "table", "table_operation", "operation", "host", "credential", "peer"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Everything one agent used in one environment over a window. */
export interface Observed {
  agentId: string;
  environment: string;
  fromMs: number;
  toMs: number;
  timezone: string;
  spans: number;
  /** Of `spans`, the databases' audit records of the agent's database users. */
  auditRecords: number;
  sessions: number;
  firstSeenNs: string | undefined;
  items: Record<Dimension, ObservedItem[]>;
  /** Spans per hour of day in the agent's timezone. */
  hours: number[];
  /** The same hours as items ("00".."23"), with sessions and the rare flag. */
  hourItems: ObservedItem[];
  /** Per credential, the table operations done with it ("table:OPERATION"): what its grants must allow. */
  credentialTableOperations: Record<string, ObservedItem[]>;
}

/**
 * Reads what an agent used in [fromMs, toMs): one pass over its spans (the primary key
 * is agent and time), every fact as (dimension, value) pairs, as the activity view does,
 * but bounded to the window and with session counts. The databases' audit records of
 * the agent's database users are rows of the same table and count alike, so the
 * permissions are complete even where the agent's instrumentation misses statements.
 */
export async function observePermissions(
  client: ClickHouseClient,
  q: { agentId: string; environment: string; fromMs: number; toMs: number; timezone?: string; minSessions?: number },
): Promise<Observed> {
  const timezone = q.timezone ?? "UTC";
  const minSessions = q.minSessions ?? 2;
  const params = {
    agentId: q.agentId,
    environment: q.environment,
    from: q.fromMs,
    to: q.toMs,
    tz: timezone,
  };
  const window = `agent_id = {agentId:String} AND environment = {environment:String}
    AND start_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND start_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
  // The window's rows, each step that names no session counted in its trace's (a session
  // named only on the root): a tool used only by such steps is still used in sessions.
  const spans = `(SELECT tool, kind, outbound_host, credential_id, peer_agent, db_operation, db_tables, start_time, request_digest,
      if(session_id != '', session_id, ts.trace_session) AS session_id
    FROM spans LEFT ANY JOIN (
      SELECT trace_id, argMin(session_id, start_time) AS trace_session FROM trace_sessions
      WHERE agent_id = {agentId:String} AND end_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
        AND start_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
      GROUP BY trace_id) AS ts USING (trace_id)
    WHERE ${window})`;
  const rs = await client.query({
    query: `SELECT d.1 AS dim, d.2 AS val, count() AS calls, uniqExact(session_id) AS sess, countIf(${IS_AUDIT_ROW_SQL}) AS audit,
              toString(toUnixTimestamp64Nano(min(start_time))) AS first_ns, toString(toUnixTimestamp64Nano(max(start_time))) AS last_ns,
              groupUniqArrayIf(5)(session_id, session_id != '') AS sample
            FROM ${spans}
            ARRAY JOIN arrayFilter(x -> x.2 != '', arrayConcat(
              [('tool', tool), ('host', if(kind = 3, outbound_host, '')), ('credential', credential_id), ('peer', peer_agent),
               ('operation', db_operation), ('hour', toString(toHour(start_time, {tz:String})))],
              arrayMap(t -> ('table', t), db_tables),
              arrayMap(t -> ('table_operation', if(db_operation != '', concat(t, ':', db_operation), '')), db_tables),
              arrayMap(t -> ('credential_table_operation',
                if(db_operation != '' AND credential_id != '', concat(credential_id, '|', t, ':', db_operation), '')), db_tables)
            )) AS d
            GROUP BY dim, val
            ORDER BY dim, calls DESC, val`,
    query_params: params,
    format: "JSONEachRow",
  });
  type Row = {
    dim: string;
    val: string;
    calls: string;
    sess: string;
    audit: string;
    first_ns: string;
    last_ns: string;
    sample: string[];
  };
  const rows = await rs.json<Row>();
  const totals = await client.query({
    query: `SELECT count() AS spans, countIf(${IS_AUDIT_ROW_SQL}) AS audit, uniqExactIf(session_id, session_id != '') AS sessions,
              if(count() = 0, '', toString(toUnixTimestamp64Nano(min(start_time)))) AS first_ns
            FROM ${spans}`,
    query_params: params,
    format: "JSONEachRow",
  });
  const [total] = await totals.json<{ spans: string; audit: string; sessions: string; first_ns: string }>();
  const items = Object.fromEntries(DIMENSIONS.map((d) => [d, [] as ObservedItem[]])) as Record<
    Dimension,
    ObservedItem[]
  >;
  const hours = new Array<number>(24).fill(0);
  const hourItems: ObservedItem[] = [];
  const credentialTableOperations: Record<string, ObservedItem[]> = {};
  for (const r of rows) {
    const sessions = Number(r.sess);
    const item: ObservedItem = {
      value: r.val,
      calls: Number(r.calls),
      sessions,
      firstSeenNs: r.first_ns,
      lastSeenNs: r.last_ns,
      sampleSessions: [...r.sample].sort(),
      // Judged by sessions (a one-off session repeating a step is still one use); spans
      // outside sessions count one by one.
      rare: (sessions > 0 ? sessions : Number(r.calls)) < minSessions,
      seenByDatabase: Number(r.audit),
    };
    if (r.dim === "hour") {
      hours[Number(r.val)] = item.calls;
      hourItems.push({ ...item, value: r.val.padStart(2, "0") });
    } else if (r.dim === "credential_table_operation") {
      const [credential, pair] = r.val.split("|") as [string, string];
      (credentialTableOperations[credential] ??= []).push({ ...item, value: pair });
    } else items[r.dim as Dimension].push(item);
  }
  return {
    agentId: q.agentId,
    environment: q.environment,
    fromMs: q.fromMs,
    toMs: q.toMs,
    timezone,
    spans: Number(total?.spans ?? 0),
    auditRecords: Number(total?.audit ?? 0),
    sessions: Number(total?.sessions ?? 0),
    firstSeenNs: total === undefined || total.first_ns === "" ? undefined : total.first_ns,
    items,
    hours,
    hourItems: hourItems.sort((a, b) => a.value.localeCompare(b.value)),
    credentialTableOperations,
  };
}
