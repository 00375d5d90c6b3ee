import { Hono } from "hono";
import type { ClickHouseClient } from "@vigil/store";

export interface ApiDeps {
  client: ClickHouseClient;
  /** True once migrations have run. */
  migrated: () => boolean;
}

/**
 * The query API. For now: liveness (`/healthz`, the process answers) and readiness
 * (`/readyz`, migrations ran and the store answers a query).
 */
export function createApiApp(deps: ApiDeps): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    if (!deps.migrated()) return c.json({ ready: false, reason: "migrations have not run yet" }, 503);
    const ping = await deps.client.ping();
    if (!ping.success) return c.json({ ready: false, reason: "the store does not answer" }, 503);
    return c.json({ ready: true });
  });
  return app;
}
