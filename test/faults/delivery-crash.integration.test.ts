import { afterAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { generateToken, sha256Hex } from "@vigil/config";
import { jsonTraceRequest } from "../support/otlp-json";
import { LocalReceiver } from "../support/receivers";
import { until } from "../support/wait";
import { PrivateRedis, freePort } from "../support/redis-server";
import { spawnVigil } from "../support/vigil-process";
import type { VigilProcess } from "../support/vigil-process";

const SESSIONS = Array.from({ length: 8 }, (_, i) => `crash-session-${i}`);

describe.each(["in-process", "bullmq"] as const)("SIGKILL in the middle of delivering (%s)", (placement) => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-crash-"));
  const token = generateToken();
  const adminKey = generateToken("vak_");
  const pager = new LocalReceiver("pagerduty");
  let redis: PrivateRedis | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill("SIGKILL");
    await pager.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(): VigilProcess {
    const proc = spawnVigil({
      VIGIL_DATA_DIR: join(dir, "data"),
      VIGIL_CONFIG: join(dir, "vigil.yaml"),
      VIGIL_DISPATCH_INTERVAL_SECONDS: "0.2",
      ...(redis === undefined ? {} : { REDIS_URL: redis.url }),
    });
    child = proc.child;
    return proc;
  }

  it("delivers every alert after restart, each group under one dedup key, no notification twice under two keys", async () => {
    await pager.start();
    if (placement === "bullmq") {
      redis = new PrivateRedis(await freePort());
      await redis.start();
    }
    writeFileSync(join(dir, "pd-key"), randomBytes(16).toString("hex"));
    writeFileSync(
      join(dir, "vigil.yaml"),
      `agents:\n  - id: billing-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
        `api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(adminKey)}"}\n` +
        `receivers:\n  - name: pager\n    pagerduty: {routing_key: {file: ${join(dir, "pd-key")}}, url: "${pager.url}"}\n` +
        `route:\n  receiver: pager\n  group_by: [agent, session]\n  group_wait: 100ms\n`,
    );
    // PagerDuty is slow at first: deliveries are in flight when the process dies.
    pager.fallback = { status: 202, delayMs: 700 };
    const first = start();
    const ingestPort = await until("the ingest port", () => /"ingestPort":(\d+)/.exec(first.output())?.[1]);
    const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/traces`, {
      method: "POST",
      body: jsonTraceRequest(
        SESSIONS.map((s) => ({
          traceId: randomBytes(16).toString("hex"),
          name: "drop",
          attrs: { "session.id": s, "db.query.text": "DROP TABLE invoices" },
        })),
      ),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    await until("two deliveries under way", () => (pager.received.length >= 2 ? true : undefined));
    first.child.kill("SIGKILL");
    await first.exited;
    const beforeRestart = pager.received.length;
    expect(beforeRestart).toBeLessThan(SESSIONS.length); // the kill did interrupt delivery

    pager.fallback = { status: 202 };
    const second = start();
    const apiPort = await until("the API port", () => /"apiPort":(\d+)/.exec(second.output())?.[1]);
    const sessionOf = (body: Record<string, unknown>): string =>
      /sessions\/([^"]+)/.exec(JSON.stringify(body.links))?.[1] ?? "";
    await until(
      "every session paged",
      () => (SESSIONS.every((s) => pager.valid().some((m) => sessionOf(m.body) === s)) ? true : undefined),
      45_000, // BullMQ hands a dead worker's locked job over after its lock expires
    );
    const triggers = pager.valid().filter((m) => m.body.event_action === "trigger");
    // One group per session, one dedup key per group; a notification re-sent after the
    // crash is the same notification (same id, same key), which PagerDuty deduplicates.
    const keysBySession = new Map<string, Set<string>>();
    const idsByKey = new Map<string, Set<string>>();
    for (const m of triggers) {
      const key = m.body.dedup_key as string;
      keysBySession.set(sessionOf(m.body), (keysBySession.get(sessionOf(m.body)) ?? new Set()).add(key));
      const id = (m.body.payload as { custom_details: { notification_id: string } }).custom_details.notification_id;
      idsByKey.set(key, (idsByKey.get(key) ?? new Set()).add(id));
    }
    expect([...keysBySession.keys()].sort()).toEqual([...SESSIONS].sort());
    for (const keys of keysBySession.values()) expect(keys.size).toBe(1);
    for (const ids of idsByKey.values()) expect(ids.size).toBe(1);
    // Every notification ends delivered, as the attempts record shows.
    const deliveries = await until("every delivery recorded", async () => {
      const r = await fetch(`http://127.0.0.1:${apiPort}/api/deliveries?receiver=pager`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      const { attempts } = (await r.json()) as { attempts: Array<{ notificationId: string; outcome: string }> };
      const delivered = new Set(attempts.filter((a) => a.outcome === "delivered").map((a) => a.notificationId));
      return delivered.size >= SESSIONS.length ? delivered : undefined;
    });
    expect(deliveries.size).toBe(SESSIONS.length);
    process.stdout.write(
      `delivery-crash (${placement}): ${SESSIONS.length} alert groups, ${beforeRestart} pages sent before the SIGKILL; ` +
        `after restart ${keysBySession.size} of ${SESSIONS.length} groups paged, ${triggers.length} trigger requests ` +
        `(${triggers.length - SESSIONS.length} re-sent with the same id and key), ${SESSIONS.filter((x) => !keysBySession.has(x)).length} lost\n`,
    );
    second.child.kill("SIGTERM");
    await second.exited;
  }, 90_000);
});
