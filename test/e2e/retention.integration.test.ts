import { afterAll, beforeAll, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { verifyStore } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
beforeAll(async () => {
  h = await startVigil(["support-bot"], { extraYaml: "retention:\n  spans: 30\n  delivery_attempts: 7\n" });
});
afterAll(async () => {
  await h.stop();
});

const ddl = async (table: string): Promise<string> => {
  const rs = await h.vigil.client.query({ query: `SHOW CREATE TABLE ${table}`, format: "JSONEachRow" });
  return Object.values((await rs.json<Record<string, string>>())[0] ?? {}).join("");
};

it("sets a TTL per configured table, spans by the time they were received", async () => {
  expect(await ddl("spans")).toMatch(/TTL toDateTime\(received_at\) \+ toIntervalDay\(30\)/);
  expect(await ddl("span_session_index")).toMatch(/TTL toDateTime\(end_time\) \+ toIntervalDay\(30\)/);
  expect(await ddl("delivery_attempts")).toMatch(/TTL toDateTime\(at\) \+ toIntervalDay\(7\)/);
  expect(await ddl("alerts")).not.toContain("TTL");
});

it("verify tells batches the retention removed from rows someone deleted", async () => {
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest([{ traceId: randomBytes(16).toString("hex"), attrs: {} }]),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  expect(res.status).toBe(200);
  await h.vigil.ingest.drain();
  // The rows go, as the TTL would remove them (a mutation with full rights stands in for it).
  await h.vigil.client.command({ query: "ALTER TABLE spans DELETE WHERE 1 SETTINGS mutations_sync = 2" });
  const now = await verifyStore(h.vigil.client, undefined, { spansRetentionDays: 30 });
  expect(now.problems.map((p) => p.kind)).toContain("row_missing"); // within retention: a deletion
  const later = await verifyStore(h.vigil.client, undefined, {
    spansRetentionDays: 30,
    nowMs: Date.now() + 31 * 86_400_000,
  });
  expect(later.problems.filter((p) => p.kind === "row_missing")).toEqual([]);
  expect(later.expiredBatches).toBe(1);
  expect(later.summary).toContain("1 batches past the retention period");
});
