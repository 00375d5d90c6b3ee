import type { ClickHouseClient } from "@clickhouse/client";

/** One agent in one environment, as the agents list shows it. */
export interface AgentSummary {
  agentId: string;
  environment: string;
  spans: number;
  firstSeenNs: string;
  lastSeenNs: string;
  alerts24h: number;
}

/**
 * Every agent that has sent spans, with volume, first and last activity (to the 5-minute
 * bucket) and recent alerts. Read from the call counts, which hold every stored step,
 * backfill too (the activity aggregates leave it out).
 */
export async function listAgentSummaries(client: ClickHouseClient, nowMs = Date.now()): Promise<AgentSummary[]> {
  const rs = await client.query({
    query: `SELECT a.agent_id AS agent, a.environment AS env, toString(a.total) AS spans, toString(a.first_ns) AS first_ns,
              toString(a.last_ns) AS last_ns, toString(ifNull(al.n, 0)) AS alerts
            FROM (
              SELECT agent_id, environment, sum(calls) AS total,
                toUnixTimestamp64Nano(toDateTime64(min(bucket), 9, 'UTC')) AS first_ns,
                toUnixTimestamp64Nano(toDateTime64(max(bucket) + 299, 9, 'UTC')) AS last_ns
              FROM agent_calls_5m GROUP BY agent_id, environment
            ) AS a
            LEFT JOIN (
              SELECT agent_id, environment, count() AS n FROM alerts
              WHERE created_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') GROUP BY agent_id, environment
            ) AS al ON al.agent_id = a.agent_id AND al.environment = a.environment
            ORDER BY agent, env
            SETTINGS join_use_nulls = 1`,
    query_params: { since: nowMs - 86_400_000 },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{
    agent: string;
    env: string;
    spans: string;
    first_ns: string;
    last_ns: string;
    alerts: string;
  }>();
  return rows.map((r) => ({
    agentId: r.agent,
    environment: r.env,
    spans: Number(r.spans),
    firstSeenNs: r.first_ns,
    lastSeenNs: r.last_ns,
    alerts24h: Number(r.alerts),
  }));
}

/** A session as the sessions list shows it. */
export interface SessionSummary {
  sessionId: string;
  agentId: string;
  startNs: string;
  endNs: string;
  spans: number;
  alerts: number;
}

export interface SessionFilter {
  agentId?: string | undefined;
  environment?: string | undefined;
  fromNs: string;
  toNs: string;
  hasAlerts?: boolean | undefined;
  /** Text searched (case-insensitive) in the sessions' inputs and span names. */
  text?: string | undefined;
  /** The page starts after this session (sessions are listed newest first). */
  before?: { startNs: string; sessionId: string } | undefined;
  limit: number;
}

/** Sessions overlapping a time range, newest first, filtered; read from the session lookup table. */
export async function listSessions(client: ClickHouseClient, f: SessionFilter): Promise<SessionSummary[]> {
  const where: string[] = [];
  const spanWhere = `start_time >= fromUnixTimestamp64Nano({fromNs:Int64}, 'UTC') AND start_time < fromUnixTimestamp64Nano({toNs:Int64}, 'UTC')${f.agentId === undefined ? "" : " AND agent_id = {agentId:String}"}`;
  if (f.agentId !== undefined) where.push("agent_id = {agentId:String}");
  if (f.environment !== undefined)
    where.push(
      `session_id IN (SELECT session_id FROM spans WHERE ${spanWhere} AND environment = {environment:String})`,
    );
  if (f.text !== undefined)
    where.push(
      `session_id IN (SELECT session_id FROM spans WHERE ${spanWhere} AND (positionCaseInsensitiveUTF8(input, {text:String}) > 0 OR positionCaseInsensitiveUTF8(name, {text:String}) > 0))`,
    );
  const having: string[] = [
    "max(end_time) >= fromUnixTimestamp64Nano({fromNs:Int64}, 'UTC')",
    "min(start_time) < fromUnixTimestamp64Nano({toNs:Int64}, 'UTC')",
  ];
  if (f.before !== undefined)
    having.push(
      "(min(start_time), session_id) < (fromUnixTimestamp64Nano({beforeNs:Int64}, 'UTC'), {beforeSession:String})",
    );
  const rs = await client.query({
    query: `SELECT s.session_id AS session, s.agent_id AS agent, toString(toUnixTimestamp64Nano(s.start)) AS start_ns,
              toString(toUnixTimestamp64Nano(s.end)) AS end_ns, toString(s.spans) AS n, toString(ifNull(al.n, 0)) AS alerts
            FROM (
              SELECT session_id, agent_id, min(start_time) AS start, max(end_time) AS end, sum(spans) AS spans
              FROM span_session_index ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
              GROUP BY session_id, agent_id
              HAVING ${having.join(" AND ")}
            ) AS s
            LEFT JOIN (SELECT session_id, agent_id, count() AS n FROM alerts GROUP BY session_id, agent_id) AS al
              ON al.session_id = s.session_id AND al.agent_id = s.agent_id
            ${f.hasAlerts === true ? "WHERE al.n > 0" : f.hasAlerts === false ? "WHERE ifNull(al.n, 0) = 0" : ""}
            ORDER BY s.start DESC, s.session_id DESC
            LIMIT {limit:UInt32}
            SETTINGS join_use_nulls = 1`,
    query_params: {
      fromNs: f.fromNs,
      toNs: f.toNs,
      limit: f.limit,
      ...(f.agentId === undefined ? {} : { agentId: f.agentId }),
      ...(f.environment === undefined ? {} : { environment: f.environment }),
      ...(f.text === undefined ? {} : { text: f.text }),
      ...(f.before === undefined ? {} : { beforeNs: f.before.startNs, beforeSession: f.before.sessionId }),
    },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{
    session: string;
    agent: string;
    start_ns: string;
    end_ns: string;
    n: string;
    alerts: string;
  }>();
  return rows.map((r) => ({
    sessionId: r.session,
    agentId: r.agent,
    startNs: r.start_ns,
    endNs: r.end_ns,
    spans: Number(r.n),
    alerts: Number(r.alerts),
  }));
}
