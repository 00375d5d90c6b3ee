import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findAlerts } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * The alert id used to be derived from the detector, the agent and the span's trace and
 * span ids, which the agent chooses. An agent sending a decoy `DELETE FROM tmp_cache`
 * and then `DROP TABLE payments` under the same ids got only the decoy's alert: the
 * DROP's had the same id and was dropped as a repeat.
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["sly-bot"], { env: { VIGIL_DETECT_INTERVAL_SECONDS: "3600" } });
});

afterAll(async () => {
  await h?.stop();
});

describe("alert ids the agent cannot collide", () => {
  it("alerts the DROP behind a decoy sent under the same trace and span ids, and examining again adds nothing", async () => {
    const ids = { traceId: "c011ded0".padEnd(32, "e"), spanId: "c011ded0c011ded0" };
    const db = (statement: string) => ({ "db.system.name": "postgresql", "db.query.text": statement });
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        { ...ids, attrs: { ...db("DELETE FROM tmp_cache"), "session.id": "decoy" } },
        { ...ids, attrs: { ...db("DROP TABLE payments"), "session.id": "decoy" } },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["sly-bot"]}` },
    });
    expect(res.status).toBe(200);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    const alerts = await findAlerts(h.vigil.client, { detector: "destructive_without_approval" });
    expect(alerts.map((a) => a.summary).sort()).toEqual([
      "sly-bot ran DELETE without WHERE on tmp_cache without a human approval",
      "sly-bot ran DROP TABLE on payments without a human approval",
    ]);
    // The reuse itself is flagged once, naming both.
    const reuse = await findAlerts(h.vigil.client, { detector: "span_id_reuse" });
    expect(reuse.map((a) => a.summary)).toEqual(["sly-bot sent 2 different spans under one trace and span id"]);
    // The same stored spans examined again give the same ids: no duplicates.
    await h.vigil.detection.trigger();
    expect(await findAlerts(h.vigil.client, { detector: "destructive_without_approval" })).toHaveLength(2);
    expect(await findAlerts(h.vigil.client, { detector: "span_id_reuse" })).toHaveLength(1);
  });

  it("does not flag an exporter's retry: the same span sent again under its ids", async () => {
    const span = {
      traceId: "5a4e5a4e".padEnd(32, "1"),
      spanId: "5a4e5a4e5a4e5a4e",
      startNs: 1_796_000_000_000_000_000n,
    };
    const body = (extra: Record<string, string>) =>
      jsonTraceRequest([
        { ...span, attrs: { "gen_ai.tool.name": "lookup", "session.id": "retry" } },
        ...(extra.second === "1" ? [{ traceId: "5a4e5a4e".padEnd(32, "2"), attrs: {} }] : []),
      ]);
    // Two different requests (so dedup by request body does not answer the second) carrying the same span.
    for (const extra of [{}, { second: "1" }]) {
      const res = await fetch(h.ingestUrl, {
        method: "POST",
        body: body(extra),
        headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["sly-bot"]}` },
      });
      expect(res.status).toBe(200);
    }
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    const reuse = await findAlerts(h.vigil.client, { detector: "span_id_reuse" });
    expect(reuse.filter((a) => a.traceId === span.traceId)).toEqual([]);
  });
});
