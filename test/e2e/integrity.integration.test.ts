import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { parseVerifierKey, verifySpanProof } from "@vigil/store";
import type { ClickHouseClient, SpanProof, VerifyReport } from "@vigil/store";
import { encodeProtobufRequest, richRequest } from "../support/otlp-fixtures";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
/** A second connection with full rights: what an attacker with admin access has. */
let admin: ClickHouseClient;
const traceIds: string[] = [];

/** One request of `spans` spans, sent alone so it becomes its own batch and ledger entry. */
async function sendBatch(index: number, spans = 4, startOffsetNs?: number): Promise<string> {
  const traceId = `${index.toString(16).padStart(8, "0")}${"cd".repeat(12)}`;
  const base = richRequest(traceId, startOffsetNs) as {
    resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
  };
  const template = base.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  base.resourceSpans[0]!.scopeSpans[0]!.spans = Array.from({ length: spans }, (_, i) => ({
    ...template,
    spanId: `${(i + 1).toString(16).padStart(16, "0")}`,
  }));
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: Buffer.from(encodeProtobufRequest(base)),
    headers: { "content-type": "application/x-protobuf", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  expect(res.status).toBe(200);
  return traceId;
}

async function batchOf(traceId: string): Promise<{ batchId: string; seq: number }> {
  const rs = await admin.query({
    query: `SELECT toString(s.batch_id) AS b, toString(l.seq) AS seq FROM spans s JOIN ledger l ON l.batch_id = s.batch_id
            WHERE s.trace_id = {t:String} LIMIT 1`,
    query_params: { t: traceId },
    format: "JSONEachRow",
  });
  const row = (await rs.json<{ b: string; seq: string }>())[0];
  return { batchId: row?.b ?? "", seq: Number(row?.seq) };
}

async function verify(): Promise<VerifyReport> {
  const res = await apiCall(h, "/api/verify", h.apiKeys.admin);
  expect(res.status).toBe(200);
  return res.body as VerifyReport;
}

async function tamper(sql: string): Promise<void> {
  await admin.command({ query: sql, clickhouse_settings: { mutations_sync: "2" } });
}

beforeAll(async () => {
  h = await startVigil();
  admin = createClient({ connection: createChdbConnection({ path: join(h.dataDir, "clickhouse") }) as never });
  // Twelve batches: sequence numbers past 9 must still order numerically.
  for (let i = 1; i <= 12; i++) {
    // Batch 6 lies three days back, alone in its daily partition.
    traceIds.push(await sendBatch(i, 4, i === 6 ? -3 * 86_400 * 1e9 : undefined));
  }
  await h.vigil.checkpointer.checkpoint();
});
afterAll(async () => {
  await h.stop();
});

describe("tamper evidence", () => {
  it("reports an untouched store as intact, over the API, to an admin key only", async () => {
    expect((await apiCall(h, "/api/verify", undefined)).status).toBe(401);
    // A full re-verification reads the whole store: a reader may not start one.
    expect((await apiCall(h, "/api/verify", h.apiKeys.reader)).status).toBe(403);
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkedRows).toBe(48);
    expect(report.chains).toEqual([{ chainId: "main", entries: 12, intactUpTo: 12 }]);
    expect(report.checkpoints).toEqual({ checked: 1, valid: 1 });
    expect(report.summary).toMatch(/intact up to sequence 12/);
  });

  it("gives a span inclusion proof that checks offline against the public key, and fails when forged", async () => {
    const proof = (await apiCall(h, `/api/spans/${traceIds[2]}/0000000000000002/proof`, h.apiKeys.reader))
      .body as SpanProof;
    const vkey = readFileSync(join(h.dataDir, "ledger-signing.key.vkey"), "utf8");
    const key = parseVerifierKey(vkey);
    expect(verifySpanProof(proof, key)).toMatchObject({ ok: true, treeSize: 12 });

    const forged = (change: (p: SpanProof) => void): string => {
      const p = structuredClone(proof);
      change(p);
      const verdict = verifySpanProof(p, key);
      return verdict.ok ? "accepted" : verdict.reason;
    };
    expect(forged((p) => (p.span.line = p.span.line.replace("support-bot", "billing-bot")))).toMatch(
      /does not hash up to the batch root/,
    );
    expect(forged((p) => (p.entry.batchRoot = "00".repeat(32)))).toMatch(/batch root|entry/);
    expect(forged((p) => (p.entry.rowCount += 1))).toMatch(/row count/);
    expect(forged((p) => (p.log.treeSize = 6))).toMatch(/tree size/);
    expect(forged((p) => (p.checkpoint = p.checkpoint.replace(/^(.*\n)12\n/, "$113\n")))).toMatch(/no valid signature/);
    expect(forged((p) => (p.checkpoint = p.checkpoint.replace(/ (\S+)\n$/, " AAAA$1\n")))).toMatch(
      /no valid signature/,
    );
    // Signed by a key the verifier does not trust.
    const stranger = { name: key.name, publicKey: generateKeyPairSync("ed25519").publicKey };
    expect(verifySpanProof(proof, stranger)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no valid signature/) as unknown,
    });
  });

  it("names the batch and the kind of every tampering done with full rights", async () => {
    const b = await Promise.all(traceIds.map((t) => batchOf(t)));
    // Batch 2: delete a row.
    await tamper(`ALTER TABLE spans DELETE WHERE trace_id = '${traceIds[1]}' AND span_id = '0000000000000001'`);
    // Batch 3: change one attribute.
    await tamper(
      `ALTER TABLE spans UPDATE attributes = replace(attributes, 'sess-42', 'sess-99') WHERE trace_id = '${traceIds[2]}' AND span_id = '0000000000000002'`,
    );
    // Batch 4: insert a forged row into an old batch.
    await tamper(
      `INSERT INTO spans (batch_id, agent_id, start_time, end_time, trace_id, span_id) SELECT batch_id, agent_id, start_time, end_time, trace_id, 'ffffffffffffffff' FROM spans WHERE trace_id = '${traceIds[3]}' LIMIT 1`,
    );
    // Batch 6: drop its whole partition.
    const part = await admin.query({
      query: `SELECT DISTINCT partition_id AS p FROM system.parts WHERE table = 'spans' AND active AND partition_id IN (SELECT toString(toYYYYMMDD(start_time)) FROM spans WHERE trace_id = '${traceIds[5]}')`,
      format: "JSONEachRow",
    });
    const partitionId = (await part.json<{ p: string }>())[0]?.p;
    expect(partitionId).toBeDefined();
    await tamper(`ALTER TABLE spans DROP PARTITION ID '${partitionId}'`);

    const report = await verify();
    const found = report.problems.map((p) => [p.kind, p.batchId]);
    expect(found).toContainEqual(["row_missing", b[1]?.batchId]);
    expect(found).toContainEqual(["row_changed", b[2]?.batchId]);
    expect(found).toContainEqual(["row_added", b[3]?.batchId]);
    expect(found).toContainEqual(["row_missing", b[5]?.batchId]);
    expect(report.problems).toHaveLength(4);
    expect(report.ok).toBe(false);
    expect(report.chains[0]?.intactUpTo).toBe(1);
    expect(report.summary).toMatch(/first: row_missing at sequence 2/);
  });

  it("detects ledger entries that were reordered", async () => {
    // seq is a key column, so the swap is a delete and a reinsert, as an attacker would do it.
    await tamper("CREATE TABLE ledger_swap AS ledger");
    await tamper(
      "INSERT INTO ledger_swap SELECT chain_id, if(seq = 6, 7, 6), batch_id, row_count, batch_root, prev_hash, entry_hash, created_at FROM ledger WHERE seq IN (6, 7)",
    );
    await tamper("ALTER TABLE ledger DELETE WHERE seq IN (6, 7)");
    await tamper("INSERT INTO ledger SELECT * FROM ledger_swap");
    const report = await verify();
    const chain = report.problems.filter((p) => p.kind === "chain_broken" || p.kind === "checkpoint_mismatch");
    expect(chain.map((p) => p.kind)).toContain("chain_broken");
    expect(chain.map((p) => p.kind)).toContain("checkpoint_mismatch");
    expect(chain.find((p) => p.kind === "chain_broken")?.seq).toBe(6);
  });
});
