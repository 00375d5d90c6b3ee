import type { ClickHouseClient } from "@clickhouse/client";
import { verifyCheckpoint } from "./checkpoint";
import type { SigningKey } from "./checkpoint";
import { latestCheckpoint } from "./checkpointer";
import { GENESIS_HASH, entryHashOf, entryLeaf } from "./entry";
import type { LedgerEntry } from "./entry";
import { MerkleFrontier } from "./frontier";
import { readLedgerAfter } from "./ledger";
import type { LedgerTable } from "./ledger";

/** Entries read per query while following a chain. */
const PAGE = 10_000;

/**
 * A signer's own view of one stored ledger chain, for a signer that is not the writer
 * (the worker, in server mode, signs what ingest wrote). It reads the chain from the
 * store, checks every entry links to the one before and hashes to its entry hash, and
 * keeps a Merkle frontier over what it checked. It only ever extends what it read:
 * entries rewritten after it read them do not change what it signs, so they show up
 * in verify as entries that no longer match their checkpoint.
 *
 * At open, the tree it rebuilds must match the last checkpoint already stored (signed
 * by this key): a history rewritten while no signer was running is refused, not
 * re-signed. Every refusal throws, and nothing is signed for the chain until fixed.
 */
export class LedgerFollower {
  private readonly frontier = new MerkleFrontier();
  private last: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };

  private constructor(
    private readonly client: ClickHouseClient,
    readonly chainId: string,
    private readonly table: LedgerTable,
  ) {}

  static async open(
    client: ClickHouseClient,
    chainId: string,
    key: SigningKey,
    table: LedgerTable = "ledger",
  ): Promise<LedgerFollower> {
    const follower = new LedgerFollower(client, chainId, table);
    const signed = await latestCheckpoint(client, chainId);
    const expected = signed === undefined ? undefined : verifyCheckpoint(signed.note, key);
    if (expected !== undefined && expected.size > 0) {
      await follower.catchUp(expected.size);
      if (follower.frontier.size < expected.size)
        throw new Error(
          `chain ${chainId}: the store holds ${follower.frontier.size} entries, fewer than the ${expected.size} already signed`,
        );
      if (!follower.frontier.root().equals(expected.root))
        throw new Error(
          `chain ${chainId}: the stored entries do not match the checkpoint signed at size ${expected.size}`,
        );
    }
    await follower.catchUp();
    return follower;
  }

  /** Reads and checks the entries stored since the last call (up to `upTo` entries in all). */
  async catchUp(upTo = Number.MAX_SAFE_INTEGER): Promise<void> {
    while (this.frontier.size < upTo) {
      const limit = Math.min(PAGE, upTo - this.frontier.size);
      const page = await readLedgerAfter(this.client, this.chainId, this.last.seq, limit, this.table);
      for (const e of page) this.take(e);
      if (page.length < limit) return;
    }
  }

  treeHead(): { size: number; root: Buffer } {
    return { size: this.frontier.size, root: this.frontier.root() };
  }

  private take(e: LedgerEntry): void {
    if (e.seq !== this.last.seq + 1)
      throw new Error(`chain ${this.chainId}: expected entry ${this.last.seq + 1}, found ${e.seq}`);
    if (e.prevHash !== this.last.hash)
      throw new Error(`chain ${this.chainId}: entry ${e.seq} does not link to the entry before it`);
    if (entryHashOf(e) !== e.entryHash)
      throw new Error(`chain ${this.chainId}: entry ${e.seq}'s fields do not hash to its entry hash`);
    this.frontier.append(entryLeaf(e));
    this.last = { seq: e.seq, hash: e.entryHash };
  }
}
