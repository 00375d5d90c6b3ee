import { createHash } from "node:crypto";
import type { Alert, Notification } from "@vigil/store";
import { pagerDutyEvent } from "./formats/pagerduty";
import { slackMessage } from "./formats/slack";
import { signWebhook, webhookBody } from "./formats/webhook";
import type { Receiver } from "./receivers";

/** What one attempt came to, and what to do next. */
export interface SendResult {
  outcome: "delivered" | "retry" | "failed" | "disabled";
  statusCode: number;
  latencyMs: number;
  error: string;
  /** From Retry-After on 429 and 5xx, when the receiver gave one. */
  retryAfterMs?: number;
}

/** The request a receiver gets for a notification. */
export function buildRequest(
  receiver: Receiver,
  n: Notification,
  alerts: readonly Alert[],
  publicUrl: string,
  nowMs = Date.now(),
): { url: string; headers: Record<string, string>; body: string } {
  const json = { "content-type": "application/json", "user-agent": "Vigil-Alerting/0.1" };
  switch (receiver.type) {
    case "slack":
      return { url: receiver.url, headers: json, body: JSON.stringify(slackMessage(n, alerts, publicUrl)) };
    case "pagerduty":
      return {
        url: receiver.url,
        headers: json,
        body: JSON.stringify(pagerDutyEvent(n, alerts, receiver.secret, publicUrl)),
      };
    case "webhook": {
      const body = JSON.stringify(webhookBody(n, alerts, publicUrl));
      // The message id is the notification's: the same on every retry, so receivers deduplicate.
      const id = `msg_${n.notificationId}`;
      return {
        url: receiver.url,
        headers: { ...json, ...signWebhook(receiver.secret, id, Math.floor(nowMs / 1000), body) },
        body,
      };
    }
  }
}

/**
 * The request that hands a signed ledger checkpoint to a webhook receiver (a SIEM), so
 * it is kept outside Vigil's store. The message id is the checkpoint's, the same on
 * every resend, so the receiver deduplicates.
 */
export function buildCheckpointRequest(
  receiver: Receiver,
  checkpoint: { chainId: string; size: number; note: string },
  nowMs = Date.now(),
): { url: string; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    version: "1",
    type: "ledger.checkpoint",
    created_at: new Date(nowMs).toISOString(),
    checkpoint: { chain_id: checkpoint.chainId, size: checkpoint.size, note: checkpoint.note },
  });
  const id = `cp_${createHash("sha256").update(checkpoint.note).digest("hex").slice(0, 32)}`;
  return {
    url: receiver.url,
    headers: {
      "content-type": "application/json",
      "user-agent": "Vigil-Alerting/0.1",
      ...signWebhook(receiver.secret, id, Math.floor(nowMs / 1000), body),
    },
    body,
  };
}

/** Retry-After as seconds or an HTTP date, in ms from now. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Sends one notification. 2xx is delivered; 429, 5xx and network errors or timeouts are
 * retried (honouring Retry-After); 410 Gone disables the receiver; any other 4xx is
 * given up, as retrying the same request cannot succeed (PagerDuty's 400 says so).
 */
export async function send(
  receiver: Receiver,
  request: { url: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<SendResult> {
  const started = performance.now();
  try {
    const res = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
    const text = await res.text().catch(() => "");
    const latencyMs = performance.now() - started;
    const base = { statusCode: res.status, latencyMs, error: res.ok ? "" : text.slice(0, 500) };
    if (res.ok) return { ...base, outcome: "delivered" };
    if (res.status === 410) return { ...base, outcome: "disabled" };
    if (res.status === 429 || res.status >= 500) {
      const after = retryAfterMs(res.headers.get("retry-after"));
      return { ...base, outcome: "retry", ...(after === undefined ? {} : { retryAfterMs: after }) };
    }
    return { ...base, outcome: "failed" };
  } catch (err) {
    const e = err as Error;
    const error =
      e.name === "TimeoutError"
        ? `no response within ${timeoutMs} ms`
        : `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ""}`;
    return { outcome: "retry", statusCode: 0, latencyMs: performance.now() - started, error };
  }
}

/** Backoff before attempt `attempt + 1`: 1 s doubling to 5 minutes, with jitter; Retry-After wins when longer. */
export function backoffMs(attempt: number, retryAfter?: number): number {
  const exp = Math.min(300_000, 1000 * 2 ** Math.max(0, attempt - 1));
  const jittered = exp * (0.8 + Math.random() * 0.4);
  return Math.max(jittered, retryAfter ?? 0);
}
