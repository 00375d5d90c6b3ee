import type { ClickHouseClient } from "@clickhouse/client";
import { maxSeqPerChain } from "../ledger/ledger";

export type Severity = "info" | "low" | "medium" | "high" | "critical";

/** An alert as detectors raise it and the API shows it. */
export interface Alert {
  alertId: string;
  createdAtMs: number;
  /** Nanoseconds since the epoch, as a decimal string: the triggering span's start. */
  eventTimeNs: string;
  detector: string;
  severity: Severity;
  score: number;
  agentId: string;
  environment: string;
  sessionId: string;
  traceId: string;
  spanIds: string[];
  summary: string;
  explanation: string;
  evidence: Record<string, unknown>;
  input: string;
  credentials: string[];
  fingerprint: string;
}

interface AlertRow {
  alert_id: string;
  created_ms: string;
  event_ns: string;
  detector: string;
  severity: Severity;
  score: number;
  agent_id: string;
  environment: string;
  session_id: string;
  trace_id: string;
  span_ids: string[];
  summary: string;
  explanation: string;
  evidence: string;
  input: string;
  credentials: string[];
  fingerprint: string;
}

const SELECT_ALERT = `
SELECT alert_id, toString(toUnixTimestamp64Milli(created_at)) AS created_ms, toString(toUnixTimestamp64Nano(event_time)) AS event_ns,
  detector, severity, score, agent_id, environment, session_id, trace_id, span_ids, summary, explanation, evidence, input,
  credentials, fingerprint
FROM alerts`;

function toAlert(r: AlertRow): Alert {
  return {
    alertId: r.alert_id,
    createdAtMs: Number(r.created_ms),
    eventTimeNs: r.event_ns,
    detector: r.detector,
    severity: r.severity,
    score: Number(r.score),
    agentId: r.agent_id,
    environment: r.environment,
    sessionId: r.session_id,
    traceId: r.trace_id,
    spanIds: r.span_ids,
    summary: r.summary,
    explanation: r.explanation,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
    input: r.input,
    credentials: r.credentials,
    fingerprint: r.fingerprint,
  };
}

/**
 * Stores alerts, skipping any whose id is already stored (a batch examined again after
 * a crash raises the same ids). Returns the alerts that were new.
 */
export async function insertAlerts(client: ClickHouseClient, alerts: readonly Alert[]): Promise<Alert[]> {
  if (alerts.length === 0) return [];
  const rs = await client.query({
    query: "SELECT DISTINCT alert_id FROM alerts WHERE alert_id IN {ids:Array(String)}",
    query_params: { ids: alerts.map((a) => a.alertId) },
    format: "JSONEachRow",
  });
  const known = new Set((await rs.json<{ alert_id: string }>()).map((r) => r.alert_id));
  const fresh = alerts.filter(
    (a, i) => !known.has(a.alertId) && alerts.findIndex((b) => b.alertId === a.alertId) === i,
  );
  if (fresh.length === 0) return [];
  await client.insert({
    table: "alerts",
    format: "JSONEachRow",
    values: fresh.map((a) => ({
      alert_id: a.alertId,
      created_at: String(a.createdAtMs),
      event_time: a.eventTimeNs,
      detector: a.detector,
      severity: a.severity,
      score: a.score,
      agent_id: a.agentId,
      environment: a.environment,
      session_id: a.sessionId,
      trace_id: a.traceId,
      span_ids: a.spanIds,
      summary: a.summary,
      explanation: a.explanation,
      evidence: JSON.stringify(a.evidence),
      input: a.input,
      credentials: a.credentials,
      fingerprint: a.fingerprint,
    })),
  });
  return fresh;
}

export interface AlertFilter {
  agentId?: string;
  detector?: string;
  severity?: Severity;
  /** Only alerts whose event time is at or after this (ms since the epoch). */
  sinceMs?: number;
  /**
   * Only alerts Vigil raised at or after this, and (`raisedBeforeMs`) before this: the
   * inbox's filter. The event time is the agent's to state (a backdated DROP's alert
   * would hide behind an old event time); the time an alert was raised is Vigil's.
   */
  raisedSinceMs?: number;
  /** Pages back: only alerts raised before this one (alerts of one run share their time). */
  raisedBefore?: { createdAtMs: number; alertId: string };
  /** `raised`: newest raised first (the inbox, paged with raisedBeforeMs); default: newest event first. */
  order?: "event" | "raised";
  /** Leave out these detectors (the inbox lists first-time activity collapsed, apart). */
  excludeDetectors?: readonly string[];
  limit?: number;
}

/** Alerts, newest event first, filtered. Values travel as query parameters. */
export async function findAlerts(client: ClickHouseClient, filter: AlertFilter = {}): Promise<Alert[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: filter.limit ?? 100 };
  if (filter.agentId !== undefined) {
    where.push("agent_id = {agentId:String}");
    params.agentId = filter.agentId;
  }
  if (filter.detector !== undefined) {
    where.push("detector = {detector:String}");
    params.detector = filter.detector;
  }
  if (filter.severity !== undefined) {
    where.push("severity = {severity:String}");
    params.severity = filter.severity;
  }
  if (filter.sinceMs !== undefined) {
    where.push("event_time >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')");
    params.since = filter.sinceMs;
  }
  if (filter.raisedSinceMs !== undefined) {
    where.push("created_at >= fromUnixTimestamp64Milli({raisedSince:Int64}, 'UTC')");
    params.raisedSince = filter.raisedSinceMs;
  }
  if (filter.raisedBefore !== undefined) {
    where.push("(created_at, alert_id) < (fromUnixTimestamp64Milli({beforeMs:Int64}, 'UTC'), {beforeId:String})");
    params.beforeMs = filter.raisedBefore.createdAtMs;
    params.beforeId = filter.raisedBefore.alertId;
  }
  if (filter.excludeDetectors !== undefined && filter.excludeDetectors.length > 0) {
    where.push("detector NOT IN {excluded:Array(String)}");
    params.excluded = filter.excludeDetectors;
  }
  const order = filter.order === "raised" ? "created_at DESC, alert_id DESC" : "event_time DESC, alert_id";
  const rs = await client.query({
    query: `${SELECT_ALERT} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order} LIMIT {limit:UInt32}`,
    query_params: params,
    format: "JSONEachRow",
  });
  return (await rs.json<AlertRow>()).map(toAlert);
}

/** Alerts of some detectors raised since an instant, one row per agent and detector. */
export interface AlertGroupCount {
  agentId: string;
  detector: string;
  count: number;
  /** The newest alert of the group (raised last). */
  latest: Alert;
}

/**
 * Alerts of `detectors` raised since `raisedSinceMs`, collapsed per agent and detector:
 * how many, and the newest. A flood of first-time-activity alerts becomes one row per
 * agent and detector, so it cannot push a rule's alert out of the inbox.
 */
export async function countAlertsByAgentAndDetector(
  client: ClickHouseClient,
  detectors: readonly string[],
  raisedSinceMs: number,
  agentId?: string,
  severity?: Severity,
): Promise<AlertGroupCount[]> {
  const rs = await client.query({
    // (The inner alias is not "created_at": an alias shadows the column in WHERE.)
    query: `SELECT agent_id AS a, detector AS d, count() AS n, argMax(alert_id, (raised, alert_id)) AS latest
            FROM (SELECT agent_id, detector, alert_id, any(created_at) AS raised FROM alerts
                  WHERE detector IN {detectors:Array(String)}
                    AND created_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
                    ${agentId === undefined ? "" : "AND agent_id = {agentId:String}"}
                    ${severity === undefined ? "" : "AND severity = {severity:String}"}
                  GROUP BY agent_id, detector, alert_id)
            GROUP BY agent_id, detector ORDER BY max(raised) DESC LIMIT 500`,
    query_params: { detectors, since: raisedSinceMs, agentId: agentId ?? "", severity: severity ?? "" },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ a: string; d: string; n: string | number; latest: string }>();
  const latest = new Map(
    (
      await alertsByIds(
        client,
        rows.map((r) => r.latest),
      )
    ).map((x) => [x.alertId, x]),
  );
  return rows.flatMap((r) => {
    const l = latest.get(r.latest);
    return l === undefined ? [] : [{ agentId: r.a, detector: r.d, count: Number(r.n), latest: l }];
  });
}

/** The last ledger sequence detection has examined, per chain. */
export function readDetectionCursor(client: ClickHouseClient): Promise<Map<string, number>> {
  return maxSeqPerChain(client, "detection_cursor");
}

export async function advanceDetectionCursor(client: ClickHouseClient, chainId: string, seq: number): Promise<void> {
  await client.insert({
    table: "detection_cursor",
    format: "JSONEachRow",
    values: [{ chain_id: chainId, seq: String(seq), updated_at: String(Date.now()) }],
  });
}

/** Alerts by id (any order; unknown ids are absent). */
export async function alertsByIds(client: ClickHouseClient, ids: readonly string[]): Promise<Alert[]> {
  if (ids.length === 0) return [];
  const rs = await client.query({
    query: `${SELECT_ALERT} WHERE alert_id IN {ids:Array(String)} LIMIT 1 BY alert_id`,
    query_params: { ids },
    format: "JSONEachRow",
  });
  return (await rs.json<AlertRow>()).map(toAlert);
}

/** Alerts stored at or after `sinceMs` (their creation time), oldest first. */
export async function alertsCreatedSince(client: ClickHouseClient, sinceMs: number, limit = 10_000): Promise<Alert[]> {
  const rs = await client.query({
    query: `${SELECT_ALERT} WHERE created_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
            ORDER BY created_at, alert_id LIMIT 1 BY alert_id LIMIT {limit:UInt32}`,
    query_params: { since: sinceMs, limit },
    format: "JSONEachRow",
  });
  return (await rs.json<AlertRow>()).map(toAlert);
}

/**
 * The audit judge's durable position: every database audit record received before this
 * time (epoch ms) has been judged. It may move back (a lagging ledger chain's records
 * are held after newer ones were judged), so the latest written value counts.
 */
export async function readAuditJudgedUntil(client: ClickHouseClient): Promise<number | undefined> {
  const rs = await client.query({
    query: "SELECT toString(argMax(until_ms, (updated_at, until_ms))) AS until, count() AS n FROM audit_judge_cursor",
    format: "JSONEachRow",
  });
  const [row] = await rs.json<{ until: string; n: string | number }>();
  return row === undefined || Number(row.n) === 0 ? undefined : Number(row.until);
}

export async function saveAuditJudgedUntil(client: ClickHouseClient, untilMs: number): Promise<void> {
  await client.insert({
    table: "audit_judge_cursor",
    format: "JSONEachRow",
    values: [{ until_ms: String(Math.max(0, Math.floor(untilMs))), updated_at: String(Date.now()) }],
  });
}
