import { UnavailableError, uuidv7 } from "@vigil/common";

/** One request's share of a batch: its encoded rows and their ledger leaf hashes. */
export interface BatchPart {
  body: string;
  leaves: Buffer[];
}

/** Writes one batch; resolves only once the batch (and its ledger entry) is committed. */
export type BatchWriter = (batch: { id: string; body: string; rows: number; leaves: Buffer[] }) => Promise<void>;

export interface BatcherOptions {
  /** Rows in one INSERT at most. Requests are never split across batches. */
  maxBatchRows: number;
  /** Rows waiting (queued or being written) past which new requests are refused. */
  maxPendingRows: number;
  /** Seconds a refused client should wait (sent as Retry-After). */
  retryAfterSeconds: number;
  write: BatchWriter;
}

interface Batch {
  id: string;
  body: string;
  rows: number;
  leaves: Buffer[];
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/**
 * Group commit for inserts. Requests that arrive while an INSERT is running join the
 * next batch, so ClickHouse sees a few large inserts instead of one per request, and
 * every request still waits until the batch holding its rows is committed before it is
 * acknowledged. When idle, a request is written at once: no added latency.
 */
export class SpanBatcher {
  private readonly queue: Batch[] = [];
  private writing = false;
  private pendingRows = 0;
  private idleWaiters: Array<() => void> = [];
  /** Batches and rows committed so far (for metrics and the benchmark). */
  batchesWritten = 0;
  rowsWritten = 0;

  constructor(private readonly options: BatcherOptions) {}

  /**
   * Adds one request's rows. `encode` is called synchronously with the id of the batch
   * the rows will belong to and returns their encoded lines and leaf hashes, which are
   * appended to that batch.
   *
   * @throws UnavailableError when more than `maxPendingRows` rows are waiting.
   */
  submit(rows: number, encode: (batchId: string) => BatchPart): Promise<void> {
    if (this.pendingRows > 0 && this.pendingRows + rows > this.options.maxPendingRows) {
      return Promise.reject(
        new UnavailableError(
          `ingest is at capacity (${this.pendingRows} rows waiting to be stored); retry later`,
          this.options.retryAfterSeconds,
        ),
      );
    }
    let batch = this.queue.at(-1);
    if (batch === undefined || batch.rows + rows > this.options.maxBatchRows) {
      batch = { id: uuidv7(), body: "", rows: 0, leaves: [], waiters: [] };
      this.queue.push(batch);
    }
    const part = encode(batch.id);
    batch.body += part.body;
    for (const leaf of part.leaves) batch.leaves.push(leaf);
    batch.rows += rows;
    this.pendingRows += rows;
    const done = new Promise<void>((resolve, reject) => (batch as Batch).waiters.push({ resolve, reject }));
    if (!this.writing) void this.drainQueue();
    return done;
  }

  /** Rows accepted but not yet committed. */
  get pending(): number {
    return this.pendingRows;
  }

  /** Resolves when every submitted batch has been written (or has failed). */
  async flush(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async drainQueue(): Promise<void> {
    this.writing = true;
    for (let batch = this.queue.shift(); batch !== undefined; batch = this.queue.shift()) {
      try {
        await this.options.write(batch);
        this.batchesWritten++;
        this.rowsWritten += batch.rows;
        for (const w of batch.waiters) w.resolve();
      } catch (err) {
        for (const w of batch.waiters) w.reject(err);
      } finally {
        this.pendingRows -= batch.rows;
      }
    }
    this.writing = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
