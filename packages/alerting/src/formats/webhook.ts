import { createHmac } from "node:crypto";
import type { Alert, Notification } from "@vigil/store";
import { alertJson, ordered } from "./common";

/** The documented webhook body (docs/webhook-payload.schema.json). */
export function webhookBody(n: Notification, alerts: readonly Alert[], publicUrl: string): Record<string, unknown> {
  return {
    version: "1",
    type: n.kind === "resolved" ? "alert_group.resolved" : "alert_group.firing",
    notification_id: n.notificationId,
    created_at: new Date(n.createdAtMs).toISOString(),
    group: { key: n.dedupKey, receiver: n.receiver, labels: n.groupLabels },
    new_alert_ids: n.newAlertIds,
    alerts: ordered(n, alerts).map((a) => alertJson(a, publicUrl)),
  };
}

/**
 * Standard Webhooks signature headers (github.com/standard-webhooks): the HMAC-SHA256 of
 * "{id}.{timestamp}.{body}" with the secret's bytes ("whsec_" + base64), base64, as "v1,<sig>".
 * The id stays the same across retries so receivers can deduplicate.
 */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestampSec}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(timestampSec), "webhook-signature": `v1,${signature}` };
}
