import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * The inbox used to filter and sort alerts by event time, which the agent states: an
 * alert for a DROP backdated 30 days was delivered but absent from `since=1h`, and 250
 * future-dated alerts pushed every real one out of a first page that had no next page.
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["time-bot"], { env: { VIGIL_DETECT_INTERVAL_SECONDS: "3600" } });
});

afterAll(async () => {
  await h?.stop();
});

const send = async (spans: Parameters<typeof jsonTraceRequest>[0]) => {
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest(spans),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["time-bot"]}` },
  });
  expect(res.status).toBe(200);
};
const sql = (statement: string) => ({ "db.system.name": "postgresql", "db.query.text": statement });
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

describe("alerts are found by when Vigil raised them", () => {
  it("lists a backdated DROP's alert under since=1h, and pages through a future-dated flood to the real alert", async () => {
    const day = 86_400_000_000_000n;
    await send([
      { traceId: "bac4da7e".padEnd(32, "0"), startNs: nowNs() - 30n * day, attrs: sql("DROP TABLE ledger_archive") },
    ]);
    const flood = Array.from({ length: 250 }, (_, i) => ({
      traceId: `f100d${i.toString(16).padStart(27, "0")}`,
      startNs: nowNs() + 50n * 60_000_000_000n, // 50 minutes ahead: inside the clock-skew allowance
      attrs: sql(`DELETE FROM scratch_${i}`),
    }));
    await send(flood);
    await send([{ traceId: "4ea1d409".padEnd(32, "0"), attrs: sql("DROP TABLE payments") }]);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();

    const recent = (await apiCall(h, "/api/alerts?since=1h&limit=1000", h.apiKeys.reader)).body as { alerts: Alert[] };
    expect(recent.alerts.map((a) => a.summary)).toContain(
      "time-bot ran DROP TABLE on ledger_archive without a human approval",
    );

    // Page by page, 100 at a time, every alert is reached, the real one included.
    const seen: Alert[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const path = `/api/alerts?limit=100${cursor === undefined ? "" : `&cursor=${cursor}`}`;
      const page = (await apiCall(h, path, h.apiKeys.reader)).body as { alerts: Alert[]; nextCursor?: string };
      seen.push(...page.alerts);
      cursor = page.nextCursor;
      if (cursor === undefined) break;
    }
    // 250 DELETEs, two DROPs, and the backdated DROP's batch flagged as backdated.
    expect(seen).toHaveLength(253);
    expect(new Set(seen.map((a) => a.alertId)).size).toBe(253);
    expect(seen.filter((a) => a.detector === "backdated_spans").map((a) => a.summary)).toEqual([
      "time-bot sent 1 span(s) dated up to 30.0 days before Vigil received them",
    ]);
    expect(seen.map((a) => a.summary)).toContain("time-bot ran DROP TABLE on payments without a human approval");
    expect((await apiCall(h, "/api/alerts?cursor=not-a-cursor", h.apiKeys.reader)).status).toBe(400);
  });
});
