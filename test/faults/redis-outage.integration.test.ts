import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { findAlerts } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { LocalReceiver } from "../support/receivers";
import { PrivateRedis, freePort } from "../support/redis-server";
import { TestClickHouse } from "../support/clickhouse-server";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * Redis stopped for 30 s while agents keep sending, with detection and delivery on
 * BullMQ: ingest keeps accepting and storing, detection catches up from its cursor, and
 * every alert raised meanwhile reaches the webhook once Redis is back (the outbox is
 * queued again by the reconciler). Nothing is lost. Run in both placements: embedded, and
 * on a ClickHouse server with each service as its own user.
 */
describe.each(["embedded", "server"] as const)("Redis outage (%s)", (placement) => {
  const secrets = mkdtempSync(join(tmpdir(), `vigil-redis-outage-${placement}-`));
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const hook = new LocalReceiver("webhook", secret);
  let redis: PrivateRedis;
  let h: Harness;
  let clickhouse: TestClickHouse | undefined;
  // The test's own reads: on a server, as the administrator (ingest may not read).
  let reader: ClickHouseClient;

  beforeAll(async () => {
    if (placement === "server") {
      clickhouse = new TestClickHouse();
      await clickhouse.start();
    }
    await hook.start();
    redis = new PrivateRedis(await freePort());
    await redis.start();
    writeFileSync(join(secrets, "hook"), secret);
    h = await startVigil(["support-bot"], {
      env: { REDIS_URL: redis.url, VIGIL_DETECT_INTERVAL_SECONDS: "1", VIGIL_DISPATCH_INTERVAL_SECONDS: "0.2" },
      extraYaml:
        `receivers:\n  - name: hook\n    webhook: {url: "${hook.url}", secret: {file: ${join(secrets, "hook")}}}\n` +
        "route:\n  receiver: hook\n  group_by: [session]\n  group_wait: 0s\n",
      ...(clickhouse === undefined ? {} : { clickhouse }),
    });
    reader = clickhouse === undefined ? h.vigil.client : clickhouse.adminClient();
  });
  afterAll(async () => {
    if (reader !== h.vigil.client) await reader.close();
    await h.stop();
    await redis.stop();
    await hook.stop();
    await clickhouse?.stop();
    rmSync(secrets, { recursive: true, force: true });
  });

  const drop = (session: string) =>
    fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        { traceId: randomBytes(16).toString("hex"), attrs: { "session.id": session, "db.query.text": "DROP TABLE t" } },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
    }).then((r) => r.status);

  const delivered = (session: string) =>
    hook.valid().some((m) => (m.body.alerts as Array<{ session_id: string }>).some((a) => a.session_id === session));

  it("keeps ingesting through a 30 s Redis outage, then detects and delivers everything", async () => {
    expect(await drop("before")).toBe(200);
    await until("the alert before the outage delivered", () => delivered("before") || undefined);

    await redis.stop();
    const during: string[] = [];
    const outageEnds = Date.now() + 30_000;
    for (let i = 0; Date.now() < outageEnds; i++) {
      during.push(`during-${i}`);
      expect(await drop(`during-${i}`)).toBe(200); // ingest does not depend on Redis
      await new Promise((r) => setTimeout(r, 3000));
    }
    // Detection does not wait for Redis either: it catches up from its cursor.
    await until("alerts raised during the outage", async () => {
      const sessions = new Set((await findAlerts(reader, { limit: 1000 })).map((a) => a.sessionId));
      return during.every((s) => sessions.has(s)) || undefined;
    });
    await redis.start();
    expect(await drop("after")).toBe(200);
    await until("every alert delivered", () => [...during, "after"].every(delivered) || undefined, 60_000);
    // Each group's notification arrived once or more (at least once), never as two groups.
    const keys = new Map<string, Set<string>>();
    for (const m of hook.valid()) {
      const s = (m.body.alerts as Array<{ session_id: string }>)[0]?.session_id as string;
      keys.set(s, (keys.get(s) ?? new Set()).add((m.body.group as { key: string }).key));
    }
    for (const set of keys.values()) expect(set.size).toBe(1);
    // Every acknowledged span stored, none twice (one span a request, one session each).
    const acknowledged = ["before", ...during, "after"];
    const rs = await reader.query({
      query: "SELECT session_id AS s, count() AS n FROM spans GROUP BY session_id ORDER BY session_id",
      format: "JSONEachRow",
    });
    const stored = new Map((await rs.json<{ s: string; n: string }>()).map((r) => [r.s, Number(r.n)]));
    const total = [...stored.values()].reduce((a, n) => a + n, 0);
    const lost = acknowledged.filter((s) => !stored.has(s));
    const duplicated = total - stored.size;
    expect(lost).toEqual([]);
    expect(duplicated).toBe(0);
    expect(total).toBe(acknowledged.length);
    process.stdout.write(
      `redis-outage (${placement}): ${acknowledged.length} requests acknowledged (${during.length} during the 30 s outage), ` +
        `${total} spans stored, ${duplicated} duplicated, ${lost.length} lost; ` +
        `${during.length + 1} alerts raised while or after Redis was down, all delivered, each group under one key\n`,
    );
  }, 150_000);
});
