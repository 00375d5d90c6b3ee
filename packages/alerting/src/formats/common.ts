import type { Alert, Notification, Severity } from "@vigil/store";

const ORDER: readonly Severity[] = ["info", "low", "medium", "high", "critical"];

/** The most severe alert of a notification, which titles it. */
export function topAlert(alerts: readonly Alert[]): Alert | undefined {
  return [...alerts].sort((a, b) => ORDER.indexOf(b.severity) - ORDER.indexOf(a.severity) || b.score - a.score)[0];
}

/** The alerts to show first: the new ones, then the rest of the group, most severe first. */
export function ordered(n: Notification, alerts: readonly Alert[]): Alert[] {
  const fresh = new Set(n.newAlertIds);
  return [...alerts].sort(
    (a, b) =>
      Number(fresh.has(b.alertId)) - Number(fresh.has(a.alertId)) ||
      ORDER.indexOf(b.severity) - ORDER.indexOf(a.severity) ||
      a.eventTimeNs.localeCompare(b.eventTimeNs),
  );
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Links into the console. */
export function consoleLinks(publicUrl: string, alert: Alert): { session: string; alert: string } {
  const base = publicUrl.replace(/\/+$/, "");
  return {
    session: `${base}/sessions/${encodeURIComponent(alert.sessionId || alert.traceId)}`,
    alert: `${base}/alerts/${encodeURIComponent(alert.alertId)}`,
  };
}

export function eventTimeIso(alert: Alert): string {
  return new Date(Number(BigInt(alert.eventTimeNs) / 1_000_000n)).toISOString();
}

/** One line per group label: "agent=billing-bot, detector=call_volume". */
export function describeGroup(n: Notification): string {
  return Object.entries(n.groupLabels)
    .map(([k, v]) => `${k}=${v === "" ? "(none)" : v}`)
    .join(", ");
}

/** One alert as JSON for machines: the webhook body's shape, also PagerDuty's custom_details. */
export function alertJson(a: Alert, publicUrl: string, maxInput = Infinity): Record<string, unknown> {
  return {
    id: a.alertId,
    detector: a.detector,
    severity: a.severity,
    score: a.score,
    agent: a.agentId,
    environment: a.environment,
    session_id: a.sessionId,
    trace_id: a.traceId,
    span_ids: a.spanIds,
    event_time: eventTimeIso(a),
    summary: a.summary,
    explanation: a.explanation,
    evidence: a.evidence,
    input: truncate(a.input, maxInput),
    credentials: a.credentials,
    console_url: consoleLinks(publicUrl, a).session,
  };
}
