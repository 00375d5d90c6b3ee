import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from "node:fs";
import type { StoredCheckpoint } from "./checkpointer";

/**
 * A witness keeps signed checkpoints outside Vigil's store, so that whoever can rewrite
 * the store (and re-sign with a key kept beside it) still cannot rewrite what was
 * already witnessed: `vigil verify` checks the store against the witnessed checkpoints.
 *
 * The file witness appends one JSON line per checkpoint to a file that should live on
 * another disk, host or append-only mount than the data directory (a SIEM can tail it).
 */
export function appendWitnessCheckpoint(file: string, checkpoint: StoredCheckpoint): void {
  const line = `${JSON.stringify({ chainId: checkpoint.chainId, size: checkpoint.size, note: checkpoint.note })}\n`;
  appendFileSync(file, line, { mode: 0o600 });
  // Witnessed means on disk: a checkpoint lost in a page cache witnesses nothing.
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The checkpoints a witness file holds (none when it does not exist yet); malformed lines are reported. */
export function readWitnessCheckpoints(file: string): StoredCheckpoint[] {
  if (!existsSync(file)) return [];
  const out: StoredCheckpoint[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const parsed = JSON.parse(line) as Partial<StoredCheckpoint>;
      if (typeof parsed.chainId !== "string" || typeof parsed.size !== "number" || typeof parsed.note !== "string")
        throw new Error(`${file}:${i + 1}: not a witnessed checkpoint`);
      out.push({ chainId: parsed.chainId, size: parsed.size, note: parsed.note });
    });
  return out;
}
