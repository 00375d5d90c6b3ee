import type { ClickHouseClient } from "@clickhouse/client";
import { GENESIS_HASH, entryHashOf, entryLeaf, sortLeaves } from "./entry";
import type { LedgerEntry } from "./entry";
import { merkleRoot } from "./merkle";
import { MerkleFrontier } from "./frontier";

interface EntryRow {
  chain_id: string;
  seq: string;
  batch_id: string;
  row_count: number;
  batch_root: string;
  prev_hash: string;
  entry_hash: string;
  created_ms: string;
}

const SELECT_ENTRIES = `
SELECT chain_id, toString(seq) AS seq, toString(batch_id) AS batch_id, row_count, batch_root, prev_hash, entry_hash,
  toString(toUnixTimestamp64Milli(created_at)) AS created_ms
FROM ledger`;

function toEntry(r: EntryRow): LedgerEntry {
  return {
    chainId: r.chain_id,
    seq: Number(r.seq),
    batchId: r.batch_id,
    rowCount: Number(r.row_count),
    batchRoot: r.batch_root,
    prevHash: r.prev_hash,
    entryHash: r.entry_hash,
    createdAtMs: Number(r.created_ms),
  };
}

/** Every entry of one chain (or all chains), in chain and sequence order. */
export async function readLedger(client: ClickHouseClient, chainId?: string): Promise<LedgerEntry[]> {
  const rs = await client.query({
    query: `${SELECT_ENTRIES} ${chainId === undefined ? "" : "WHERE chain_id = {chainId:String}"} ORDER BY chain_id, seq`,
    ...(chainId === undefined ? {} : { query_params: { chainId } }),
    format: "JSONEachRow",
  });
  return (await rs.json<EntryRow>()).map(toEntry);
}

/**
 * The append side of one hash chain. Ingest appends an entry after each committed
 * batch, serially; the head (last sequence and hash) and a Merkle frontier over all
 * entries are kept in memory and rebuilt from the table at start.
 */
export class Ledger {
  private constructor(
    private readonly client: ClickHouseClient,
    readonly chainId: string,
    private head: { seq: number; hash: string },
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

  /** Number of entries, and the Merkle root over them: what a checkpoint signs. */
  treeHead(): { size: number; root: Buffer } {
    return { size: this.frontier.size, root: this.frontier.root() };
  }

  /**
   * Records a committed batch. `leaves` are the leaf hashes of its rows' canonical lines
   * (from `encodeSpanRows`); they are sorted here, so row order does not matter.
   */
  async append(batchId: string, leaves: Buffer[], nowMs = Date.now()): Promise<LedgerEntry> {
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
    try {
      await this.client.insert({
        table: "ledger",
        format: "JSONEachRow",
        values: [
          {
            chain_id: entry.chainId,
            seq: String(entry.seq),
            batch_id: entry.batchId,
            row_count: entry.rowCount,
            batch_root: entry.batchRoot,
            prev_hash: entry.prevHash,
            entry_hash: entry.entryHash,
            created_at: String(entry.createdAtMs),
          },
        ],
      });
    } catch (err) {
      // The insert may have landed anyway (a timeout after commit): re-read the head so
      // the next entry follows whatever the table really holds.
      await this.reload();
      throw err;
    }
    this.head = { seq: entry.seq, hash: entry.entryHash };
    this.frontier.append(entryLeaf(entry));
    return entry;
  }

  private async reload(): Promise<void> {
    try {
      const fresh = await Ledger.open(this.client, this.chainId);
      this.head = fresh.head;
      this.frontier.replaceWith(fresh.frontier);
    } catch {
      // The store is down; the next append will fail and retry the reload.
    }
  }
}
