import type { ClickHouseClient } from "@clickhouse/client";
import { signCheckpoint } from "./checkpoint";
import type { SigningKey } from "./checkpoint";

/** What a checkpoint signs: a chain's stored entries (the writer's `Ledger`, or a `LedgerFollower`). */
export interface ChainHead {
  readonly chainId: string;
  treeHead(): { size: number; root: Buffer };
}

export interface StoredCheckpoint {
  chainId: string;
  size: number;
  note: string;
}

/**
 * Signs the ledger's head as a checkpoint and stores it: on demand, and every
 * `intervalMs` when the ledger has grown since the last one.
 */
export class Checkpointer {
  private lastSize = -1;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param witnesses called with each stored checkpoint, to keep it outside the store as
   *   well (a file, a SIEM); a witness that fails fails the checkpoint, so it is retried.
   */
  constructor(
    private readonly client: ClickHouseClient,
    private readonly ledger: ChainHead,
    private readonly key: SigningKey,
    private readonly origin: string,
    private readonly witnesses: ReadonlyArray<(checkpoint: StoredCheckpoint) => void | Promise<void>> = [],
  ) {}

  /** Signs and stores a checkpoint of the current head (even if unchanged). */
  async checkpoint(): Promise<StoredCheckpoint> {
    const head = this.ledger.treeHead();
    const note = signCheckpoint({ origin: this.origin, size: head.size, root: head.root }, this.key);
    await this.client.insert({
      table: "ledger_checkpoints",
      format: "JSONEachRow",
      values: [
        {
          chain_id: this.ledger.chainId,
          tree_size: String(head.size),
          root_hash: head.root.toString("hex"),
          note,
          created_at: String(Date.now()),
        },
      ],
    });
    const stored = { chainId: this.ledger.chainId, size: head.size, note };
    for (const witness of this.witnesses) await witness(stored);
    this.lastSize = head.size;
    return stored;
  }

  /** Checkpoints only when entries were appended since the last checkpoint. */
  async checkpointIfGrown(): Promise<StoredCheckpoint | undefined> {
    if (this.ledger.treeHead().size === this.lastSize) return undefined;
    return this.checkpoint();
  }

  start(intervalMs: number, onError: (err: unknown) => void): void {
    this.timer = setInterval(() => {
      this.checkpointIfGrown().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}

/** The latest stored checkpoint of a chain that covers at least `minSize` entries. */
export async function latestCheckpoint(
  client: ClickHouseClient,
  chainId: string,
  minSize = 0,
): Promise<StoredCheckpoint | undefined> {
  const rs = await client.query({
    query: `SELECT chain_id, toString(tree_size) AS size, note FROM ledger_checkpoints
            WHERE chain_id = {chainId:String} AND tree_size >= {minSize:UInt64} ORDER BY tree_size DESC LIMIT 1`,
    query_params: { chainId, minSize },
    format: "JSONEachRow",
  });
  const row = (await rs.json<{ chain_id: string; size: string; note: string }>())[0];
  return row === undefined ? undefined : { chainId: row.chain_id, size: Number(row.size), note: row.note };
}

/** Every stored checkpoint, for verification. */
export async function readCheckpoints(client: ClickHouseClient): Promise<StoredCheckpoint[]> {
  const rs = await client.query({
    query: "SELECT chain_id, toString(tree_size) AS size, note FROM ledger_checkpoints ORDER BY chain_id, tree_size",
    format: "JSONEachRow",
  });
  return (await rs.json<{ chain_id: string; size: string; note: string }>()).map((r) => ({
    chainId: r.chain_id,
    size: Number(r.size),
    note: r.note,
  }));
}
