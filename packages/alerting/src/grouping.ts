import { createHash } from "node:crypto";
import { parseDuration } from "@vigil/config";
import type { InhibitRuleConfig, RouteConfig } from "@vigil/config";
import type { Alert, Notification, Silence } from "@vigil/store";
import { labelsOf, matches } from "./labels";
import type { AlertLabels } from "./labels";
import { routeAlert } from "./routing";
import type { ResolvedRoute } from "./routing";

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

interface Group {
  key: string;
  route: ResolvedRoute;
  labels: Record<string, string>;
  /** Stable for the life of the group: PagerDuty's dedup_key. */
  dedupKey: string;
  /** Every alert of the group, and those already sent in a notification. */
  alertIds: Set<string>;
  notified: Set<string>;
  /** Alerts waiting for the next notification. */
  pending: Map<string, Alert>;
  firstAtMs: number;
  lastAlertAtMs: number;
  lastNotifiedAtMs: number | undefined;
  sent: number;
}

/** What happened to an alert handed to the grouper. */
export type Disposition = "grouped" | "silenced" | "known";

/**
 * Alertmanager's grouping, as a state machine with time passed in: alerts are routed
 * into groups (route × group_by values); a group's first notification waits
 * `group_wait` for more alerts, later ones for new alerts at most every
 * `group_interval`, a reminder every `repeat_interval` while nothing new arrives; it
 * resolves when every alert of it is acknowledged (or `resolve_timeout` after its last
 * alert). Silences drop matching alerts; inhibition drops pending target alerts when a
 * matching source alert with equal labels is within its window. The state can be
 * rebuilt from the stored notifications, so a restart neither repeats nor forgets.
 */
export class AlertGrouper {
  private readonly groups = new Map<string, Group>();
  /** Recent alerts, for inhibition (kept for the longest inhibition window). */
  private recent: Alert[] = [];
  private readonly inhibitWindowMs: number;
  suppressed = { silenced: 0, inhibited: 0 };

  constructor(
    private readonly root: RouteConfig,
    private readonly inhibitRules: readonly InhibitRuleConfig[] = [],
  ) {
    this.inhibitWindowMs = Math.max(0, ...inhibitRules.map((r) => parseDuration(r.window) as number));
  }

  /** Rebuilds the open groups from stored notifications (oldest first). */
  restore(notifications: readonly Notification[], routes: ReadonlyMap<string, ResolvedRoute>): void {
    for (const n of notifications) {
      if (n.kind === "resolved") {
        this.groups.delete(n.groupKey);
        continue;
      }
      const route = routes.get(`${n.route}\n${n.receiver}`);
      if (route === undefined) continue; // the route is gone from the config
      let g = this.groups.get(n.groupKey);
      if (g === undefined || g.dedupKey !== n.dedupKey) {
        g = {
          key: n.groupKey,
          route,
          labels: n.groupLabels,
          dedupKey: n.dedupKey,
          alertIds: new Set(),
          notified: new Set(),
          pending: new Map(),
          firstAtMs: n.createdAtMs,
          lastAlertAtMs: n.createdAtMs,
          lastNotifiedAtMs: undefined,
          sent: 0,
        };
        this.groups.set(n.groupKey, g);
      }
      for (const id of n.alertIds) {
        g.alertIds.add(id);
        g.notified.add(id);
      }
      g.lastNotifiedAtMs = n.createdAtMs;
      g.sent++;
    }
  }

  /** True when this alert is already part of an open group (notified or pending). */
  knows(alertId: string): boolean {
    for (const g of this.groups.values()) if (g.alertIds.has(alertId)) return true;
    return false;
  }

  add(alert: Alert, silences: readonly Silence[], nowMs: number): Disposition {
    if (this.knows(alert.alertId)) return "known";
    const labels = labelsOf(alert);
    if (silences.some((s) => s.startsAtMs <= nowMs && nowMs < s.endsAtMs && matches(s.matchers, labels))) {
      this.suppressed.silenced++;
      return "silenced";
    }
    this.recent.push(alert);
    for (const route of routeAlert(this.root, labels)) {
      const groupLabels = Object.fromEntries(route.groupBy.map((l) => [l, labels[l]]));
      const key = `${route.id}\n${route.receiver}\n${JSON.stringify(groupLabels)}`;
      let g = this.groups.get(key);
      if (g === undefined) {
        g = {
          key,
          route,
          labels: groupLabels,
          dedupKey: `vigil-${sha(`${key}\n${nowMs}`).slice(0, 32)}`,
          alertIds: new Set(),
          notified: new Set(),
          pending: new Map(),
          firstAtMs: nowMs,
          lastAlertAtMs: nowMs,
          lastNotifiedAtMs: undefined,
          sent: 0,
        };
        this.groups.set(key, g);
      }
      g.alertIds.add(alert.alertId);
      g.pending.set(alert.alertId, alert);
      g.lastAlertAtMs = nowMs;
    }
    return "grouped";
  }

  /** Alert ids of the open groups (to look up acknowledgements). */
  openAlertIds(): string[] {
    return [...new Set([...this.groups.values()].flatMap((g) => [...g.alertIds]))];
  }

  /** The creation time of the oldest alert not yet in a notification (for the dispatch cursor). */
  oldestPendingCreatedMs(): number | undefined {
    let oldest: number | undefined;
    for (const g of this.groups.values())
      for (const a of g.pending.values()) if (oldest === undefined || a.createdAtMs < oldest) oldest = a.createdAtMs;
    return oldest;
  }

  /** The notifications due at `nowMs`; the state records them as sent. */
  due(nowMs: number, acked: ReadonlySet<string>): Notification[] {
    this.recent = this.recent.filter((a) => a.createdAtMs >= nowMs - this.inhibitWindowMs - 60_000);
    const out: Notification[] = [];
    for (const g of [...this.groups.values()]) {
      const r = g.route;
      for (const [id, alert] of g.pending) {
        if (this.inhibited(alert)) {
          g.pending.delete(id);
          g.alertIds.delete(id);
          this.suppressed.inhibited++;
        }
      }
      if (g.alertIds.size === 0) {
        this.groups.delete(g.key);
        continue;
      }
      const fresh = [...g.pending.keys()];
      const firing =
        fresh.length > 0 &&
        (g.lastNotifiedAtMs === undefined
          ? nowMs >= g.firstAtMs + r.groupWaitMs
          : nowMs >= g.lastNotifiedAtMs + r.groupIntervalMs);
      if (firing) {
        out.push(this.notification(g, "firing", fresh, nowMs));
        for (const id of fresh) g.notified.add(id);
        g.pending.clear();
        continue;
      }
      if (g.lastNotifiedAtMs === undefined) continue;
      const allAcked = [...g.alertIds].every((id) => acked.has(id));
      const cleared = r.resolveTimeoutMs > 0 && nowMs >= g.lastAlertAtMs + r.resolveTimeoutMs;
      if (fresh.length === 0 && (allAcked || cleared)) {
        out.push(this.notification(g, "resolved", [], nowMs));
        this.groups.delete(g.key);
        continue;
      }
      if (fresh.length === 0 && nowMs >= g.lastNotifiedAtMs + r.repeatIntervalMs)
        out.push(this.notification(g, "firing", [], nowMs));
    }
    return out;
  }

  private notification(g: Group, kind: "firing" | "resolved", fresh: string[], nowMs: number): Notification {
    const n: Notification = {
      notificationId: sha(`${g.dedupKey}\n${g.sent}\n${kind}`).slice(0, 32),
      createdAtMs: nowMs,
      receiver: g.route.receiver,
      route: g.route.id,
      groupKey: g.key,
      dedupKey: g.dedupKey,
      kind,
      alertIds: [...g.alertIds],
      newAlertIds: fresh,
      groupLabels: g.labels,
    };
    g.sent++;
    g.lastNotifiedAtMs = nowMs;
    return n;
  }

  private inhibited(target: Alert): boolean {
    const t = labelsOf(target);
    const eventMs = (a: Alert): number => Number(BigInt(a.eventTimeNs) / 1_000_000n);
    return this.inhibitRules.some((rule) => {
      if (!matches(rule.target, t)) return false;
      const window = parseDuration(rule.window) as number;
      return this.recent.some((source) => {
        if (source.alertId === target.alertId) return false;
        const s: AlertLabels = labelsOf(source);
        if (!matches(rule.source, s)) return false;
        if (!rule.equal.every((l) => s[l] === t[l])) return false;
        return Math.abs(eventMs(source) - eventMs(target)) <= window;
      });
    });
  }
}
