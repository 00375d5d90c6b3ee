import type { ClickHouseClient } from "@clickhouse/client";
import { uuidv7 } from "@vigil/common";
import { Ledger } from "../ledger/ledger";
import type { ChainHead } from "../ledger/checkpointer";
import { leafHash } from "../ledger/merkle";
import { sortLeaves } from "../ledger/entry";
import { inSlices } from "../query-params";
import { SELECT_DECISIONS, decisionRowOf, insertDecisionRows } from "./decisions";
import type { DecisionRow, StoredDecisionRow } from "./decisions";

/**
 * The ledger chains of decisions (in the `decision_ledger` table) start with this;
 * each writer (an ingest, an API) has its own.
 */
export const DECISION_CHAIN_PREFIX = "decisions@";

/**
 * A decision row's canonical line: what its ledger leaf hashes. Every column, in a
 * fixed order, with times as millisecond digits, as `readDecisionLeaves` reads them back.
 */
export function decisionLine(batchId: string, r: DecisionRow): string {
  return JSON.stringify([
    "vigil-decision-v1",
    batchId,
    r.decisionId,
    r.event,
    String(r.atMs),
    r.agentId,
    r.sessionId,
    r.traceId,
    r.actionKind,
    r.actionDigest,
    r.rendering,
    r.description,
    r.facts,
    r.reasons,
    r.actor,
    r.justification,
    String(r.expiresAtMs),
    r.token,
  ]);
}

/**
 * Text as the store will give it back: a lone UTF-16 surrogate (possible in an agent's
 * words) cannot be stored as UTF-8, and a row read back different from what was hashed
 * would look like tampering.
 */
function storable(r: DecisionRow): DecisionRow {
  const t = (s: string) => s.toWellFormed();
  return {
    ...r,
    decisionId: t(r.decisionId),
    agentId: t(r.agentId),
    sessionId: t(r.sessionId),
    traceId: t(r.traceId),
    actionKind: t(r.actionKind),
    actionDigest: t(r.actionDigest),
    rendering: t(r.rendering),
    description: t(r.description),
    facts: t(r.facts),
    reasons: r.reasons.map(t),
    actor: t(r.actor),
    justification: t(r.justification),
    token: t(r.token),
  };
}

/**
 * The confirmation gate's audit trail, insert-only and ledgered: every group of
 * decision rows is one batch (a batch id in each row), and the batch's Merkle root is
 * an entry on this writer's own chain (`decisions@<writer>`, in `decision_ledger`), signed in checkpoints and
 * checked by verify like the spans' batches. A writer is one process: the ingest that
 * answers agents, the API that records people's answers.
 */
export class DecisionLog implements ChainHead {
  /** Batches stored (or perhaps stored: the INSERT failed in flight) and not yet ledgered. */
  private unledgered: Array<{ batchId: string; leaves: Buffer[]; surelyStored: boolean }> = [];

  private constructor(
    private readonly client: ClickHouseClient,
    private readonly ledger: Ledger,
    private readonly onLedgerError: (err: unknown) => void,
  ) {}

  /** @param writer this process's name among the writers (its chain is `decisions@<writer>`). */
  static async open(
    client: ClickHouseClient,
    writer: string,
    onLedgerError: (err: unknown) => void = () => {},
  ): Promise<DecisionLog> {
    const ledger = await Ledger.open(client, `${DECISION_CHAIN_PREFIX}${writer}`, "decision_ledger");
    return new DecisionLog(client, ledger, onLedgerError);
  }

  get chainId(): string {
    return this.ledger.chainId;
  }

  treeHead(): { size: number; root: Buffer } {
    return this.ledger.treeHead();
  }

  /**
   * Stores rows as one batch and ledgers it. Resolves once the rows are stored (a
   * failed INSERT throws: the caller may retry the rows); a ledger entry that cannot be
   * written yet is retried before the next batch, never by writing the rows again.
   */
  async write(rows: readonly DecisionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.settle();
    const batchId = uuidv7();
    const clean = rows.map(storable);
    const leaves = clean.map((r) => leafHash(decisionLine(batchId, r)));
    try {
      await insertDecisionRows(this.client, clean, batchId);
    } catch (err) {
      this.unledgered.push({ batchId, leaves, surelyStored: false });
      throw err;
    }
    try {
      await this.ledger.append(batchId, leaves);
    } catch (err) {
      this.unledgered.push({ batchId, leaves, surelyStored: true });
      this.onLedgerError(err);
    }
  }

  /** Ledgers what earlier writes stored but could not ledger (and what failed INSERTs did store). */
  async settle(): Promise<void> {
    const waiting = this.unledgered;
    this.unledgered = [];
    for (const b of waiting) {
      try {
        if (!b.surelyStored) {
          const stored = await storedRows(this.client, b.batchId);
          if (stored === 0) continue;
          if (stored !== b.leaves.length) throw new Error(`batch ${b.batchId}: ${stored} of ${b.leaves.length} rows`);
        }
        await this.ledger.append(b.batchId, b.leaves);
      } catch (err) {
        this.unledgered.push(b);
        this.onLedgerError(err);
      }
    }
  }
}

async function storedRows(client: ClickHouseClient, batchId: string): Promise<number> {
  const rs = await client.query({
    query: "SELECT count() AS n FROM decisions WHERE batch_id = {b:UUID}",
    query_params: { b: batchId },
    format: "JSONEachRow",
  });
  return Number((await rs.json<{ n: string | number }>())[0]?.n ?? 0);
}

/** Decision rows per batch id, as verify counts them. */
export async function decisionBatchCounts(client: ClickHouseClient): Promise<Map<string, number>> {
  const rs = await client.query({
    query: "SELECT toString(batch_id) AS b, count() AS n FROM decisions GROUP BY b",
    format: "JSONEachRow",
  });
  return new Map((await rs.json<{ b: string; n: string | number }>()).map((r) => [r.b, Number(r.n)]));
}

/** The stored rows of some decision batches, as sorted leaf hashes per batch (what verify recomputes roots from). */
export async function readDecisionLeaves(
  client: ClickHouseClient,
  batchIds: readonly string[],
): Promise<Map<string, Buffer[]>> {
  const out = new Map<string, Buffer[]>();
  const rows = await inSlices(batchIds, async (ids) => {
    const rs = await client.query({
      query: `${SELECT_DECISIONS} WHERE batch_id IN {ids:Array(UUID)}`,
      query_params: { ids },
      format: "JSONEachRow",
    });
    return rs.json<StoredDecisionRow>();
  });
  for (const r of rows) {
    let list = out.get(r.batch);
    if (list === undefined) out.set(r.batch, (list = []));
    list.push(leafHash(decisionLine(r.batch, decisionRowOf(r))));
  }
  for (const list of out.values()) sortLeaves(list);
  return out;
}
