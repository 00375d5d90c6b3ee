import { describe, expect, it } from "vitest";
import { UnavailableError } from "@vigil/common";
import { SpanBatcher } from "./batcher";
import type { WrittenBatch } from "./batcher";

/** A writer that holds each INSERT open until released, like a slow store. */
function gatedWriter() {
  const batches: WrittenBatch[] = [];
  const gates: Array<() => void> = [];
  return {
    batches,
    write: (b: WrittenBatch) =>
      new Promise<void>((resolve) => {
        batches.push(b);
        gates.push(resolve);
      }),
    release: () => gates.shift()?.(),
  };
}

/**
 * A writer whose first INSERT is held open by `w` until released, so the requests
 * submitted meanwhile share the next batch; later INSERTs go to `then`.
 */
function firstHeldOpen(w: ReturnType<typeof gatedWriter>, then: (b: WrittenBatch) => Promise<void>) {
  let first = true;
  return (batch: WrittenBatch): Promise<void> => {
    if (!first) return then(batch);
    first = false;
    return w.write(batch);
  };
}

const part = (text: string) => () => ({ body: Buffer.from(`${text}\n`), leaves: [Buffer.from(text)] });
const tick = () => new Promise((r) => setImmediate(r));
const text = (b: WrittenBatch) => Buffer.concat(b.chunks).toString("utf8");

describe("group commit", () => {
  it("writes at once when idle, and groups requests that arrive during an INSERT into the next one", async () => {
    const w = gatedWriter();
    const b = new SpanBatcher({ maxBatchRows: 100, maxPendingRows: 1000, retryAfterSeconds: 1, write: w.write });
    const first = b.submit(1, part("a"));
    const second = b.submit(2, part("b"));
    const third = b.submit(3, part("c"));
    await tick();
    expect(w.batches.map(text)).toEqual(["a\n"]);
    w.release();
    await first;
    await tick();
    expect(w.batches.map((x) => [text(x), x.rows, x.leaves.length])).toEqual([
      ["a\n", 1, 1],
      ["b\nc\n", 5, 2],
    ]);
    w.release();
    await Promise.all([second, third]);
    expect(b.pending).toBe(0);
  });

  it("acknowledges a request only after its batch's commit (the ledger entry) succeeded", async () => {
    const w = gatedWriter();
    let commitDone: (() => void) | undefined;
    const b = new SpanBatcher({
      maxBatchRows: 100,
      maxPendingRows: 1000,
      retryAfterSeconds: 1,
      write: w.write,
      commit: () => new Promise<void>((r) => (commitDone = r)),
    });
    let acked = false;
    const p = b.submit(1, part("a")).then(() => (acked = true));
    await tick();
    w.release();
    await tick();
    expect(acked).toBe(false);
    commitDone?.();
    await p;
    expect(acked).toBe(true);
  });

  it("fails every request of a batch whose INSERT or commit fails, and keeps going", async () => {
    let n = 0;
    const b = new SpanBatcher({
      maxBatchRows: 100,
      maxPendingRows: 1000,
      retryAfterSeconds: 1,
      write: async () => {
        if (n++ === 0) throw new Error("store down");
      },
      commit: async (batch) => {
        if (text(batch).includes("bad")) throw new Error("ledger down");
      },
    });
    await expect(b.submit(1, part("a"))).rejects.toThrow("store down");
    await expect(b.submit(1, part("bad"))).rejects.toThrow("ledger down");
    await expect(b.submit(1, part("ok"))).resolves.toBeUndefined();
  });

  it("when the engine refuses a value, retries each request's rows alone and fails only the request that fails alone", async () => {
    const w = gatedWriter();
    const attempts: string[] = [];
    const committed: Array<[string, number, string[]]> = [];
    const b = new SpanBatcher({
      maxBatchRows: 100,
      maxPendingRows: 1000,
      retryAfterSeconds: 1,
      write: firstHeldOpen(w, async (batch) => {
        attempts.push(text(batch));
        if (text(batch).includes("bad")) throw new Error("Code: 25. DB::Exception: Cannot parse escape sequence");
      }),
      commit: async (batch) => {
        committed.push([batch.id, batch.rows, batch.leaves.map(String)]);
      },
      isRowRejection: (err) => String(err).includes("Code: 25."),
    });
    const held = b.submit(1, part("held"));
    await tick();
    const results = [b.submit(1, part("ok1")), b.submit(1, part("bad")), b.submit(1, part("ok2"))].map((p) =>
      p.then(
        () => "stored",
        (err: unknown) => String(err),
      ),
    );
    w.release();
    await held;
    expect(await Promise.all(results)).toEqual(["stored", expect.stringContaining("Cannot parse escape"), "stored"]);
    expect(attempts).toEqual(["ok1\nbad\nok2\n", "ok1\n", "bad\n", "ok2\n"]);
    // One ledger entry for the retried batch, holding exactly the rows that are stored.
    expect(committed.slice(1).map(([, rows, leaves]) => [rows, leaves])).toEqual([[2, ["ok1", "ok2"]]]);
    expect(b.pending).toBe(0);
  });

  it("does not retry parts alone when the failure is the store's, not a value's", async () => {
    const w = gatedWriter();
    let writes = 0;
    const b = new SpanBatcher({
      maxBatchRows: 100,
      maxPendingRows: 1000,
      retryAfterSeconds: 1,
      write: firstHeldOpen(w, async () => {
        writes++;
        throw new Error("connect ECONNREFUSED 127.0.0.1:8123");
      }),
      isRowRejection: (err) => String(err).includes("Code: 25."),
    });
    const held = b.submit(1, part("held"));
    await tick();
    const both = [b.submit(1, part("a")), b.submit(1, part("b"))];
    w.release();
    await held;
    for (const p of both) await expect(p).rejects.toThrow("ECONNREFUSED");
    expect(writes).toBe(1);
  });

  it("refuses new rows past the pending limit with a retryable error", async () => {
    const w = gatedWriter();
    const b = new SpanBatcher({ maxBatchRows: 100, maxPendingRows: 10, retryAfterSeconds: 3, write: w.write });
    const first = b.submit(8, part("a"));
    const refused = b.submit(5, part("b"));
    await expect(refused).rejects.toBeInstanceOf(UnavailableError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 3, status: 429 });
    w.release();
    await first;
  });

  it("refuses new requests once the waiting row text reaches the byte bound, and takes them again when it drains", async () => {
    const w = gatedWriter();
    const b = new SpanBatcher({
      maxBatchRows: 100,
      maxPendingRows: 1000,
      maxPendingBytes: 10,
      retryAfterSeconds: 1,
      write: w.write,
    });
    const first = b.submit(1, part("x".repeat(11))); // the first request is taken whatever its size
    expect(b.pendingSize).toBe(12);
    const refused = b.submit(1, part("y"));
    await expect(refused).rejects.toMatchObject({ status: 429, message: expect.stringMatching(/MiB of rows/) });
    w.release();
    await first;
    expect(b.pendingSize).toBe(0);
    const again = b.submit(1, part("y"));
    await tick();
    w.release();
    await again;
    expect(w.batches.map(text)).toEqual([`${"x".repeat(11)}\n`, "y\n"]);
  });

  it("never splits a request across batches and respects the batch size", async () => {
    const w = gatedWriter();
    const b = new SpanBatcher({ maxBatchRows: 5, maxPendingRows: 1000, retryAfterSeconds: 1, write: w.write });
    const all = [b.submit(1, part("x")), b.submit(3, part("a")), b.submit(3, part("b")), b.submit(2, part("c"))];
    for (let i = 0; i < 3; i++) {
      await tick();
      w.release();
    }
    await Promise.all(all);
    expect(w.batches.map((x) => x.rows)).toEqual([1, 3, 5]);
  });
});
