import { afterAll, beforeAll, expect, it } from "vitest";
import { Redis } from "ioredis";
import { findAlerts } from "@vigil/store";
import type { BaselineSnapshot } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { PrivateRedis, freePort } from "../support/redis-server";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
let redis: PrivateRedis;
beforeAll(async () => {
  redis = new PrivateRedis(await freePort());
  await redis.start();
  // Detection runs through BullMQ on this Redis, and catches up every second regardless.
  h = await startVigil(undefined, { env: { REDIS_URL: redis.url, VIGIL_DETECT_INTERVAL_SECONDS: "1" } });
});
afterAll(async () => {
  await h.stop();
  await redis.stop();
});

let n = 0;
async function sendDrop(sessionId: string): Promise<number> {
  n++;
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest([
      {
        traceId: `${n.toString(16).padStart(8, "0")}${"ab".repeat(12)}`,
        name: "drop",
        attrs: { "session.id": sessionId, "db.query.text": "DROP TABLE invoices" },
      },
    ]),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  return res.status;
}

async function alertFor(sessionId: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alerts = await findAlerts(h.vigil.client, { detector: "destructive_without_approval", limit: 1000 });
    if (alerts.some((a) => a.sessionId === sessionId)) return;
    if (Date.now() > deadline) throw new Error(`no alert for ${sessionId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it("detects through the BullMQ worker on real Redis, keeps ingesting while Redis is down, and catches up", async () => {
  expect(await sendDrop("before")).toBe(200);
  await alertFor("before");
  // The batch went through the queue: BullMQ recorded a completed detect job.
  const probe = new Redis(redis.url);
  const deadline = Date.now() + 10_000;
  while ((await probe.zcard("bull:vigil-detect:completed")) < 1 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  expect(await probe.zcard("bull:vigil-detect:completed")).toBeGreaterThanOrEqual(1);
  probe.disconnect();

  await redis.stop();
  // Ingest does not depend on Redis: spans are acknowledged and stored.
  for (const s of ["during-1", "during-2", "during-3"]) expect(await sendDrop(s)).toBe(200);
  // Detection catches up from the ledger cursor without any queue job.
  await alertFor("during-1");
  await alertFor("during-3");

  await redis.start();
  expect(await sendDrop("after")).toBe(200);
  await alertFor("after");

  // Every batch was examined once: one alert per session, no duplicates.
  const alerts = await findAlerts(h.vigil.client, { detector: "destructive_without_approval", limit: 1000 });
  expect(alerts.map((a) => a.sessionId).sort()).toEqual(["after", "before", "during-1", "during-2", "during-3"]);
}, 60_000);

it("schedules baseline rebuilds on the BullMQ queue and queues one on request", async () => {
  // The job scheduler is kept in Redis (one schedule for every worker process), and set
  // again after the restart above wiped this Redis.
  const probe = new Redis(redis.url);
  const deadlineScheduled = Date.now() + 10_000;
  while (Date.now() < deadlineScheduled && (await probe.zrange("bull:vigil-baselines:repeat", "0", "-1")).length === 0)
    await new Promise((r) => setTimeout(r, 50));
  expect(await probe.zrange("bull:vigil-baselines:repeat", "0", "-1")).toEqual(["baselines-every"]);

  const asked = Date.now();
  const res = await apiCall(h, "/api/baselines/rebuild", h.apiKeys.admin, { method: "POST" });
  expect(res.status).toBe(202);
  const { jobId } = res.body as { status: string; jobId: string };
  expect(jobId).not.toBe("");
  // The worker consumes the job and stores a snapshot of the agent that sent spans.
  const deadline = Date.now() + 20_000;
  let builtAtMs = 0;
  while (Date.now() < deadline) {
    const { body } = await apiCall(h, "/api/baselines?agent=support-bot", h.apiKeys.reader);
    builtAtMs = (body as { baselines: BaselineSnapshot[] }).baselines[0]?.builtAtMs ?? 0;
    if (builtAtMs >= asked) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(builtAtMs).toBeGreaterThanOrEqual(asked);
  expect(await probe.hget(`bull:vigil-baselines:${jobId}`, "finishedOn")).not.toBeNull();
  probe.disconnect();
});
