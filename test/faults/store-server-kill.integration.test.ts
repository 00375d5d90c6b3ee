import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClickHouse } from "../support/clickhouse-server";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * The ClickHouse server is killed (SIGKILL) and restarted, three times, while agents
 * send without pause to the all-in-one in server mode, each service as its own user.
 * Senders behave as OTLP exporters: on 503 or a dropped connection they send the same
 * body again after Retry-After. The kills land wherever they land (in an INSERT, in a
 * ledger write, between them): every acknowledged request must be stored exactly once,
 * every refused one taken on a resend, and the ledger must verify intact afterwards.
 */
const clickhouse = new TestClickHouse();
let h: Harness;

beforeAll(async () => {
  await clickhouse.start();
  h = await startVigil(["steady-bot"], { clickhouse });
});

afterAll(async () => {
  await h?.stop();
  await clickhouse.stop();
});

const REQUESTS = 240;
const SPANS_PER_REQUEST = 3;
// (Never all zeros: OTLP makes that trace id invalid.)
const traceOf = (request: number, span: number) =>
  `${(request + 1).toString(16).padStart(8, "0")}${span.toString(16).padStart(24, "0")}`;

describe("store server killed during sustained ingest", () => {
  it("acknowledges nothing it lost and stores nothing twice, across three kills", async () => {
    const counts = { acknowledged: 0, refused503: 0, connectionErrors: 0, other: 0 };
    let next = 0;
    const sender = async () => {
      for (let i = next++; i < REQUESTS; i = next++) {
        const body = jsonTraceRequest(
          Array.from({ length: SPANS_PER_REQUEST }, (_, s) => ({
            traceId: traceOf(i, s),
            attrs: { "gen_ai.tool.name": "t" },
          })),
        );
        for (;;) {
          const res = await fetch(h.ingestUrl, {
            method: "POST",
            body,
            headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["steady-bot"]}` },
          }).catch(() => undefined);
          if (res === undefined) counts.connectionErrors++;
          else {
            await res.arrayBuffer();
            if (res.status === 200) {
              counts.acknowledged++;
              break;
            }
            if (res.status === 503) {
              counts.refused503++;
              expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
            } else counts.other++;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const senders = Promise.all([sender(), sender(), sender(), sender()]);
    for (const afterRequests of [40, 110, 180]) {
      await until(`${afterRequests} requests acknowledged`, () => counts.acknowledged >= afterRequests, 120_000);
      await clickhouse.kill();
      await new Promise((r) => setTimeout(r, 700)); // the store stays down for a moment
      await clickhouse.start();
    }
    await senders;
    await h.vigil.ingest.drain();
    await until("every refused batch settled", async () => {
      await h.vigil.ingest.unresolved.settleAll();
      return h.vigil.ingest.unresolved.size === 0;
    });

    // Read as the test's administrator: ingest's own user may not read span contents.
    const stored = JSON.parse(
      await clickhouse.query(
        "SELECT count() AS spans, uniqExact(trace_id) AS distinct_spans FROM vigil.spans WHERE agent_id = 'steady-bot' FORMAT JSONEachRow",
      ),
    ) as { spans: number | string; distinct_spans: number | string };
    const total = Number(stored?.spans);
    const distinct = Number(stored?.distinct_spans);
    console.log(
      `store-server-kill: ${REQUESTS} requests, ${counts.acknowledged} acknowledged, ${counts.refused503} answers 503, ` +
        `${counts.connectionErrors} connection errors, ${counts.other} other; stored ${total} spans, ` +
        `${distinct} distinct of ${REQUESTS * SPANS_PER_REQUEST} sent: ${total - distinct} duplicated, ` +
        `${REQUESTS * SPANS_PER_REQUEST - distinct} lost`,
    );
    expect(counts.acknowledged).toBe(REQUESTS);
    expect(counts.other).toBe(0);
    expect(distinct).toBe(REQUESTS * SPANS_PER_REQUEST);
    expect(total).toBe(distinct);

    await h.vigil.checkpointer.checkpoint();
    const verified = await apiCall(h, "/api/verify", h.apiKeys.admin);
    expect(verified.body).toMatchObject({ ok: true, problems: [] });
  }, 240_000);
});
