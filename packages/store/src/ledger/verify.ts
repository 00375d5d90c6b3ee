import type { ClickHouseClient } from "@clickhouse/client";
import type { KeyObject } from "node:crypto";
import { readCheckpoints } from "./checkpointer";
import type { StoredCheckpoint } from "./checkpointer";
import { verifyCheckpoint } from "./checkpoint";
import { GENESIS_HASH, entryHashOf, entryLeaf } from "./entry";
import type { LedgerEntry } from "./entry";
import { MerkleFrontier } from "./frontier";
import { readLedger } from "./ledger";
import { merkleRoot } from "./merkle";
import { leavesOf, readBatchLeaves } from "./read-back";
import { decisionBatchCounts, readDecisionLeaves } from "../decisions/decision-log";

export type ProblemKind =
  | "row_missing"
  | "row_added"
  | "row_changed"
  | "batch_unledgered"
  | "chain_broken"
  | "entry_changed"
  | "checkpoint_mismatch"
  | "signature_invalid";

export interface VerifyProblem {
  kind: ProblemKind;
  chainId: string;
  seq?: number;
  batchId?: string;
  detail: string;
}

export interface ChainStatus {
  chainId: string;
  entries: number;
  /** Every entry up to this sequence number checked out (0: none did). */
  intactUpTo: number;
}

export interface VerifyReport {
  ok: boolean;
  chains: ChainStatus[];
  problems: VerifyProblem[];
  checkedBatches: number;
  /** Batches older than the span retention, whose rows the TTL may have removed. */
  expiredBatches: number;
  checkedRows: number;
  checkpoints: { checked: number; valid: number };
  /** One line a person reads first. */
  summary: string;
}

/** Rows read back per query while recomputing batch roots (bounded memory). */
const ROWS_PER_READ = 50_000;

/**
 * Recomputes every batch from the stored rows and checks it against the ledger, the
 * ledger's hash chain, and every signed checkpoint. Names the first batch that differs
 * in each chain and how: rows missing, added or changed, entries reordered or edited,
 * batches outside the ledger, checkpoints that do not match or are not signed.
 */
export async function verifyStore(
  client: ClickHouseClient,
  key: { name: string; publicKey: KeyObject } | undefined,
  options: {
    spansRetentionDays?: number | undefined;
    nowMs?: number;
    /** Checkpoints kept outside the store (a witness file): checked like stored ones. */
    witnesses?: readonly StoredCheckpoint[];
  } = {},
): Promise<VerifyReport> {
  // Batches older than the span retention may have been removed by the TTL: their rows
  // are expected to be gone (all or, mid-merge, some), which is not tampering.
  const expiredBefore =
    options.spansRetentionDays === undefined
      ? -Infinity
      : (options.nowMs ?? Date.now()) - (options.spansRetentionDays - 1) * 86_400_000;
  let expired = 0;
  const problems: VerifyProblem[] = [];
  // The spans' chains and the gate's decision chains (their own table, see DecisionLog).
  const spanEntries = await readLedger(client);
  const decisionEntries = await readLedger(client, undefined, "decision_ledger");
  const entries = [...spanEntries, ...decisionEntries];
  const isDecisionBatch = new Set(decisionEntries.map((e) => e.batchId));
  const chains = new Map<string, LedgerEntry[]>();
  for (const e of entries) {
    const list = chains.get(e.chainId) ?? [];
    list.push(e);
    chains.set(e.chainId, list);
  }

  // 1. The hash chain: contiguous sequence numbers, each entry linked to the one before.
  for (const [chainId, list] of chains) {
    let prev = GENESIS_HASH;
    list.forEach((e, i) => {
      if (e.seq !== i + 1) {
        problems.push({
          kind: "chain_broken",
          chainId,
          seq: e.seq,
          batchId: e.batchId,
          detail: `expected sequence ${i + 1}, found ${e.seq}`,
        });
      } else if (e.prevHash !== prev) {
        problems.push({
          kind: "chain_broken",
          chainId,
          seq: e.seq,
          batchId: e.batchId,
          detail: "the entry does not link to the entry before it",
        });
      }
      if (entryHashOf(e) !== e.entryHash) {
        problems.push({
          kind: "entry_changed",
          chainId,
          seq: e.seq,
          batchId: e.batchId,
          detail: "the entry's fields do not hash to its entry hash",
        });
      }
      prev = e.entryHash;
    });
  }

  // 2. Row counts per batch, and batches the ledger does not know: spans on the spans'
  // chains, the gate's decisions on the decision chains.
  const rs = await client.query({
    query: "SELECT toString(batch_id) AS b, count() AS n FROM spans GROUP BY b",
    format: "JSONEachRow",
  });
  const counts = new Map((await rs.json<{ b: string; n: string | number }>()).map((r) => [r.b, Number(r.n)]));
  const decisionCounts = await decisionBatchCounts(client);
  const toRecompute: LedgerEntry[] = [];
  for (const [table, tableEntries, tableCounts, expires] of [
    ["spans", spanEntries, counts, true],
    ["decisions", decisionEntries, decisionCounts, false],
  ] as const) {
    const ledgered = new Set(tableEntries.map((e) => e.batchId));
    for (const [batchId, n] of tableCounts) {
      if (!ledgered.has(batchId)) {
        problems.push({
          kind: "batch_unledgered",
          chainId: "",
          batchId,
          detail: `${n} stored ${table} rows belong to a batch no ledger entry records`,
        });
      }
    }
    for (const e of tableEntries) {
      const n = tableCounts.get(e.batchId) ?? 0;
      if (expires && e.createdAtMs < expiredBefore && n <= e.rowCount) {
        expired++;
        continue;
      }
      if (n < e.rowCount)
        problems.push({
          kind: "row_missing",
          chainId: e.chainId,
          seq: e.seq,
          batchId: e.batchId,
          detail: `${e.rowCount - n} of ${e.rowCount} ${table} rows are missing`,
        });
      else if (n > e.rowCount)
        problems.push({
          kind: "row_added",
          chainId: e.chainId,
          seq: e.seq,
          batchId: e.batchId,
          detail: `${n - e.rowCount} ${table} rows were added to a batch of ${e.rowCount}`,
        });
      else toRecompute.push(e);
    }
  }

  // 3. Recompute the Merkle root of every batch whose count matches.
  let checkedRows = 0;
  for (let i = 0; i < toRecompute.length;) {
    const group: LedgerEntry[] = [];
    let rows = 0;
    while (
      i < toRecompute.length &&
      (group.length === 0 || rows + (toRecompute[i] as LedgerEntry).rowCount <= ROWS_PER_READ)
    ) {
      const e = toRecompute[i++] as LedgerEntry;
      group.push(e);
      rows += e.rowCount;
    }
    const spanBatches = group.filter((e) => !isDecisionBatch.has(e.batchId)).map((e) => e.batchId);
    const decisionBatches = group.filter((e) => isDecisionBatch.has(e.batchId)).map((e) => e.batchId);
    const leaves = new Map<string, Buffer[]>();
    for (const [b, stored] of await readBatchLeaves(client, spanBatches)) leaves.set(b, leavesOf(stored));
    for (const [b, stored] of await readDecisionLeaves(client, decisionBatches)) leaves.set(b, stored);
    for (const e of group) {
      const stored = leaves.get(e.batchId) ?? [];
      checkedRows += stored.length;
      if (merkleRoot(stored).toString("hex") !== e.batchRoot) {
        problems.push({
          kind: "row_changed",
          chainId: e.chainId,
          seq: e.seq,
          batchId: e.batchId,
          detail: "stored rows no longer hash to the batch's Merkle root: a row was changed",
        });
      }
    }
  }

  // 4. Checkpoints: signed by our key, and matching the log they claim to cover.
  const checkpoints = [...(await readCheckpoints(client)), ...(options.witnesses ?? [])];
  let valid = 0;
  for (const cp of checkpoints) {
    const list = chains.get(cp.chainId) ?? [];
    let signed;
    try {
      if (key === undefined) throw new Error("no public key to check signatures with");
      signed = verifyCheckpoint(cp.note, key);
    } catch (err) {
      problems.push({ kind: "signature_invalid", chainId: cp.chainId, seq: cp.size, detail: (err as Error).message });
      continue;
    }
    if (signed.size !== cp.size) {
      problems.push({
        kind: "checkpoint_mismatch",
        chainId: cp.chainId,
        seq: cp.size,
        detail: "the stored tree size differs from the signed one",
      });
      continue;
    }
    if (list.length < signed.size) {
      problems.push({
        kind: "chain_broken",
        chainId: cp.chainId,
        seq: list.length + 1,
        detail: `a checkpoint covers ${signed.size} entries but the ledger holds ${list.length}: entries were removed`,
      });
      continue;
    }
    const frontier = new MerkleFrontier();
    for (const e of list.slice(0, signed.size)) frontier.append(entryLeaf(e));
    if (!frontier.root().equals(signed.root)) {
      problems.push({
        kind: "checkpoint_mismatch",
        chainId: cp.chainId,
        seq: cp.size,
        detail: `the first ${cp.size} ledger entries do not hash to the signed root`,
      });
      continue;
    }
    valid++;
  }

  const chainStatus: ChainStatus[] = [...chains].map(([chainId, list]) => {
    const firstBad = Math.min(
      ...problems.filter((p) => p.chainId === chainId && p.seq !== undefined).map((p) => p.seq as number),
      Infinity,
    );
    return { chainId, entries: list.length, intactUpTo: Math.min(list.length, firstBad - 1) };
  });
  problems.sort((a, b) => a.chainId.localeCompare(b.chainId) || (a.seq ?? 0) - (b.seq ?? 0));
  const first = problems[0];
  const summary =
    first === undefined
      ? `intact: ${entries.length} batches, ${checkedRows} rows, ${valid} signed checkpoints verified` +
        (expired > 0 ? `; ${expired} batches past the retention period not recomputed` : "") +
        chainStatus.map((c) => `; chain ${c.chainId} intact up to sequence ${c.intactUpTo}`).join("")
      : `NOT intact: ${problems.length} problem(s); first: ${first.kind} at ${first.seq === undefined ? "" : `sequence ${first.seq} `}` +
        `${first.batchId === undefined ? "" : `(batch ${first.batchId}) `}in chain "${first.chainId}": ${first.detail}`;
  return {
    ok: problems.length === 0,
    chains: chainStatus,
    problems,
    checkedBatches: entries.length,
    expiredBatches: expired,
    checkedRows,
    checkpoints: { checked: checkpoints.length, valid },
    summary,
  };
}
