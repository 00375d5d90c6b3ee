import { Hono } from "hono";
import { Counter, Registry, collectDefaultMetrics } from "prom-client";
import { startHttpServer } from "./http-server";
import type { RunningServer } from "./http-server";

/** A Prometheus registry with the process metrics (CPU, memory, event loop lag) already in it. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: "vigil_" });
  return registry;
}

/**
 * A counter whose value is read from an existing running total when Prometheus scrapes
 * (the services keep plain counters; this exposes them without double bookkeeping).
 */
export function counterFrom(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | Record<string, number>,
  labelName = "kind",
): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: [labelName],
    registers: [registry],
    collect() {
      const value = read();
      const entries = typeof value === "number" ? [["", value] as const] : Object.entries(value);
      for (const [label, total] of entries) {
        const delta = total - (seen.get(label) ?? 0);
        seen.set(label, total);
        if (delta > 0) {
          if (label === "") this.inc(delta);
          else this.inc({ [labelName]: label }, delta);
        }
      }
    },
  });
}

/**
 * The operations port of a service: /healthz (the process runs), /readyz (it can do its
 * work: store and queues answer) and /metrics (Prometheus text format). Kept off the
 * ingest and API ports, so agents and API users never reach it.
 */
export function startOpsServer(
  port: number,
  host: string,
  registry: Registry,
  ready: () => Promise<{ ready: boolean; reason?: string }>,
): Promise<RunningServer> {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const r = await ready().catch((err: unknown) => ({ ready: false, reason: String(err) }));
    return c.json(r, r.ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => c.body(await registry.metrics(), 200, { "content-type": registry.contentType }));
  return startHttpServer(app, port, host);
}
