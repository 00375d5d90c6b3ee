import { parseDuration } from "@vigil/config";
import type { GroupLabel, RouteConfig } from "@vigil/config";
import type { AlertLabels } from "./labels";
import { matches } from "./labels";

/** A route with every setting inherited from its parents, as Alertmanager resolves them. */
export interface ResolvedRoute {
  /** Path in the tree ("root", "root.0", "root.0.1"): part of the group key. */
  id: string;
  receiver: string;
  groupBy: GroupLabel[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** 0: a group resolves only when all its alerts are acknowledged. */
  resolveTimeoutMs: number;
}

/** Alertmanager's defaults. */
const DEFAULTS = { groupBy: ["agent", "detector"] as GroupLabel[], wait: "30s", interval: "5m", repeat: "4h" };

function resolve(route: RouteConfig, parent: ResolvedRoute | undefined, id: string): ResolvedRoute {
  const ms = (text: string | undefined, inherited: number | undefined, fallback: string): number =>
    text !== undefined ? (parseDuration(text) as number) : (inherited ?? (parseDuration(fallback) as number));
  return {
    id,
    receiver: route.receiver ?? parent?.receiver ?? "",
    groupBy: route.group_by ?? parent?.groupBy ?? DEFAULTS.groupBy,
    groupWaitMs: ms(route.group_wait, parent?.groupWaitMs, DEFAULTS.wait),
    groupIntervalMs: ms(route.group_interval, parent?.groupIntervalMs, DEFAULTS.interval),
    repeatIntervalMs: ms(route.repeat_interval, parent?.repeatIntervalMs, DEFAULTS.repeat),
    resolveTimeoutMs:
      route.resolve_timeout !== undefined
        ? (parseDuration(route.resolve_timeout) as number)
        : (parent?.resolveTimeoutMs ?? 0),
  };
}

/**
 * The routes an alert goes to. Depth first: a matching route hands the alert to its
 * first matching child (and to later siblings while a matching child has `continue`);
 * when no child matches, the route itself takes it. The root matches everything.
 */
export function routeAlert(root: RouteConfig, labels: AlertLabels): ResolvedRoute[] {
  const walk = (route: RouteConfig, parent: ResolvedRoute | undefined, id: string): ResolvedRoute[] => {
    const self = resolve(route, parent, id);
    const out: ResolvedRoute[] = [];
    for (const [i, child] of (route.routes ?? []).entries()) {
      if (!matches(child.match, labels)) continue;
      out.push(...walk(child, self, `${id}.${i}`));
      if (child.continue !== true) break;
    }
    return out.length > 0 ? out : [self];
  };
  return walk(root, undefined, "root");
}

/** Every route of the tree with its settings resolved, by "route id\nreceiver". */
export function allRoutes(root: RouteConfig): Map<string, ResolvedRoute> {
  const out = new Map<string, ResolvedRoute>();
  const walk = (route: RouteConfig, parent: ResolvedRoute | undefined, id: string): void => {
    const self = resolve(route, parent, id);
    out.set(`${self.id}\n${self.receiver}`, self);
    (route.routes ?? []).forEach((child, i) => walk(child, self, `${id}.${i}`));
  };
  walk(root, undefined, "root");
  return out;
}
