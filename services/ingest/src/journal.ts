import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** What a journal keeps of a written batch: enough to ledger it without reading its rows. */
export interface JournaledBatch {
  id: string;
  /** Each part's request digest. */
  digests: string[];
  /** Each part's leaf hashes. */
  partLeaves: Buffer[][];
}

type Line = { w: string; d: string[]; l: string[] } | { done: string };

/** Past this size, a journal with nothing open is emptied. */
const COMPACT_BYTES = 16 * 1024 * 1024;

/**
 * Ingest's leaf journal: before each INSERT, the batch's request digests and leaf hashes
 * are appended to a file beside ingest; once the batch's ledger entry is stored, a done
 * line follows. After a crash, the batches still open are exactly those that may be
 * stored but unledgered, and they can be ledgered from the journal, which in server mode
 * ingest must do: its user may not read span content back.
 *
 * Appends are written before the INSERT is sent, without fsync: a killed process loses
 * nothing the kernel already has (an OS crash may lose the tail, as it may lose the
 * engine's own unsynced parts).
 */
export class LeafJournal {
  private readonly open = new Set<string>();

  private constructor(private readonly file: string) {}

  /** Opens (or creates) the journal; returns the batches a previous process left open. */
  static open(file: string): { journal: LeafJournal; unfinished: JournaledBatch[] } {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const journal = new LeafJournal(file);
    const pending = new Map<string, JournaledBatch>();
    if (existsSync(file)) {
      for (const text of readFileSync(file, "utf8").split("\n")) {
        if (text === "") continue;
        let line: Line;
        try {
          line = JSON.parse(text) as Line;
        } catch {
          continue; // a torn last line from a crash mid-append
        }
        if ("done" in line) {
          pending.delete(line.done);
          continue;
        }
        const batch = pending.get(line.w) ?? { id: line.w, digests: [], partLeaves: [] };
        line.d.forEach((digest, i) => {
          batch.digests.push(digest);
          const packed = Buffer.from(line.l[i] ?? "", "base64");
          const leaves: Buffer[] = [];
          for (let at = 0; at + 32 <= packed.length; at += 32) leaves.push(packed.subarray(at, at + 32));
          batch.partLeaves.push(leaves);
        });
        pending.set(line.w, batch);
      }
    }
    // Start afresh with only what is still open, so the file never grows across restarts.
    const unfinished = [...pending.values()];
    writeFileSync(file, unfinished.map((b) => journal.lineOf(b)).join(""), { mode: 0o600 });
    for (const b of unfinished) journal.open.add(b.id);
    return { journal, unfinished };
  }

  /** Records a batch about to be inserted (again, for a part retried alone). */
  record(batch: JournaledBatch): void {
    this.open.add(batch.id);
    appendFileSync(this.file, this.lineOf(batch));
  }

  /** Closes a batch whose ledger entry is stored, or that proved not to be stored. */
  done(id: string): void {
    if (!this.open.delete(id)) return;
    appendFileSync(this.file, `${JSON.stringify({ done: id })}\n`);
    if (this.open.size === 0 && statSync(this.file).size > COMPACT_BYTES) writeFileSync(this.file, "");
  }

  private lineOf(batch: JournaledBatch): string {
    const l = batch.partLeaves.map((leaves) => Buffer.concat(leaves).toString("base64"));
    return `${JSON.stringify({ w: batch.id, d: batch.digests, l })}\n`;
  }
}
