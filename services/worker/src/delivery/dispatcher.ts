import type { Logger } from "@vigil/common";
import { AlertGrouper, allRoutes } from "@vigil/alerting";
import type { InhibitRuleConfig, RouteConfig } from "@vigil/config";
import {
  acksOf,
  advanceDispatchCursor,
  alertsCreatedSince,
  insertNotifications,
  listSilences,
  notificationsSince,
  readDispatchCursor,
  undeliveredNotifications,
} from "@vigil/store";
import type { ClickHouseClient, Notification } from "@vigil/store";
import { GIVE_UP_AFTER_MS } from "./deliverer";
import type { DeliveryQueue } from "./deliverer";

/** Alerts may be stored a little after the time they carry: read this far behind the cursor. */
const CURSOR_SLACK_MS = 5 * 60_000;
/** How far back open groups are rebuilt from the outbox at start. */
const RESTORE_WINDOW_MS = 7 * 86_400_000;
/** How often notifications without a final outcome are queued again. */
const RECONCILE_EVERY_MS = 30_000;

/**
 * Routes stored alerts into groups and turns due groups into notifications: each one is
 * stored in the outbox first, then queued for delivery, and only then does the dispatch
 * cursor move past its alerts. After a crash the groups are rebuilt from the outbox,
 * alerts after the cursor are routed again (those already notified are recognised), and
 * every notification without a final outcome is queued again: at least once, never lost.
 * One dispatcher runs per deployment (in the process that runs detection).
 */
export class Dispatcher {
  private readonly grouper: AlertGrouper;
  /** Alerts already handled, by id, with their creation time (pruned behind the cursor). */
  private readonly seen = new Map<string, number>();
  private cursorMs: number | undefined;
  private restored = false;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastReconcileMs = -Infinity;
  notificationsCreated = 0;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly queue: DeliveryQueue,
    private readonly logger: Logger,
    private readonly route: RouteConfig,
    inhibitRules: readonly InhibitRuleConfig[] = [],
  ) {
    this.grouper = new AlertGrouper(route, inhibitRules);
  }

  get suppressed(): { silenced: number; inhibited: number } {
    return this.grouper.suppressed;
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  /** One pass: route new alerts, send what is due. Never two at once. */
  tick(nowMs?: number): Promise<void> {
    this.running ??= this.pass(nowMs ?? Date.now())
      .catch((err: unknown) =>
        this.logger.warn("alert dispatch failed; retrying next tick", {
          error: err instanceof Error ? err : String(err),
        }),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async pass(nowMs: number): Promise<void> {
    if (!this.restored) await this.restore(nowMs);
    const from = (this.cursorMs ?? nowMs - 86_400_000) - CURSOR_SLACK_MS;
    const alerts = await alertsCreatedSince(this.client, from);
    const fresh = alerts.filter((a) => !this.seen.has(a.alertId));
    if (fresh.length > 0) {
      const silences = await listSilences(this.client);
      for (const a of fresh) {
        this.seen.set(a.alertId, a.createdAtMs);
        this.grouper.add(a, silences, nowMs);
      }
    }
    const open = this.grouper.openAlertIds();
    const acked = open.length === 0 ? new Set<string>() : new Set((await acksOf(this.client, open)).keys());
    const due = this.grouper.due(nowMs, acked);
    if (due.length > 0) {
      await insertNotifications(this.client, due); // stored first: from here on it cannot be lost
      this.notificationsCreated += due.length;
      for (const n of due) await this.enqueue(n);
    }
    const newest = alerts.reduce((m, a) => Math.max(m, a.createdAtMs), this.cursorMs ?? 0);
    const next = Math.max(this.cursorMs ?? 0, this.grouper.oldestPendingCreatedMs() ?? newest);
    if (next !== this.cursorMs && next > 0) {
      await advanceDispatchCursor(this.client, next);
      this.cursorMs = next;
      for (const [id, created] of this.seen) if (created < next - 2 * CURSOR_SLACK_MS) this.seen.delete(id);
    }
    if (nowMs - this.lastReconcileMs >= RECONCILE_EVERY_MS) await this.reconcile(nowMs);
  }

  private async restore(nowMs: number): Promise<void> {
    this.cursorMs = await readDispatchCursor(this.client);
    const sent = await notificationsSince(this.client, nowMs - RESTORE_WINDOW_MS);
    this.grouper.restore(sent, allRoutes(this.route));
    for (const n of sent) for (const id of n.alertIds) this.seen.set(id, n.createdAtMs);
    this.restored = true;
    if (sent.length > 0) this.logger.info("alert groups restored from the outbox", { notifications: sent.length });
  }

  /** Queues again every notification that has no final outcome (after a crash, or a failed enqueue). */
  private async reconcile(nowMs: number): Promise<void> {
    this.lastReconcileMs = nowMs;
    const undelivered = await undeliveredNotifications(this.client, nowMs - GIVE_UP_AFTER_MS - 3_600_000);
    for (const n of undelivered) await this.enqueue(n);
  }

  private async enqueue(n: Notification): Promise<void> {
    try {
      await this.queue.enqueue(n);
    } catch (err) {
      this.logger.warn("notification not queued yet; the reconciler will", {
        notification: n.notificationId,
        error: String(err),
      });
    }
  }
}
