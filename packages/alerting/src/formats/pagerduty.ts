import type { Alert, Notification, Severity } from "@vigil/store";
import { alertJson, consoleLinks, describeGroup, eventTimeIso, ordered, topAlert, truncate } from "./common";

/** PagerDuty's four severities. */
const SEVERITY: Record<Severity, "critical" | "error" | "warning" | "info"> = {
  critical: "critical",
  high: "error",
  medium: "warning",
  low: "info",
  info: "info",
};

/**
 * An Events API v2 event (developer.pagerduty.com/docs/events-api-v2/trigger-events):
 * one dedup_key per alert group, so every notification of a group lands on one incident,
 * and a resolve closes it.
 */
export function pagerDutyEvent(
  n: Notification,
  alerts: readonly Alert[],
  routingKey: string,
  publicUrl: string,
): Record<string, unknown> {
  const top = topAlert(alerts);
  if (n.kind === "resolved" || top === undefined)
    return { routing_key: routingKey, event_action: "resolve", dedup_key: n.dedupKey };
  const list = ordered(n, alerts);
  const links = consoleLinks(publicUrl, top);
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: n.dedupKey,
    payload: {
      summary: truncate(`${top.summary}${alerts.length > 1 ? ` (+${alerts.length - 1} more)` : ""}`, 1024),
      source: `vigil/${top.agentId}`,
      severity: SEVERITY[top.severity],
      timestamp: eventTimeIso(top),
      component: top.agentId,
      group: top.environment === "" ? "default" : top.environment,
      class: top.detector,
      custom_details: {
        group: describeGroup(n),
        notification_id: n.notificationId,
        new_alerts: n.newAlertIds.length,
        // Evidence and the (redacted) input of each alert, trimmed to stay well under the 512 KB event limit.
        alerts: list.slice(0, 20).map((a) => alertJson(a, publicUrl, 500)),
      },
    },
    links: [
      { href: links.session, text: "Session in the Vigil console" },
      { href: links.alert, text: `Alert ${top.alertId}` },
    ],
    client: "Vigil",
    client_url: publicUrl,
  };
}
