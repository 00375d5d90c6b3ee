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

const SELECT_ENTRIES = `
SELECT chain_id, toString(seq) AS seq_text, toString(batch_id) AS batch_text, row_count, batch_root, prev_hash, entry_hash,
  toString(toUnixTimestamp64Milli(created_at)) AS created_ms
FROM ledger`;

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
export async function readLedger(client: ClickHouseClient, chainId?: string): Promise<LedgerEntry[]> {
  const rs = await client.query({
    query: `${SELECT_ENTRIES} ${chainId === undefined ? "" : "WHERE chain_id = {chainId:String}"} ORDER BY chain_id, seq`,
    ...(chainId === undefined ? {} : { query_params: { chainId } }),
    format: "JSONEachRow",
  });
  return (await rs.json<EntryRow>()).map(toEntry);
}

interface PendingEntry {
  entry: LedgerEntry;
  resolve: (e: LedgerEntry) => void;
  reject: (err: unknown) => void;
}

/** Up to `limit` entries of one chain after sequence `afterSeq`, in order. */
export async function readLedgerAfter(
  client: ClickHouseClient,
  chainId: string,
  afterSeq: number,
  limit: number,
): Promise<LedgerEntry[]> {
  const rs = await client.query({
    query: `${SELECT_ENTRIES} WHERE chain_id = {chainId:String} AND seq > {afterSeq:UInt64} ORDER BY seq LIMIT {limit:UInt32}`,
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
  table: "ledger" | "detection_cursor",
): Promise<Map<string, number>> {
  const rs = await client.query({
    // The alias is not "seq": an alias shadows the column it is named after.
    query: `SELECT chain_id, toString(max(seq)) AS top FROM ${table} GROUP BY chain_id`,
    format: "JSONEachRow",
  });
  return new Map((await rs.json<{ chain_id: string; top: string }>()).map((r) => [r.chain_id, Number(r.top)]));
}

/** Every ledger chain and its last sequence number. */
export function ledgerHeads(client: ClickHouseClient): Promise<Map<string, number>> {
  return maxSeqPerChain(client, "ledger");
}

/**
 * The append side of one hash chain. Ingest appends an entry after each committed
 * batch, in batch order. Entries are chained at append time and written in groups (one
 * INSERT for all entries that queued while the previous one ran). The head and a Merkle
 * frontier over the committed entries are kept in memory and rebuilt from the table at
 * start.
 */
export class Ledger {
  private pending: PendingEntry[] = [];
  private writing = false;

  private constructor(
    private readonly client: ClickHouseClient,
    readonly chainId: string,
    /** The last entry appended (committed or queued): the next entry chains onto it. */
    private head: { seq: number; hash: string },
    /** Committed entries only: what a checkpoint may sign. */
    private readonly frontier: MerkleFrontier,
  ) {}

  static async open(client: ClickHouseClient, chainId: string): Promise<Ledger> {
    const entries = await readLedger(client, chainId);
    const frontier = new MerkleFrontier();
    for (const e of entries) frontier.append(entryLeaf(e));
    const last = entries.at(-1);
    return new Ledger(
      client,
      chainId,
      last ? { seq: last.seq, hash: last.entryHash } : { seq: 0, hash: GENESIS_HASH },
      frontier,
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
    const partial = {
      chainId: this.chainId,
      seq: this.head.seq + 1,
      batchId,
      rowCount: leaves.length,
      batchRoot: merkleRoot(sortLeaves(leaves)).toString("hex"),
      prevHash: this.head.hash,
      createdAtMs: nowMs,
    };
    const entry: LedgerEntry = { ...partial, entryHash: entryHashOf(partial) };
    this.head = { seq: entry.seq, hash: entry.entryHash };
    const done = new Promise<LedgerEntry>((resolve, reject) => this.pending.push({ entry, resolve, reject }));
    if (!this.writing) void this.writePending();
    return done;
  }

  private async writePending(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        await this.client.insert({
          table: "ledger",
          format: "JSONEachRow",
          values: group.map(({ entry: e }) => ({
            chain_id: e.chainId,
            seq: String(e.seq),
            batch_id: e.batchId,
            row_count: e.rowCount,
            batch_root: e.batchRoot,
            prev_hash: e.prevHash,
            entry_hash: e.entryHash,
            created_at: String(e.createdAtMs),
          })),
        });
      } catch (err) {
        // Entries queued meanwhile chain onto the failed ones: fail them too, then re-read
        // the head (the insert may have landed after all) so new entries follow the table.
        const failed = [...group, ...this.pending];
        this.pending = [];
        await this.reload();
        for (const p of failed) p.reject(err);
        continue;
      }
      for (const p of group) {
        this.frontier.append(entryLeaf(p.entry));
        p.resolve(p.entry);
      }
    }
    this.writing = false;
  }

  private async reload(): Promise<void> {
    try {
      const fresh = await Ledger.open(this.client, this.chainId);
      this.head = fresh.head;
      this.frontier.replaceWith(fresh.frontier);
    } catch {
      // The store is down. Appends will fail until it returns; the next failure reloads again.
    }
  }
}
