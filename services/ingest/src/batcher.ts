import { UnavailableError, uuidv7 } from "@vigil/common";
import type { DetectSpan } from "@vigil/store";

/** One request's share of a batch: its encoded rows (UTF-8) and their ledger leaf hashes. */
export interface BatchPart {
  body: Buffer;
  leaves: Buffer[];
  /** The rows as detection sees them, when an in-process detection is handed them after commit. */
  spans?: readonly DetectSpan[];
}

export interface WrittenBatch {
  id: string;
  /** The rows as UTF-8, one chunk per request. */
  chunks: Buffer[];
  /** Bytes in all chunks. */
  bytes: number;
  rows: number;
  leaves: Buffer[];
  /** The request digests of the parts (empty strings for untagged parts). */
  digests: string[];
  /** Each part's leaf hashes, in part order (the same hashes as `leaves`). */
  partLeaves: Buffer[][];
  /** Every stored row as detection sees it, in the commit's batch when every part carried them; else undefined. */
  spans: DetectSpan[] | undefined;
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
  /**
   * Whether a failed INSERT of several requests' rows may be the fault of one request's
   * data (the engine refused a value), so that each request's part is retried alone and
   * only the parts that fail alone fail. Default: never (every request gets the error).
   */
  isRowRejection?: (err: unknown) => boolean;
  /**
   * Called when a batch's rows may be stored although its requests were refused: its
   * INSERT failed without the engine refusing a value (the connection dropped; the
   * INSERT may have landed), or it is surely stored but its commit failed. The batch
   * must be reconciled before its requests are taken again, or a retry stores a copy.
   */
  onUnresolved?: (batch: WrittenBatch, rowsSurelyStored: boolean) => void;
}

/** One request's rows inside a batch, and the promise it waits on. */
interface Part {
  chunk: Buffer;
  rows: number;
  leaves: Buffer[];
  spans: readonly DetectSpan[] | undefined;
  digest: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Batch {
  id: string;
  parts: Part[];
  bytes: number;
  rows: number;
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
  submit(rows: number, encode: (batchId: string) => BatchPart, digest = ""): Promise<void> {
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
      batch = { id: uuidv7(), parts: [], bytes: 0, rows: 0 };
      this.queue.push(batch);
    }
    const encoded = encode(batch.id);
    // Bytes outside the JS heap until the INSERT: row strings kept in the young generation
    // were copied by every scavenge while they waited (measured with --trace-gc: time in
    // scavenges halved once they were not).
    const chunk = encoded.body;
    const target = batch;
    const done = new Promise<void>((resolve, reject) =>
      target.parts.push({ chunk, rows, leaves: encoded.leaves, spans: encoded.spans, digest, resolve, reject }),
    );
    batch.bytes += chunk.length;
    batch.rows += rows;
    this.pendingRows += rows;
    this.pendingBytes += chunk.length;
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
      const written = await this.insert(batch);
      if (written.length > 0) this.startCommit(batch.id, written);
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

  /**
   * Inserts the batch as one INSERT. When the engine refuses a value, no row of it was
   * stored (one part, all or nothing); each request's part is then retried alone, so one
   * agent's bad row fails only its own request. Returns the parts that are stored; the
   * others' requests are rejected here.
   */
  private async insert(batch: Batch): Promise<Part[]> {
    try {
      await this.writeParts(batch.id, batch.parts);
      return batch.parts;
    } catch (err) {
      const rejected = this.options.isRowRejection?.(err) === true;
      if (!rejected) this.options.onUnresolved?.(toWritten(batch.id, batch.parts), false);
      if (batch.parts.length === 1 || !rejected) {
        for (const part of batch.parts) part.reject(err);
        return [];
      }
    }
    const stored: Part[] = [];
    for (const part of batch.parts) {
      try {
        await this.writeParts(batch.id, [part]);
        stored.push(part);
      } catch (err) {
        if (this.options.isRowRejection?.(err) !== true)
          this.options.onUnresolved?.(toWritten(batch.id, [part]), false);
        part.reject(err);
      }
    }
    return stored;
  }

  private async writeParts(id: string, parts: Part[]): Promise<void> {
    const written = toWritten(id, parts);
    await this.options.write(written);
    this.batchesWritten++;
    this.rowsWritten += written.rows;
  }

  /** Starts the batch's commit without waiting for it; its requests are answered when it settles. */
  private startCommit(id: string, parts: Part[]): void {
    const done = (this.options.commit?.(toWritten(id, parts, true)) ?? Promise.resolve()).then(
      () => {
        for (const part of parts) part.resolve();
      },
      (err: unknown) => {
        this.options.onUnresolved?.(toWritten(id, parts), true);
        for (const part of parts) part.reject(err);
      },
    );
    this.committing.add(done);
    void done.finally(() => this.committing.delete(done));
  }
}

/** The batch as handed to the writer and committer; the rows for detection only when `withSpans` (the commit). */
function toWritten(id: string, parts: readonly Part[], withSpans = false): WrittenBatch {
  const chunks: Buffer[] = [];
  const leaves: Buffer[] = [];
  const digests: string[] = [];
  const partLeaves: Buffer[][] = [];
  const spans: DetectSpan[] | undefined =
    withSpans && parts.length > 0 && parts.every((p) => p.spans !== undefined) ? [] : undefined;
  let bytes = 0;
  let rows = 0;
  for (const part of parts) {
    if (spans !== undefined) for (const s of part.spans as readonly DetectSpan[]) spans.push(s);
    chunks.push(part.chunk);
    digests.push(part.digest);
    partLeaves.push(part.leaves);
    for (const leaf of part.leaves) leaves.push(leaf);
    bytes += part.chunk.length;
    rows += part.rows;
  }
  return { id, chunks, bytes, rows, leaves, digests, partLeaves, spans };
}
