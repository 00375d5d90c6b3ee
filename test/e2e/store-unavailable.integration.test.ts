import { afterAll, beforeAll, expect, it } from "vitest";
import { encodeProtobufRequest, richRequest } from "../support/otlp-fixtures";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
beforeAll(async () => {
  h = await startVigil();
});
afterAll(async () => {
  await h.stop();
});

it("answers 503 with Retry-After when the store cannot take the write", async () => {
  const headers = {
    "content-type": "application/x-protobuf",
    authorization: `Bearer ${h.tokens["support-bot"] as string}`,
  };
  const body = Buffer.from(encodeProtobufRequest(richRequest()));
  expect((await fetch(h.ingestUrl, { method: "POST", body, headers })).status).toBe(200);

  await h.vigil.client.close(); // the store goes away under a running ingest
  const retry = Buffer.from(encodeProtobufRequest(richRequest("77777777777777777777777777777777")));
  const res = await fetch(h.ingestUrl, { method: "POST", body: retry, headers });
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(h.vigil.ingest.stats.requestsRejected.unavailable).toBe(1);
  expect(h.vigil.ingest.batcher.pending).toBe(0);
});
