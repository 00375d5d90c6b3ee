import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startHttpServer } from "@vigil/common";
import { generateToken, parseVigilConfig, sha256Hex } from "@vigil/config";
import { RecentBatches } from "@vigil/detect";
import { createIngestService } from "@vigil/service-ingest";
import type { IngestService } from "@vigil/service-ingest";
import { findBatchSpans, openStoreClient, runMigrations } from "@vigil/store";
import type { ClickHouseClient, DetectSpan } from "@vigil/store";
import { CAPTURED } from "../corpora/db-audit-lines";
import { jsonTraceRequest } from "../support/otlp-json";

/**
 * The all-in-one's detection is handed each committed batch's rows instead of reading
 * them back. What it is handed must be exactly what the store holds, or detection would
 * judge something other than the evidence: the real ingest stores a request with a
 * redacted secret, an impersonation, SQL facts, a session set only on the root span and
 * non-ASCII text, and a database audit record; the rows handed over equal the rows read
 * back from the store, field for field and in the same order.
 */
const dir = mkdtempSync(join(tmpdir(), "vigil-handoff-"));
const token = generateToken();
const config = parseVigilConfig(
  `agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
    "audit:\n  sources:\n" +
    `    - id: orders-pg\n      format: pgaudit-jsonlog\n      tokens:\n        - sha256: "${sha256Hex(generateToken())}"\n` +
    "      users:\n        - {user: agent_ro, agent: support-bot, credential: cred-pg}\n",
);
let client: ClickHouseClient;
let ingest: IngestService;
let server: Awaited<ReturnType<typeof startHttpServer>>;
const handed = new Map<string, readonly DetectSpan[]>();

beforeAll(async () => {
  client = openStoreClient({ mode: "embedded", dataDir: dir });
  await runMigrations(client);
  ingest = await createIngestService({
    client,
    config,
    logger: createLogger("error"),
    handOffSpans: true,
    onBatchCommitted: (entry, spans) => {
      if (spans !== undefined) handed.set(entry.batchId, spans);
    },
  });
  server = await startHttpServer(ingest.app, 0, "127.0.0.1");
});

afterAll(async () => {
  await server?.close();
  ingest?.stop();
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("rows handed to detection in process", () => {
  it("are the rows the store holds, field for field, in detection's order", async () => {
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const body = jsonTraceRequest([
      // Children first, as a BatchSpanProcessor exports them; the session is on the root only.
      {
        traceId: trace,
        spanId: "00f067aa0ba902b7",
        parentSpanId: "00f067aa0ba902b1",
        name: "query",
        kind: 3,
        attrs: { "db.system.name": "postgresql", "db.query.text": "DELETE FROM customers WHERE id = 7" },
      },
      {
        traceId: trace,
        spanId: "00f067aa0ba902b8",
        parentSpanId: "00f067aa0ba902b1",
        name: "call",
        kind: 3,
        attrs: {
          "url.full": "https://api.example.com/v1/charges",
          "http.request.header.authorization": "Bearer sk_live_51HxAbCdEfGhIjKlMnOpQrStUv",
          "vigil.credential.id": "cred-stripe",
          "gen_ai.input.messages": "Rückerstattung für Bestellung 7 — bitte prüfen ✓",
        },
      },
      {
        traceId: trace,
        spanId: "00f067aa0ba902b1",
        name: "invoke_agent",
        attrs: { "session.id": "ticket-5042", "gen_ai.agent.id": "billing-bot" },
      },
    ]);
    const res = await fetch(`http://127.0.0.1:${server.port}/v1/traces`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect((await ingest.audit.store("orders-pg", [CAPTURED.pgJsonRefusedDelete], Date.now())).stored).toBe(1);
    await ingest.drain();

    expect(handed.size).toBe(2);
    const fromStore = await findBatchSpans(client, [...handed.keys()]);
    const recent = new RecentBatches();
    for (const [id, spans] of handed) recent.put(id, spans);
    const fromHandOff = await recent.take(client, [...handed.keys()]);
    expect(recent.readBack).toBe(0);
    expect(fromHandOff).toHaveLength(4);
    expect(fromHandOff).toEqual(fromStore);
    // The cases the request was built for did reach the rows.
    const byId = new Map(fromHandOff.map((s) => [s.spanId, s]));
    expect(byId.get("00f067aa0ba902b8")?.integrity.redactions.length).toBeGreaterThan(0);
    expect(byId.get("00f067aa0ba902b1")?.integrity.impersonatedAgent).toBe("billing-bot");
    expect(byId.get("00f067aa0ba902b7")?.facts).toMatchObject({ sessionId: "ticket-5042", destructive: true });
    expect(fromHandOff.filter((s) => s.origin === "db-audit").map((s) => s.facts.credentialId)).toEqual(["cred-pg"]);

    // A batch detection was not handed (settled after a crash, another process's) is read back.
    const again = await new RecentBatches().take(client, [...handed.keys()]);
    expect(again).toEqual(fromStore);
  });
});
