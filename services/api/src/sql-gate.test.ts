import { describe, expect, it } from "vitest";
import { SqlGate } from "./sql";
import type { SqlResult } from "./sql";

const done: SqlResult = { ok: true, rows: [], truncated: false, elapsedMs: 0 };

/** A task that finishes when the test says so. */
function held(): { task: () => Promise<SqlResult>; release: () => void; started: () => boolean } {
  let release = () => {};
  let started = false;
  const task = () => {
    started = true;
    return new Promise<SqlResult>((resolve) => (release = () => resolve(done)));
  };
  return { task, release: () => release(), started: () => started };
}

describe("SqlGate", () => {
  it("answers 429 to a key that already has a query under way, and admits it again after", async () => {
    const gate = new SqlGate(4);
    const first = held();
    const running = gate.run("reader", first.task);
    expect(await gate.run("reader", () => Promise.resolve(done))).toMatchObject({ ok: false, status: 429 });
    first.release();
    expect(await running).toBe(done);
    expect(await gate.run("reader", () => Promise.resolve(done))).toBe(done);
  });

  it("runs one query at a time and queues the others, refusing past the queue's size", async () => {
    const gate = new SqlGate(2);
    const a = held();
    const b = held();
    const pa = gate.run("a", a.task);
    const pb = gate.run("b", b.task);
    await Promise.resolve();
    expect(a.started()).toBe(true);
    expect(b.started()).toBe(false);
    expect(await gate.run("c", () => Promise.resolve(done))).toMatchObject({ ok: false, status: 429 });
    a.release();
    await pa;
    await new Promise((resolve) => setImmediate(resolve));
    expect(b.started()).toBe(true);
    b.release();
    expect(await pb).toBe(done);
  });
});
