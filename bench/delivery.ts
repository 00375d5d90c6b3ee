/**
 * `npm run bench:delivery`: how long from an alert being stored to a receiver holding
 * it, with the default dispatch interval (1 s), group_wait 0 and one group per alert,
 * in both placements (in-process lanes; BullMQ on a private redis-server). The receiver
 * is a local signed-webhook endpoint checking every request.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createLogger } from "@vigil/common";
import { parseVigilConfig, readEnvironment } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";
import { insertAlerts } from "@vigil/store";
import type { Alert } from "@vigil/store";
import { LocalReceiver } from "../test/support/receivers";
import { PrivateRedis, freePort } from "../test/support/redis-server";
import { until } from "../test/support/wait";

/** A burst (200 alerts, 10 every 100 ms) and a trickle (20 alerts, one every 500 ms). */
const LOADS = [
  { name: "burst", alerts: 200, batch: 10, gapMs: 100 },
  { name: "trickle", alerts: 20, batch: 1, gapMs: 500 },
] as const;
type Load = (typeof LOADS)[number];

function alertAt(i: number): Alert {
  const now = Date.now();
  return {
    alertId: `bench-${randomBytes(8).toString("hex")}`,
    createdAtMs: now,
    eventTimeNs: String(BigInt(now) * 1_000_000n),
    detector: "new_table",
    severity: "high",
    score: 70,
    agentId: "bench-bot",
    environment: "production",
    sessionId: `bench-session-${i}`,
    traceId: randomBytes(16).toString("hex"),
    spanIds: [randomBytes(8).toString("hex")],
    summary: `bench-bot touched table t${i} for the first time`,
    explanation: "benchmark",
    evidence: { table: `t${i}` },
    input: "",
    credentials: [],
    fingerprint: "bench",
  };
}

async function measure(placement: "in-process" | "bullmq", load: Load): Promise<Record<string, number | string>> {
  const { alerts: ALERTS, batch: BATCH, gapMs } = load;
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-delivery-"));
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  writeFileSync(join(dir, "secret"), secret);
  const hook = await new LocalReceiver("webhook", secret).start();
  const redis = placement === "bullmq" ? new PrivateRedis(await freePort()) : undefined;
  await redis?.start();
  const env = readEnvironment({
    VIGIL_DATA_DIR: join(dir, "data"),
    VIGIL_INGEST_PORT: "0",
    VIGIL_API_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    ...(redis === undefined ? {} : { REDIS_URL: redis.url }),
  });
  const config = parseVigilConfig(
    `receivers:\n  - name: hook\n    webhook: {url: "${hook.url}", secret: {file: ${join(dir, "secret")}}}\n    rate_per_second: 1000\n` +
      `route:\n  receiver: hook\n  group_by: [session]\n  group_wait: 0s\n`,
  );
  const vigil = await startAllInOne(env, config, createLogger("warn"));
  const storedAt = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < ALERTS; i += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, j) => alertAt(i + j));
    await insertAlerts(vigil.client, batch);
    const t = performance.now();
    for (const a of batch) storedAt.set(a.alertId, t);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  const arrivedAt = new Map<string, number>();
  await until(
    "every alert delivered",
    () => {
      for (const m of hook.received)
        for (const a of m.body.alerts as Array<{ id: string }>)
          if (!arrivedAt.has(a.id)) arrivedAt.set(a.id, performance.now() - (Date.now() - m.atMs));
      return arrivedAt.size >= ALERTS ? true : undefined;
    },
    120_000,
  );
  const elapsed = (performance.now() - started) / 1000;
  const lat = [...storedAt].map(([id, t]) => (arrivedAt.get(id) as number) - t).sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] as number;
  const invalid = hook.received.filter((m) => m.problems.length > 0).length;
  await vigil.stop();
  await redis?.stop();
  await hook.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    placement,
    load: load.name,
    alerts: ALERTS,
    requests: hook.received.length,
    invalid,
    p50Ms: Math.round(pct(50)),
    p99Ms: Math.round(pct(99)),
    maxMs: Math.round(lat.at(-1) as number),
    seconds: Number(elapsed.toFixed(1)),
  };
}

const rows: Array<Record<string, number | string>> = [];
for (const placement of ["in-process", "bullmq"] as const)
  for (const load of LOADS) rows.push(await measure(placement, load));
process.stdout.write(
  "\nalert stored → signed webhook received (one group per alert, group_wait 0, dispatch every 1 s; burst: 200 alerts, 10 every 100 ms; trickle: 20, one every 500 ms)\n",
);
for (const r of rows)
  process.stdout.write(
    `${`${r.placement}, ${r.load}`.padEnd(20)} p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms; ${r.requests} requests, ${r.invalid} failing the format check; all delivered in ${r.seconds} s\n`,
  );
process.exit(0);
