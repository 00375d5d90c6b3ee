import type { Logger } from "@vigil/common";
import { backoffMs } from "@vigil/alerting";
import type { Receiver } from "@vigil/alerting";
import type { Notification } from "@vigil/store";
import type { Deliverer, DeliveryQueue } from "./deliverer";

/**
 * In-process delivery: one lane per receiver, so a slow or dead receiver holds up only
 * its own lane. Each lane sends one notification at a time, no faster than the
 * receiver's rate, and schedules retries with backoff. Nothing here is durable: the
 * outbox is, and the reconciler queues again whatever has no final outcome.
 */
export class InProcessDelivery implements DeliveryQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly deliverer: Deliverer,
    receivers: ReadonlyMap<string, Receiver>,
    private readonly logger: Logger,
  ) {
    for (const r of receivers.values()) this.lanes.set(r.name, new Lane(r, deliverer, logger));
  }

  enqueue(n: Notification): Promise<void> {
    const lane = this.lanes.get(n.receiver);
    if (lane === undefined) {
      this.logger.warn("notification for an unknown receiver", { receiver: n.receiver });
      return Promise.resolve();
    }
    lane.add(n.notificationId, 1);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.close()));
  }
}

class Lane {
  private readonly queue: Array<{ id: string; attempt: number }> = [];
  /** Queued, being sent or waiting for a retry: not queued twice. */
  private readonly inFlight = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running: Promise<void> | undefined;
  private lastSendMs = -Infinity;
  private closed = false;

  constructor(
    private readonly receiver: Receiver,
    private readonly deliverer: Deliverer,
    private readonly logger: Logger,
  ) {}

  add(id: string, attempt: number): void {
    if (this.closed || (attempt === 1 && this.inFlight.has(id))) return;
    this.inFlight.add(id);
    this.queue.push({ id, attempt });
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next !== undefined && !this.closed; next = this.queue.shift()) {
      const gap = this.lastSendMs + 1000 / this.receiver.ratePerSecond - performance.now();
      if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      this.lastSendMs = performance.now();
      try {
        const result = await this.deliverer.attempt(next.id, next.attempt);
        if (result.outcome !== "retry") {
          this.inFlight.delete(next.id);
          continue;
        }
        const { id, attempt } = next;
        const timer = setTimeout(
          () => {
            this.timers.delete(timer);
            this.add(id, attempt + 1);
          },
          backoffMs(attempt, result.retryAfterMs),
        );
        this.timers.add(timer);
      } catch (err) {
        // The store failed: leave it to the reconciler, which queues it again.
        this.inFlight.delete(next.id);
        this.logger.warn("delivery attempt not recorded", { receiver: this.receiver.name, error: String(err) });
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await this.running;
  }
}
