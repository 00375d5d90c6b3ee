import type { ClickHouseClient } from "@clickhouse/client";
import { GENESIS_HASH, entryHashOf, entryLeaf, sortLeaves } from "./entry";
import type { LedgerEntry } from "./entry";
import { merkleRoot } from "./merkle";
import { MerkleFrontier } from "./frontier";

interface EntryRow {
  chain_id: string;
  seq_text: string;
  batch_text: string;
  row_count: number;
  batch_root: string;
  prev_hash: string;
  entry_hash: string;
  created_ms: string;
}

/**
 * The tables of ledger entries: the spans' chains (written by ingest) and the gate's
 * decision chains (written by ingest and the API: a table of their own, so the API's
 * store user can append decision entries and never an entry on a spans chain).
 */
export type LedgerTable = "ledger" | "decision_ledger";

const selectEntries = (table: LedgerTable) => `
SELECT chain_id, toString(seq) AS seq_text, toString(batch_id) AS batch_text, row_count, batch_root, prev_hash, entry_hash,
  toString(toUnixTimestamp64Milli(created_at)) AS created_ms
FROM ${table}`;

function toEntry(r: EntryRow): LedgerEntry {
  return {
    chainId: r.chain_id,
    seq: Number(r.seq_text),
    batchId: r.batch_text,
    rowCount: Number(r.row_count),
    batchRoot: r.batch_root,
    prevHash: r.prev_hash,
    entryHash: r.entry_hash,
    createdAtMs: Number(r.created_ms),
  };
}

/**
 * Every entry of one chain (or all chains), in chain and sequence order. (Aliases differ
 * from column names on purpose: in ClickHouse an alias shadows the column in WHERE and
 * ORDER BY, and a string `seq` would sort 10 before 9.)
 */
export async function readLedger(
  client: ClickHouseClient,
  chainId?: string,
  table: LedgerTable = "ledger",
): Promise<LedgerEntry[]> {
  const rs = await client.query({
    query: `${selectEntries(table)} ${chainId === undefined ? "" : "WHERE chain_id = {chainId:String}"} ORDER BY chain_id, seq`,
    ...(chainId === undefined ? {} : { query_params: { chainId } }),
    format: "JSONEachRow",
  });
  return (await rs.json<EntryRow>()).map(toEntry);
}

/** An entry as a row of the `ledger` table (JSONEachRow). */
export function ledgerRow(e: LedgerEntry): Record<string, string | number> {
  return {
    chain_id: e.chainId,
    seq: String(e.seq),
    batch_id: e.batchId,
    row_count: e.rowCount,
    batch_root: e.batchRoot,
    prev_hash: e.prevHash,
    entry_hash: e.entryHash,
    created_at: String(e.createdAtMs),
  };
}

/** A batch waiting for its entry: chained only when it is written, onto what is stored. */
interface PendingEntry {
  batchId: string;
  rowCount: number;
  batchRoot: string;
  createdAtMs: number;
  resolve: (e: LedgerEntry) => void;
  reject: (err: unknown) => void;
}

/** Up to `limit` entries of one chain after sequence `afterSeq`, in order. */
export async function readLedgerAfter(
  client: ClickHouseClient,
  chainId: string,
  afterSeq: number,
  limit: number,
  table: LedgerTable = "ledger",
): Promise<LedgerEntry[]> {
  const rs = await client.query({
    query: `${selectEntries(table)} WHERE chain_id = {chainId:String} AND seq > {afterSeq:UInt64} ORDER BY seq LIMIT {limit:UInt32}`,
    query_params: { chainId, afterSeq, limit },
    format: "JSONEachRow",
  });
  return (await rs.json<EntryRow>()).map(toEntry);
}

/**
 * The highest sequence number per chain in a (chain_id, seq) table: the ledger itself,
 * or the detection cursor. `table` is one of ours, never user input.
 */
export async function maxSeqPerChain(
  client: ClickHouseClient,
  table: LedgerTable | "detection_cursor",
): Promise<Map<string, number>> {
  const rs = await client.query({
    // The alias is not "seq": an alias shadows the column it is named after.
    query: `SELECT chain_id, toString(max(seq)) AS top FROM ${table} GROUP BY chain_id`,
    format: "JSONEachRow",
  });
  return new Map((await rs.json<{ chain_id: string; top: string }>()).map((r) => [r.chain_id, Number(r.top)]));
}

/** Every ledger chain (of one table) and its last sequence number. */
export function ledgerHeads(client: ClickHouseClient, table: LedgerTable = "ledger"): Promise<Map<string, number>> {
  return maxSeqPerChain(client, table);
}

/**
 * The append side of one hash chain. Ingest appends an entry after each committed
 * batch, in batch order. Entries are written in groups (one INSERT for all entries that
 * queued while the previous one ran) and chained when their group is written, onto the
 * last entry known to be stored: the head never runs ahead of the table, so a failed
 * INSERT cannot leave a gap in the sequence. After a failure the head is re-read from
 * the table before the next group (the INSERT may have landed after all). The head and
 * a Merkle frontier over the stored entries are rebuilt from the table at start.
 */
export class Ledger {
  private pending: PendingEntry[] = [];
  private writing = false;
  /** Set when an INSERT failed and the table was not re-read since: the head may be behind it. */
  private stale = false;

  private constructor(
    private readonly client: ClickHouseClient,
    readonly chainId: string,
    /** The last stored entry: the next entry chains onto it. */
    private head: { seq: number; hash: string },
    /** Stored entries: what a checkpoint may sign. */
    private readonly frontier: MerkleFrontier,
    private readonly table: LedgerTable,
  ) {}

  static async open(client: ClickHouseClient, chainId: string, table: LedgerTable = "ledger"): Promise<Ledger> {
    const entries = await readLedger(client, chainId, table);
    const frontier = new MerkleFrontier();
    for (const e of entries) frontier.append(entryLeaf(e));
    const last = entries.at(-1);
    return new Ledger(
      client,
      chainId,
      last ? { seq: last.seq, hash: last.entryHash } : { seq: 0, hash: GENESIS_HASH },
      frontier,
      table,
    );
  }

  /** Number of committed entries, and the Merkle root over them: what a checkpoint signs. */
  treeHead(): { size: number; root: Buffer } {
    return { size: this.frontier.size, root: this.frontier.root() };
  }

  /**
   * Records a committed batch; resolves once its entry is stored. `leaves` are the leaf
   * hashes of its rows' canonical lines (from `encodeSpanRows`), sorted here so row
   * order does not matter. Call in batch order.
   */
  append(batchId: string, leaves: Buffer[], nowMs = Date.now()): Promise<LedgerEntry> {
    const batchRoot = merkleRoot(sortLeaves(leaves)).toString("hex");
    const done = new Promise<LedgerEntry>((resolve, reject) =>
      this.pending.push({ batchId, rowCount: leaves.length, batchRoot, createdAtMs: nowMs, resolve, reject }),
    );
    if (!this.writing) void this.writePending();
    return done;
  }

  private async writePending(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      if (this.stale && !(await this.reload())) {
        for (const p of group) p.reject(new Error("the ledger cannot be read back after a failed write; retry later"));
        continue;
      }
      let prev = this.head;
      const entries = group.map((p) => {
        const partial = {
          chainId: this.chainId,
          seq: prev.seq + 1,
          batchId: p.batchId,
          rowCount: p.rowCount,
          batchRoot: p.batchRoot,
          prevHash: prev.hash,
          createdAtMs: p.createdAtMs,
        };
        const entry: LedgerEntry = { ...partial, entryHash: entryHashOf(partial) };
        prev = { seq: entry.seq, hash: entry.entryHash };
        return entry;
      });
      try {
        await this.client.insert({
          table: this.table,
          format: "JSONEachRow",
          values: entries.map(ledgerRow),
        });
      } catch (err) {
        // The INSERT may have landed anyway: re-read the table before chaining again.
        this.stale = true;
        await this.reload();
        for (const p of group) p.reject(err);
        continue;
      }
      this.head = prev;
      entries.forEach((entry, i) => {
        this.frontier.append(entryLeaf(entry));
        group[i]?.resolve(entry);
      });
    }
    this.writing = false;
  }

  /** Re-reads the head and frontier from the table; false while the store is down. */
  private async reload(): Promise<boolean> {
    try {
      const fresh = await Ledger.open(this.client, this.chainId, this.table);
      this.head = fresh.head;
      this.frontier.replaceWith(fresh.frontier);
      this.stale = false;
      return true;
    } catch {
      return false;
    }
  }
}
