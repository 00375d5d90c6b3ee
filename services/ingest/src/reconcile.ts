import type { Logger } from "@vigil/common";
import type { ClickHouseClient, Ledger, LedgerEntry } from "@vigil/store";
import type { RequestDedup } from "./dedup";
import type { JournaledBatch } from "./journal";

/**
 * Batches whose requests were refused although their rows may be stored: the INSERT's
 * answer was lost (the store went away mid-request), or the rows are stored and the
 * ledger entry failed. Until each is settled its requests' retries are refused (503),
 * so no retry stores a second copy; once the store answers again, the rows that did
 * land are found by their request digests, ledgered from the leaf hashes kept here (no
 * span content is read), and their digests count as committed.
 */
export class UnresolvedBatches {
  private readonly batches = new Map<string, JournaledBatch[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly ledger: Ledger,
    private readonly dedup: RequestDedup,
    private readonly logger: Logger,
    private readonly onLedgered?: (entry: LedgerEntry) => void,
    /** Called once a batch is settled (ledgered, or found not stored). */
    private readonly onSettled?: (batchId: string) => void,
  ) {}

  add(batch: JournaledBatch): void {
    for (const digest of batch.digests) this.dedup.markUnresolved(digest);
    this.batches.set(batch.id, [...(this.batches.get(batch.id) ?? []), batch]);
  }

  get size(): number {
    return this.batches.size;
  }

  /** Retries every `intervalMs` while anything is unresolved. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.settleAll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** One pass over the unresolved batches; those the store cannot answer for yet stay. */
  settleAll(): Promise<void> {
    this.running ??= (async () => {
      for (const [id, parts] of [...this.batches]) {
        try {
          await this.settle(id, parts);
          this.batches.delete(id);
          this.onSettled?.(id);
        } catch (err) {
          this.logger.debug("an unresolved batch could not be checked yet", { batchId: id, error: String(err) });
        }
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async settle(id: string, writes: JournaledBatch[]): Promise<void> {
    const rs = await this.client.query({
      query: "SELECT DISTINCT request_digest AS d FROM spans WHERE batch_id = {id:UUID}",
      query_params: { id },
      format: "JSONEachRow",
    });
    const landed = new Set((await rs.json<{ d: string }>()).map((r) => r.d));
    const leaves: Buffer[] = [];
    for (const w of writes) w.digests.forEach((d, i) => landed.has(d) && leaves.push(...leavesOfPart(w, i)));
    if (leaves.length > 0) {
      const inLedger = await this.client.query({
        query: "SELECT count() AS n FROM ledger WHERE batch_id = {id:UUID}",
        query_params: { id },
        format: "JSONEachRow",
      });
      if (Number((await inLedger.json<{ n: number | string }>())[0]?.n ?? 0) === 0) {
        const entry = await this.ledger.append(id, leaves);
        this.onLedgered?.(entry);
      }
      this.logger.warn("rows stored while their requests were refused are ledgered; retries are answered from dedup", {
        batchId: id,
        rows: leaves.length,
      });
    }
    for (const w of writes) for (const d of w.digests) this.dedup.resolve(d, landed.has(d));
  }
}

/** The leaf hashes of one request's rows within a written batch (parts keep their order). */
function leavesOfPart(batch: JournaledBatch, part: number): Buffer[] {
  return batch.partLeaves[part] ?? [];
}
