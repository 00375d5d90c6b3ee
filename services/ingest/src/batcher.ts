import { UnavailableError, uuidv7 } from "@vigil/common";

/** One request's share of a batch: its encoded rows and their ledger leaf hashes. */
export interface BatchPart {
  body: string;
  leaves: Buffer[];
}

export interface WrittenBatch {
  id: string;
  /** The rows as UTF-8, one chunk per request. */
  chunks: Buffer[];
  /** Bytes in all chunks. */
  bytes: number;
  rows: number;
  leaves: Buffer[];
}

/** Inserts one batch's rows; resolves once they are committed. */
export type BatchWriter = (batch: WrittenBatch) => Promise<void>;

/**
 * Called, in batch order, right after a batch's rows are committed; the batch's
 * requests are acknowledged when it resolves (the ledger entry). The next INSERT does
 * not wait for it, so the two overlap.
 */
export type BatchCommitter = (batch: WrittenBatch) => Promise<void>;

export interface BatcherOptions {
  /** Rows in one INSERT at most. Requests are never split across batches. */
  maxBatchRows: number;
  /** Rows waiting (queued or being written) past which new requests are refused. */
  maxPendingRows: number;
  /**
   * Encoded row bytes waiting at or past which new requests are refused: bounds memory
   * when rows are large. The bound can be passed by one request.
   */
  maxPendingBytes?: number;
  /** Seconds a refused client should wait (sent as Retry-After). */
  retryAfterSeconds: number;
  /** INSERTs in flight at once (default 1: measured, a second one did not raise throughput on the embedded engine). */
  maxConcurrentWrites?: number;
  write: BatchWriter;
  commit?: BatchCommitter;
}

interface Batch {
  id: string;
  chunks: Buffer[];
  bytes: number;
  rows: number;
  leaves: Buffer[];
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/**
 * Group commit for inserts. Requests that arrive while an INSERT is running join the
 * next batch, so ClickHouse sees a few large inserts instead of one per request, and
 * every request still waits until the batch holding its rows is committed (rows and
 * ledger entry) before it is acknowledged. When idle, a request is written at once.
 */
export class SpanBatcher {
  private readonly queue: Batch[] = [];
  private writesInFlight = 0;
  /** Commits (ledger entries) still in flight; `flush` waits for them too. */
  private committing = new Set<Promise<void>>();
  private pendingRows = 0;
  private pendingBytes = 0;
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
   * @throws UnavailableError (429) when more than `maxPendingRows` rows, or `maxPendingBytes`
   *   of row text, are waiting.
   */
  submit(rows: number, encode: (batchId: string) => BatchPart): Promise<void> {
    const overRows = this.pendingRows > 0 && this.pendingRows + rows > this.options.maxPendingRows;
    const overBytes = this.pendingBytes >= (this.options.maxPendingBytes ?? Infinity);
    if (overRows || overBytes) {
      const waiting = overRows ? `${this.pendingRows} rows` : `${Math.round(this.pendingBytes / 1048576)} MiB of rows`;
      return Promise.reject(
        new UnavailableError(
          `ingest is at capacity (${waiting} waiting to be stored); retry later`,
          this.options.retryAfterSeconds,
          undefined,
          429,
        ),
      );
    }
    let batch = this.queue.at(-1);
    if (batch === undefined || batch.rows + rows > this.options.maxBatchRows) {
      batch = { id: uuidv7(), chunks: [], bytes: 0, rows: 0, leaves: [], waiters: [] };
      this.queue.push(batch);
    }
    const part = encode(batch.id);
    // Held as bytes outside the JS heap until the INSERT: row strings kept in the young
    // generation were copied by every scavenge while they waited (measured with
    // --trace-gc: time in scavenges halved once they were not).
    const chunk = Buffer.from(part.body, "utf8");
    batch.chunks.push(chunk);
    batch.bytes += chunk.length;
    for (const leaf of part.leaves) batch.leaves.push(leaf);
    batch.rows += rows;
    this.pendingRows += rows;
    this.pendingBytes += chunk.length;
    const done = new Promise<void>((resolve, reject) => (batch as Batch).waiters.push({ resolve, reject }));
    this.startWrites();
    return done;
  }

  /** Rows accepted but not yet committed. */
  get pending(): number {
    return this.pendingRows;
  }

  /** Row bytes accepted but not yet written. */
  get pendingSize(): number {
    return this.pendingBytes;
  }

  /** Resolves when every submitted batch has been written and committed (or has failed). */
  async flush(): Promise<void> {
    if (this.writesInFlight > 0 || this.queue.length > 0)
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await Promise.allSettled([...this.committing]);
  }

  /** Starts INSERTs for queued batches while write slots are free. */
  private startWrites(): void {
    const slots = this.options.maxConcurrentWrites ?? 1;
    while (this.writesInFlight < slots) {
      const batch = this.queue.shift();
      if (batch === undefined) break;
      this.writesInFlight++;
      void this.writeBatch(batch);
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    try {
      await this.options.write(batch);
      this.batchesWritten++;
      this.rowsWritten += batch.rows;
      this.startCommit(batch);
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
    } finally {
      this.pendingRows -= batch.rows;
      this.pendingBytes -= batch.bytes;
      this.writesInFlight--;
    }
    this.startWrites();
    if (this.writesInFlight === 0 && this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Starts the batch's commit without waiting for it; its requests are answered when it settles. */
  private startCommit(batch: Batch): void {
    const done = (this.options.commit?.(batch) ?? Promise.resolve()).then(
      () => {
        for (const w of batch.waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
    this.committing.add(done);
    void done.finally(() => this.committing.delete(done));
  }
}
