import { afterAll, beforeAll, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { countSpans } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * Backpressure: with a small bound on rows waiting to be stored, a burst of concurrent
 * requests gets 429 with Retry-After for what does not fit (nothing buffered past the
 * bound), every refused request is taken when sent again, and each span is stored once.
 */
let h: Harness;
beforeAll(async () => {
  h = await startVigil(["support-bot"], { env: { VIGIL_MAX_PENDING_ROWS: "100" } });
});
afterAll(async () => {
  await h.stop();
});

const SPANS = 60;
const body = (): string =>
  jsonTraceRequest(
    Array.from({ length: SPANS }, (_, i) => ({
      traceId: randomBytes(16).toString("hex"),
      spanId: (i + 1).toString(16).padStart(16, "0"),
      attrs: { "session.id": "burst", "gen_ai.tool.name": "lookup" },
    })),
  );

it("answers 429 with Retry-After past the pending bound, and takes every refused request when sent again", async () => {
  const send = (b: string) =>
    fetch(h.ingestUrl, {
      method: "POST",
      body: b,
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"] as string}` },
    });
  const bodies = Array.from({ length: 24 }, body);
  let peakPending = 0;
  const watch = setInterval(() => (peakPending = Math.max(peakPending, h.vigil.ingest.batcher.pending)), 1);
  const answers = await Promise.all(bodies.map(async (b) => ({ b, res: await send(b) })));
  clearInterval(watch);

  const refused = answers.filter((a) => a.res.status === 429);
  expect(refused.length).toBeGreaterThan(0);
  expect(answers.every((a) => a.res.status === 200 || a.res.status === 429)).toBe(true);
  for (const { res } of refused) {
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await res.text()).toContain("ingest is at capacity");
  }
  // Never more waiting than the bound allows: one request may pass it only when alone.
  expect(peakPending).toBeLessThanOrEqual(100 + SPANS);
  expect(h.vigil.ingest.stats.requestsRejected.unavailable).toBe(refused.length);

  // It recovers by itself: the refused requests are taken when sent again (as an exporter retries).
  let retries = 0;
  await until(
    "every refused request taken",
    async () => {
      const left = [];
      for (const a of refused) if ((await send(a.b)).status !== 200) left.push(a);
      retries++;
      refused.splice(0, refused.length, ...left);
      return left.length === 0;
    },
    30_000,
  );
  expect(retries).toBeGreaterThan(0);
  expect(await countSpans(h.vigil.client)).toBe(bodies.length * SPANS);
});
