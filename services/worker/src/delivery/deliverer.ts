import type { Logger } from "@vigil/common";
import { buildRequest, send } from "@vigil/alerting";
import type { Receiver, SendResult } from "@vigil/alerting";
import { alertsByIds, disabledReceivers, findNotification, recordAttempt, setReceiverState } from "@vigil/store";
import type { ClickHouseClient, DeliveryOutcome, Notification } from "@vigil/store";

/** How long a notification is retried before it is given up (and recorded as failed). */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

export interface DeliveryOptions {
  publicUrl: string;
  timeoutMs: number;
}

/**
 * Sends one notification once and records the attempt (insert-only). Whatever queue
 * runs it (BullMQ or in-process), the outcome is the same: delivered, retry (with the
 * receiver's Retry-After when given), failed (4xx, or retried for a day), or disabled
 * (the receiver answered 410 Gone: it is disabled and a warning logged).
 */
export class Deliverer {
  private disabled: Map<string, string> | undefined;
  private disabledReadAtMs = 0;
  readonly counts: Record<DeliveryOutcome, number> = { delivered: 0, retry: 0, failed: 0, disabled: 0 };

  constructor(
    private readonly client: ClickHouseClient,
    private readonly receivers: ReadonlyMap<string, Receiver>,
    private readonly logger: Logger,
    private readonly options: DeliveryOptions,
  ) {}

  async attempt(notificationId: string, attempt: number): Promise<SendResult> {
    const n = await findNotification(this.client, notificationId);
    if (n === undefined) throw new Error(`notification ${notificationId} is not stored`);
    const receiver = this.receivers.get(n.receiver);
    let result: SendResult;
    // Re-read now and then: a receiver may have been re-enabled through the API.
    if (this.disabled === undefined || Date.now() - this.disabledReadAtMs > 10_000) {
      this.disabled = await disabledReceivers(this.client);
      this.disabledReadAtMs = Date.now();
    }
    if (receiver === undefined) {
      result = { outcome: "failed", statusCode: 0, latencyMs: 0, error: `receiver ${n.receiver} is not configured` };
    } else if (this.disabled.has(receiver.name)) {
      result = {
        outcome: "disabled",
        statusCode: 0,
        latencyMs: 0,
        error: `receiver disabled: ${this.disabled.get(receiver.name) ?? ""}`,
      };
    } else {
      const alerts = await alertsByIds(this.client, n.alertIds);
      result = await send(receiver, buildRequest(receiver, n, alerts, this.options.publicUrl), this.options.timeoutMs);
      if (result.outcome === "retry" && Date.now() - n.createdAtMs > GIVE_UP_AFTER_MS)
        result = { ...result, outcome: "failed", error: `gave up after ${attempt} attempts: ${result.error}` };
      if (result.outcome === "disabled" && !this.disabled.has(receiver.name)) await this.disable(receiver, result);
    }
    await recordAttempt(this.client, {
      notificationId: n.notificationId,
      receiver: n.receiver,
      attempt,
      atMs: Date.now(),
      statusCode: result.statusCode,
      outcome: result.outcome,
      latencyMs: result.latencyMs,
      error: result.error,
    });
    this.counts[result.outcome]++;
    if (result.outcome === "failed")
      this.logger.warn("notification given up", {
        notification: n.notificationId,
        receiver: n.receiver,
        status: result.statusCode,
        error: result.error,
      });
    return result;
  }

  private async disable(receiver: Receiver, result: SendResult): Promise<void> {
    const reason = `HTTP 410 Gone at ${new Date().toISOString()}`;
    await setReceiverState(this.client, receiver.name, true, reason);
    this.disabled?.set(receiver.name, reason);
    // Never the URL: a Slack webhook URL is itself a secret.
    this.logger.warn("receiver disabled: it answered 410 Gone; fix its configuration and re-enable it", {
      receiver: receiver.name,
      type: receiver.type,
      response: result.error.slice(0, 200),
    });
  }
}

/** Where notifications go once stored: BullMQ queues or in-process lanes, one per receiver. */
export interface DeliveryQueue {
  enqueue(n: Notification): Promise<void>;
  close(): Promise<void>;
}
