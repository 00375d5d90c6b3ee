import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeafJournal } from "./journal";

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-journal-"));
  file = join(dir, "sub", "ingest-main.journal");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const leaf = (n: number) => Buffer.alloc(32, n);

describe("leaf journal", () => {
  it("gives back exactly the batches left open, parts and leaves intact, across a torn last line", () => {
    const { journal, unfinished } = LeafJournal.open(file);
    expect(unfinished).toEqual([]);
    journal.record({ id: "b1", digests: ["d1", "d2"], partLeaves: [[leaf(1)], [leaf(2), leaf(3)]] });
    journal.record({ id: "b2", digests: ["d3"], partLeaves: [[leaf(4)]] });
    journal.done("b1");
    // A part of b2 retried alone is recorded again under the same batch id.
    journal.record({ id: "b2", digests: ["d4"], partLeaves: [[leaf(5)]] });
    appendFileSync(file, '{"w":"b3","d":["d5"],"l":["AAAA'); // a crash mid-append
    const reopened = LeafJournal.open(file);
    expect(reopened.unfinished).toEqual([{ id: "b2", digests: ["d3", "d4"], partLeaves: [[leaf(4)], [leaf(5)]] }]);
    // The file now holds only what is open.
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(1);
    reopened.journal.done("b2");
    expect(LeafJournal.open(file).unfinished).toEqual([]);
  });
});
