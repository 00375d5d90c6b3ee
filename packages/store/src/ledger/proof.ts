import type { ClickHouseClient } from "@clickhouse/client";
import type { KeyObject } from "node:crypto";
import { latestCheckpoint } from "./checkpointer";
import { verifyCheckpoint } from "./checkpoint";
import { entryHashOf, entryLeaf } from "./entry";
import type { LedgerEntry } from "./entry";
import { readLedger } from "./ledger";
import { inclusionProof, leafHash, verifyInclusion } from "./merkle";
import { leavesOf, readBatchLeaves } from "./read-back";

/**
 * Everything needed to check, offline and without the store, that one span is in the
 * signed log: its canonical row, its path to the batch root, the batch's ledger entry,
 * the entry's path to a signed checkpoint's root, and the checkpoint.
 */
export interface SpanProof {
  version: 1;
  span: { traceId: string; spanId: string; line: string };
  batch: { leafIndex: number; leafCount: number; auditPath: string[] };
  entry: LedgerEntry;
  log: { leafIndex: number; treeSize: number; auditPath: string[] };
  checkpoint: string;
}

export class ProofUnavailableError extends Error {}

/**
 * Builds the inclusion proof of one stored span against the latest checkpoint that
 * covers its batch.
 *
 * @throws ProofUnavailableError when the span is unknown or no checkpoint covers it yet.
 */
export async function buildSpanProof(client: ClickHouseClient, traceId: string, spanId: string): Promise<SpanProof> {
  const rs = await client.query({
    query:
      "SELECT DISTINCT toString(batch_id) AS b FROM spans WHERE trace_id = {traceId:String} AND span_id = {spanId:String}",
    query_params: { traceId, spanId },
    format: "JSONEachRow",
  });
  const batchId = (await rs.json<{ b: string }>())[0]?.b;
  if (batchId === undefined) throw new ProofUnavailableError(`no stored span ${traceId}/${spanId}`);
  const entries = await readLedger(client);
  const entry = entries.find((e) => e.batchId === batchId);
  if (entry === undefined)
    throw new ProofUnavailableError(`span ${traceId}/${spanId} is in batch ${batchId}, which no ledger entry records`);
  const checkpoint = await latestCheckpoint(client, entry.chainId, entry.seq);
  if (checkpoint === undefined) {
    throw new ProofUnavailableError(
      `batch ${entry.seq} is not covered by a signed checkpoint yet; checkpoints are signed periodically, retry shortly`,
    );
  }
  const rows = (await readBatchLeaves(client, [batchId])).get(batchId) ?? [];
  const leaves = leavesOf(rows);
  const leafIndex = rows.findIndex((r) => r.traceId === traceId && r.spanId === spanId);
  const chain = entries.filter((e) => e.chainId === entry.chainId).slice(0, checkpoint.size);
  const logLeaves = chain.map((e) => entryLeaf(e));
  return {
    version: 1,
    span: { traceId, spanId, line: (rows[leafIndex] as { line: string }).line },
    batch: {
      leafIndex,
      leafCount: leaves.length,
      auditPath: inclusionProof(leaves, leafIndex).map((h) => h.toString("hex")),
    },
    entry,
    log: {
      leafIndex: entry.seq - 1,
      treeSize: checkpoint.size,
      auditPath: inclusionProof(logLeaves, entry.seq - 1).map((h) => h.toString("hex")),
    },
    checkpoint: checkpoint.note,
  };
}

export type ProofVerdict = { ok: true; treeSize: number; origin: string } | { ok: false; reason: string };

/**
 * Checks a span proof offline against the ledger's public key: the row is the span, it
 * hashes up to its batch root, the entry is intact and hashes up to the root of a
 * checkpoint signed by the key.
 */
export function verifySpanProof(proof: SpanProof, key: { name: string; publicKey: KeyObject }): ProofVerdict {
  try {
    let values: unknown[];
    try {
      values = JSON.parse(proof.span.line) as unknown[];
    } catch {
      return { ok: false, reason: "the span's row is not a JSON array" };
    }
    if (values[4] !== proof.span.traceId || values[5] !== proof.span.spanId || values[0] !== proof.entry.batchId) {
      return { ok: false, reason: "the row is not the span (or not in the entry's batch)" };
    }
    const batchRoot = Buffer.from(proof.entry.batchRoot, "hex");
    const path = proof.batch.auditPath.map((h) => Buffer.from(h, "hex"));
    if (!verifyInclusion(leafHash(proof.span.line), proof.batch.leafIndex, proof.batch.leafCount, path, batchRoot)) {
      return { ok: false, reason: "the row does not hash up to the batch root" };
    }
    if (proof.batch.leafCount !== proof.entry.rowCount)
      return { ok: false, reason: "the batch size differs from the entry's row count" };
    if (entryHashOf(proof.entry) !== proof.entry.entryHash)
      return { ok: false, reason: "the ledger entry's fields do not match its hash" };
    const checkpoint = verifyCheckpoint(proof.checkpoint, key);
    if (checkpoint.size !== proof.log.treeSize)
      return { ok: false, reason: "the proof's tree size differs from the checkpoint's" };
    if (proof.log.leafIndex !== proof.entry.seq - 1)
      return { ok: false, reason: "the entry's position in the log does not match its sequence number" };
    const logPath = proof.log.auditPath.map((h) => Buffer.from(h, "hex"));
    if (!verifyInclusion(entryLeaf(proof.entry), proof.log.leafIndex, proof.log.treeSize, logPath, checkpoint.root)) {
      return { ok: false, reason: "the ledger entry does not hash up to the checkpoint's root" };
    }
    return { ok: true, treeSize: checkpoint.size, origin: checkpoint.origin };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
