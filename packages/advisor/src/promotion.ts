import { findAlerts } from "@vigil/store";
import type { Alert, ClickHouseClient } from "@vigil/store";

/** A step that cannot be taken back, and whether a human approved it first. */
export interface IrreversibleAction {
  at: string;
  sessionId: string;
  traceId: string;
  spanId: string;
  what: string;
  kind: "destructive" | "write" | "outbound_write";
  /** A person approved it through the confirmation gate (a token Vigil signed, verified on the span). */
  approved: boolean;
  /** The agent reported an approval in the session itself: shown, never counted as approval. */
  selfReportedApproval: boolean;
}

export interface PromotionReport {
  agentId: string;
  environment: string;
  windowDays: number;
  daysObserved: number;
  sessions: number;
  spans: number;
  irreversible: IrreversibleAction[];
  /** Irreversible actions that went through the confirmation gate and were approved. */
  gated: number;
  credentialUses: Array<{ credential: string; uses: number }>;
  alerts: Array<{ detector: string; severity: string; count: number }>;
  verdict: { ready: boolean; reasons: string[] };
}

export interface PromotionCriteria {
  /** Days of observed history the agent needs in the environment. */
  minDays: number;
  minSessions: number;
}

export const DEFAULT_CRITERIA: PromotionCriteria = { minDays: 7, minSessions: 20 };

/**
 * Whether an agent watched in an environment (staging) is ready for production: what it
 * did that cannot be undone, whether a human approved each, what alerted, and a verdict
 * with its reasons.
 */
export async function promotionReport(
  client: ClickHouseClient,
  q: { agentId: string; environment: string; windowDays?: number; nowMs?: number; criteria?: PromotionCriteria },
): Promise<PromotionReport> {
  const windowDays = q.windowDays ?? 7;
  const nowMs = q.nowMs ?? Date.now();
  const fromMs = nowMs - windowDays * 86_400_000;
  const criteria = q.criteria ?? DEFAULT_CRITERIA;
  const params = { agentId: q.agentId, environment: q.environment, from: fromMs, to: nowMs };
  const where = `agent_id = {agentId:String} AND environment = {environment:String}
    AND start_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND start_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
  const read = async <T>(query: string): Promise<T[]> =>
    (await client.query({ query, query_params: params, format: "JSONEachRow" })).json<T>();

  const [history] = await read<{ first_ms: string; n: string }>(
    `SELECT toString(toUnixTimestamp64Milli(min(first_seen))) AS first_ms, toString(sum(calls)) AS n FROM agent_activity
     WHERE agent_id = {agentId:String} AND environment = {environment:String} AND dimension = 'hour' AND origin != 'db-audit'`,
  );
  const [totals] = await read<{ spans: string; sessions: string }>(
    `SELECT count() AS spans, uniqExactIf(session_id, session_id != '') AS sessions FROM spans WHERE ${where}`,
  );
  type Row = {
    at: string;
    session_id: string;
    trace_id: string;
    span_id: string;
    what: string;
    kind: IrreversibleAction["kind"];
    approved: number;
    self_reported: number;
  };
  const actions = await read<Row>(
    `WITH approvals AS (
       SELECT session_id, min(start_time) AS first_approved FROM spans
       WHERE agent_id = {agentId:String} AND approval_status = 'approved' AND session_id != '' GROUP BY session_id
     )
     SELECT toString(s.start_time) AS at, s.session_id AS session_id, s.trace_id AS trace_id, s.span_id AS span_id,
       multiIf(s.destructive, concat(s.destructive_reason, if(empty(s.db_tables), '', concat(' on ', arrayStringConcat(s.db_tables, ', ')))),
               notEmpty(s.db_tables_written), concat(s.db_operation, ' on ', arrayStringConcat(s.db_tables_written, ', ')),
               concat(JSONExtractString(s.attributes, 'http.request.method', 'stringValue'), ' ', s.outbound_host)) AS what,
       multiIf(s.destructive, 'destructive', notEmpty(s.db_tables_written), 'write', 'outbound_write') AS kind,
       s.approval_status = 'verified' AS approved,
       s.session_id != '' AND a.first_approved IS NOT NULL AND a.first_approved <= s.start_time AS self_reported
     FROM spans AS s LEFT JOIN approvals AS a ON a.session_id = s.session_id
     WHERE s.agent_id = {agentId:String} AND s.environment = {environment:String}
       AND s.start_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND s.start_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       AND (s.destructive OR notEmpty(s.db_tables_written)
            OR (s.kind = 3 AND s.outbound_host != '' AND JSONExtractString(s.attributes, 'http.request.method', 'stringValue') IN ('POST', 'PUT', 'PATCH', 'DELETE')))
     ORDER BY s.start_time
     SETTINGS join_use_nulls = 1`,
  );
  const credentialUses = await read<{ credential: string; uses: string }>(
    `SELECT credential_id AS credential, count() AS uses FROM spans WHERE ${where} AND credential_id != '' GROUP BY credential ORDER BY uses DESC`,
  );
  const alerts = (await findAlerts(client, { agentId: q.agentId, sinceMs: fromMs, limit: 10_000 })).filter(
    (a: Alert) => a.environment === q.environment,
  );
  const alertCounts = new Map<string, { detector: string; severity: string; count: number }>();
  for (const a of alerts) {
    const key = `${a.detector}\n${a.severity}`;
    const c = alertCounts.get(key) ?? { detector: a.detector, severity: a.severity, count: 0 };
    c.count++;
    alertCounts.set(key, c);
  }
  const irreversible: IrreversibleAction[] = actions.map((r) => ({
    at: `${r.at.replace(" ", "T")}Z`,
    sessionId: r.session_id,
    traceId: r.trace_id,
    spanId: r.span_id,
    what: r.what,
    kind: r.kind,
    approved: Number(r.approved) === 1,
    selfReportedApproval: Number(r.self_reported) === 1,
  }));
  const firstMs = history === undefined || Number(history.n) === 0 ? undefined : Number(history.first_ms);
  const daysObserved = firstMs === undefined ? 0 : Math.max(0, (nowMs - firstMs) / 86_400_000);
  const sessions = Number(totals?.sessions ?? 0);

  const reasons: string[] = [];
  const unapproved = irreversible.filter((a) => !a.approved);
  const destructive = unapproved.filter((a) => a.kind === "destructive").length;
  if (destructive > 0)
    reasons.push(
      `${destructive} destructive operation(s) without an approval through Vigil's gate in the last ${windowDays} days`,
    );
  const otherUnapproved = unapproved.length - destructive;
  if (otherUnapproved > 0)
    reasons.push(
      `${otherUnapproved} write(s) or outbound write(s) without an approval through Vigil's gate in the last ${windowDays} days`,
    );
  const serious = alerts.filter((a) => a.severity === "critical" || a.severity === "high").length;
  if (serious > 0) reasons.push(`${serious} critical or high alert(s) in the last ${windowDays} days`);
  if (daysObserved < criteria.minDays)
    reasons.push(`observed ${daysObserved.toFixed(1)} of the ${criteria.minDays} days required`);
  if (sessions < criteria.minSessions) reasons.push(`${sessions} of the ${criteria.minSessions} sessions required`);
  return {
    agentId: q.agentId,
    environment: q.environment,
    windowDays,
    daysObserved: Number(daysObserved.toFixed(1)),
    sessions,
    spans: Number(totals?.spans ?? 0),
    irreversible,
    gated: irreversible.filter((a) => a.approved).length,
    credentialUses: credentialUses.map((c) => ({ credential: c.credential, uses: Number(c.uses) })),
    alerts: [...alertCounts.values()].sort((a, b) => b.count - a.count),
    verdict: { ready: reasons.length === 0, reasons },
  };
}

/** The report as Markdown, for the pull request that promotes the agent. */
export function promotionMarkdown(r: PromotionReport): string {
  const lines = [
    `## Promotion report: ${r.agentId} (${r.environment || "no environment"})`,
    "",
    `**Verdict: ${r.verdict.ready ? "ready" : `not ready: ${r.verdict.reasons.join("; ")}`}**`,
    "",
    `- Observed: ${r.daysObserved} days, ${r.sessions} sessions, ${r.spans} spans (last ${r.windowDays} days)`,
    `- Credentials used: ${r.credentialUses.map((c) => `\`${c.credential}\` ×${c.uses}`).join(", ") || "none"}`,
    `- Alerts: ${r.alerts.map((a) => `${a.detector} (${a.severity}) ×${a.count}`).join(", ") || "none"}`,
    "",
    "| when | what | kind | approved | session |",
    "| --- | --- | --- | --- | --- |",
    ...r.irreversible.map(
      (a) =>
        `| ${a.at} | ${a.what} | ${a.kind} | ${a.approved ? "yes (gate)" : a.selfReportedApproval ? "**no** (self-reported only)" : "**no**"} | ${a.sessionId || "-"} |`,
    ),
  ];
  if (r.irreversible.length === 0) lines.push("| - | no irreversible action | | | |");
  return `${lines.join("\n")}\n`;
}
