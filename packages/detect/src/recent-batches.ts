import { compareDetectOrder, findBatchSpans } from "@vigil/store";
import type { ClickHouseClient, DetectSpan } from "@vigil/store";

/**
 * The rows of batches this process has just committed, as detection sees them, handed
 * over by ingest when detection runs in the same process (the all-in-one). Detection
 * takes a step's batches from here and reads from the store only those it lacks (a
 * batch settled after a crash, one committed by another process, one evicted): reading
 * back every row cost more CPU than any detector (13 µs a row, measured with
 * bench/exp-cpu). Bounded: past `maxRows` the oldest batches are dropped and read
 * back when their turn comes.
 */
export class RecentBatches {
  private readonly batches = new Map<string, readonly DetectSpan[]>();
  private rows = 0;
  /** Batches found here and read from the store, since start (for the bench and tests). */
  handedOver = 0;
  readBack = 0;

  constructor(private readonly maxRows = 200_000) {}

  put(batchId: string, spans: readonly DetectSpan[]): void {
    if (this.batches.has(batchId)) return;
    this.batches.set(batchId, spans);
    this.rows += spans.length;
    for (const [id, held] of this.batches) {
      if (this.rows <= this.maxRows) break;
      this.batches.delete(id);
      this.rows -= held.length;
    }
  }

  /**
   * The rows of these batches in detection's order (start time, then span id, as a read
   * from the store returns them), and forgets them: a batch is examined once.
   */
  async take(client: ClickHouseClient, batchIds: readonly string[]): Promise<DetectSpan[]> {
    const out: DetectSpan[] = [];
    const missing: string[] = [];
    for (const id of batchIds) {
      const held = this.batches.get(id);
      if (held === undefined) {
        missing.push(id);
        continue;
      }
      this.batches.delete(id);
      this.rows -= held.length;
      for (const s of held) out.push(s);
    }
    this.handedOver += batchIds.length - missing.length;
    this.readBack += missing.length;
    if (missing.length > 0) for (const s of await findBatchSpans(client, missing)) out.push(s);
    return out.sort(compareDetectOrder);
  }
}
