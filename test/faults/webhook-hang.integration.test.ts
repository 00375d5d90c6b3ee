import { afterAll, beforeAll, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { findAttempts } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { LocalReceiver } from "../support/receivers";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * A webhook receiver that accepts connections and never answers, during sustained ingest
 * of incidents: ingest keeps acknowledging every request, the healthy receiver gets every
 * alert, and the hanging one costs only its own queue (timeouts recorded and retried).
 */
const secrets = mkdtempSync(join(tmpdir(), "vigil-hang-"));
const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
const healthy = new LocalReceiver("webhook", webhookSecret);
const hanging = new LocalReceiver("webhook", webhookSecret);
let h: Harness;

beforeAll(async () => {
  await Promise.all([healthy.start(), hanging.start()]);
  hanging.fallback = "hang";
  const secretFile = join(secrets, "hook");
  writeFileSync(secretFile, webhookSecret, { mode: 0o600 });
  const hook = (name: string, url: string) =>
    `  - name: ${name}\n    webhook: {url: "${url}", secret: {file: ${secretFile}}}\n`;
  // One group per session, so every incident is its own notification to each receiver.
  const extraYaml =
    `receivers:\n${hook("hook-ok", healthy.url)}${hook("hook-hang", hanging.url)}` +
    `route:\n  receiver: hook-ok\n  group_by: [session]\n  group_wait: 0s\n  routes:\n` +
    `    - {match: {kind: [rule]}, receiver: hook-hang, continue: true}\n` +
    `    - {match: {kind: [rule]}, receiver: hook-ok}\n`;
  h = await startVigil(["ops-bot"], {
    extraYaml,
    env: {
      VIGIL_DISPATCH_INTERVAL_SECONDS: "0.2",
      VIGIL_DELIVERY_TIMEOUT_SECONDS: "1",
      VIGIL_DETECT_INTERVAL_SECONDS: "1",
    },
  });
});

afterAll(async () => {
  await h.stop();
  await Promise.all([healthy.stop(), hanging.stop()]);
  rmSync(secrets, { recursive: true, force: true });
});

it("keeps ingest and the healthy receiver going while a webhook hangs", async () => {
  const incidents = 12;
  const statuses: number[] = [];
  // Sustained ingest: a DROP TABLE without approval (an alert) every 250 ms, each its own session.
  for (let i = 0; i < incidents; i++) {
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        {
          traceId: randomBytes(16).toString("hex"),
          name: "drop",
          attrs: { "session.id": `hang-${i}`, "db.query.text": "DROP TABLE customers" },
        },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["ops-bot"] as string}` },
    });
    statuses.push(res.status);
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(statuses.filter((s) => s !== 200)).toEqual([]);

  const sessionsDelivered = () =>
    new Set(healthy.valid().flatMap((m) => (m.body.alerts as Array<{ session_id: string }>).map((a) => a.session_id)));
  await until("every incident at the healthy receiver", () => sessionsDelivered().size === incidents, 60_000);
  expect(healthy.received.filter((m) => m.problems.length > 0)).toEqual([]);

  // The hanging receiver was reached and its attempts end in recorded timeouts, to retry.
  await until("a timeout recorded for the hanging receiver", async () =>
    (await findAttempts(h.vigil.client, { receiver: "hook-hang" })).some((a) => a.outcome === "retry"),
  );
  const hangAttempts = await findAttempts(h.vigil.client, { receiver: "hook-hang" });
  expect(hangAttempts.every((a) => a.outcome === "retry" && a.statusCode === 0)).toBe(true);
  expect(hangAttempts[0]?.error).toContain("no response within 1000 ms");
  const okAttempts = await findAttempts(h.vigil.client, { receiver: "hook-ok" });
  process.stdout.write(
    `webhook-hang: ${incidents} requests sent, ${statuses.filter((s) => s === 200).length} acknowledged; ` +
      `${sessionsDelivered().size} of ${incidents} incidents delivered to the healthy receiver ` +
      `(${okAttempts.filter((a) => a.outcome === "delivered").length} deliveries), ` +
      `${hanging.received.length} requests reached the hanging one, ${hangAttempts.length} attempts timed out and were queued to retry\n`,
  );
});
