import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonTraceRequest } from "../support/otlp-json";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * The embedded engine runs one statement at a time, so a reader's query holds ingest's
 * writes while it runs: three reader queries of 10 s once stalled ingest for 29 s. Now a
 * reader's query there gets a time slice (VIGIL_EMBEDDED_SQL_SLICE_SECONDS, 0.03 s) and
 * starts only when no write is waiting. Two readers hammer the endpoint with queries that
 * would run for minutes while an agent sends; every span must be stored, no request may
 * wait for more than a few slices, and the readers are told why they were cut off.
 * (`npm run bench:sql-contention` prints the p99 figures.)
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["busy-bot"]);
});

afterAll(async () => {
  await h?.stop();
});

describe("reader SQL cannot stall ingest on the embedded engine", () => {
  it("keeps storing every span, each within a bounded wait, while two readers run endless queries", async () => {
    let hammering = true;
    const answers: Array<{ status: number; error: string; message: string }> = [];
    const reader = async (key: string) => {
      while (hammering) {
        const res = await fetch(`${h.apiUrl}/api/sql`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ sql: "SELECT count() AS n FROM numbers(1000000000000) WHERE number % 7 = 3" }),
        });
        answers.push((await res.json()) as { status: number; error: string; message: string });
      }
    };
    const readers = [reader(h.apiKeys.reader), reader(h.apiKeys.admin)];
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      const res = await fetch(h.ingestUrl, {
        method: "POST",
        body: jsonTraceRequest([{ traceId: (0xa000 + i).toString(16).padStart(32, "0"), attrs: {} }]),
        headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["busy-bot"]}` },
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      latencies.push(performance.now() - started);
    }
    hammering = false;
    await Promise.all(readers);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `ingest while two readers hammer SQL: p50 ${sorted[15]?.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms; ` +
        `${answers.length} SQL answers: ${[...new Set(answers.map((a) => a.error))].join(", ")}`,
    );
    // Before: a request waited for whole 10 s queries. A few slices and writes is the bound now.
    expect(Math.max(...latencies)).toBeLessThan(3000);
    expect(answers.length).toBeGreaterThan(0);
    for (const a of answers)
      expect(a).toMatchObject({
        error: "over_limit",
        message: expect.stringContaining("longer than 0.03 s, the most the embedded store gives one query"),
      });
    const rs = await h.vigil.client.query({
      query: "SELECT count() AS n FROM spans WHERE agent_id = 'busy-bot'",
      format: "JSONEachRow",
    });
    expect((await rs.json<{ n: number | string }>()).map((r) => Number(r.n))).toEqual([30]);
  });
});
