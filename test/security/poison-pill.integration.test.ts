import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractFacts } from "@vigil/facts";
import { decodeTraceRequestJson } from "@vigil/otlp";
import { encodeSpanRows } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * One agent sends spans the store cannot hold while another sends valid ones at the
 * same time, through the real all-in-one: the bad agent must fail alone. Before, one
 * lone surrogate or one end time past 2262 made the engine refuse the whole group
 * INSERT, and most of the other agent's requests got 503.
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["honest-bot", "poison-bot"]);
});

afterAll(async () => {
  await h?.stop();
});

const traceId = (n: number, prefix: string) => prefix + n.toString(16).padStart(32 - prefix.length, "0");

async function post(agent: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens[agent]}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** JSON bodies the engine would refuse, each with one well-formed span beside it. */
function poisonBodies(n: number): Array<{ what: string; body: string }> {
  const good = { traceId: traceId(n, "b0"), spanId: "00000000000000b1", attrs: { "gen_ai.tool.name": "lookup" } };
  const withLoneSurrogate = jsonTraceRequest([
    good,
    { traceId: traceId(n, "b1"), attrs: { "gen_ai.tool.name": "lookup", "tool.input": "x\ud800y" } },
  ]);
  const endPastRange = JSON.parse(jsonTraceRequest([good, { traceId: traceId(n, "b2"), attrs: {} }])) as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
  };
  const spans = endPastRange.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
  (spans[1] as Record<string, unknown>).endTimeUnixNano = "18446744073709551615";
  const surrogateName = jsonTraceRequest([{ traceId: traceId(n, "b3"), name: "step\udc00", attrs: {} }]);
  const surrogateInResource = jsonTraceRequest([good], { "service.name": "poison\ud83d" });
  return [
    { what: "lone surrogate in an attribute", body: withLoneSurrogate },
    { what: "end time past DateTime64(9)", body: JSON.stringify(endPastRange) },
    { what: "lone surrogate in the span name", body: surrogateName },
    { what: "lone surrogate in a resource attribute", body: surrogateInResource },
  ];
}

describe("a malformed span fails only the agent that sent it", () => {
  it("keeps every valid request of another agent stored and acknowledged while a bad agent keeps sending", async () => {
    const honestRequests = 60;
    let stop = false;
    const poisonAnswers: Array<{ what: string; status: number; rejected: unknown; message: unknown }> = [];
    const poisoner = (async () => {
      for (let n = 0; !stop; n++) {
        for (const { what, body } of poisonBodies(n)) {
          const res = await post("poison-bot", body);
          const partial = res.body.partialSuccess as Record<string, unknown> | undefined;
          poisonAnswers.push({
            what,
            status: res.status,
            rejected: partial?.rejectedSpans,
            message: partial?.errorMessage ?? res.body.message,
          });
        }
      }
    })();
    // Four honest senders in parallel, so their requests share group INSERTs with the
    // poison agent's.
    const honestStatuses: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let i = lane; i < honestRequests; i += 4) {
          const res = await post(
            "honest-bot",
            jsonTraceRequest([{ traceId: traceId(i, "a0"), attrs: { "gen_ai.tool.name": "search_tickets" } }]),
          );
          honestStatuses.push(res.status);
        }
      }),
    );
    stop = true;
    await poisoner;

    expect(honestStatuses.filter((s) => s !== 200)).toEqual([]);
    expect(honestStatuses).toHaveLength(honestRequests);
    // The bad agent is told precisely what was wrong: partial success for a bad span
    // beside a good one, 400 for a request whose resource is bad.
    const seen = (what: string) => poisonAnswers.filter((a) => a.what === what);
    for (const a of seen("lone surrogate in an attribute"))
      expect(a).toMatchObject({ status: 200, rejected: "1", message: expect.stringMatching(/lone UTF-16 surrogate/) });
    for (const a of seen("end time past DateTime64(9)"))
      expect(a).toMatchObject({ status: 200, rejected: "1", message: expect.stringMatching(/end_time_unix_nano/) });
    for (const a of seen("lone surrogate in the span name"))
      expect(a).toMatchObject({ status: 200, rejected: "1", message: expect.stringMatching(/lone UTF-16 surrogate/) });
    for (const a of seen("lone surrogate in a resource attribute"))
      expect(a).toMatchObject({ status: 400, message: expect.stringMatching(/lone UTF-16 surrogate/) });
    expect(seen("lone surrogate in a resource attribute").length).toBeGreaterThan(0);

    const stored = await h.vigil.client.query({
      query: "SELECT agent_id, count() AS n FROM spans GROUP BY agent_id ORDER BY agent_id",
      format: "JSONEachRow",
    });
    const counts = Object.fromEntries(
      (await stored.json<{ agent_id: string; n: string }>()).map((r) => [r.agent_id, Number(r.n)]),
    );
    expect(counts["honest-bot"]).toBe(honestRequests);
    // The poison agent's good spans (one beside each bad one) are stored too.
    const withGoodSpan = [...seen("lone surrogate in an attribute"), ...seen("end time past DateTime64(9)")];
    expect(counts["poison-bot"]).toBe(withGoodSpan.length);
  });

  it("when the engine itself refuses a row that passed ingest's checks, only that request fails and the ledger still verifies", async () => {
    // A row no decoder can produce (a raw line with a bad escape), submitted straight
    // to the real batcher beside two valid ones, so the three share one INSERT.
    const batcher = h.vigil.ingest.batcher;
    const encode = (n: number, corrupt: boolean) => (batchId: string) => {
      const { spans } = decodeTraceRequestJson(
        jsonTraceRequest([{ traceId: traceId(n, "c0"), attrs: { "gen_ai.tool.name": "engine-check" } }]),
      );
      const rows = encodeSpanRows(
        spans,
        spans.map((s) => extractFacts(s, {})),
        undefined,
        { batchId, agentId: "honest-bot", receivedAtMs: Date.now(), requestDigest: `engine-check-${n}` },
      );
      return corrupt ? { ...rows, body: Buffer.from(rows.body.toString().replace('"step"', '"step\\ud800"')) } : rows;
    };
    const held = batcher.submit(1, encode(1, false)); // starts an INSERT at once
    const together = [
      batcher.submit(1, encode(2, false)),
      batcher.submit(1, encode(3, true)),
      batcher.submit(1, encode(4, false)),
    ];
    const outcome = await Promise.all(
      [held, ...together].map((p) =>
        p.then(
          () => "stored",
          (err: unknown) => String(err),
        ),
      ),
    );
    expect(outcome).toEqual(["stored", "stored", expect.stringMatching(/surrogate|escape/i), "stored"]);
    const rs = await h.vigil.client.query({
      query: "SELECT count() AS n FROM spans WHERE tool = 'engine-check'",
      format: "JSONEachRow",
    });
    expect((await rs.json<{ n: number | string }>()).map((r) => Number(r.n))).toEqual([3]);
    await h.vigil.checkpointer.checkpoint();
    const verified = await apiCall(h, "/api/verify", h.apiKeys.admin);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ ok: true, problems: [] });
  });
});
