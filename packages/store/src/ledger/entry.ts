import { createHash } from "node:crypto";
import { leafHash } from "./merkle";

/** One ledger entry: a committed insert batch. */
export interface LedgerEntry {
  chainId: string;
  seq: number;
  batchId: string;
  rowCount: number;
  /** Hex Merkle root over the batch's sorted row leaf hashes. */
  batchRoot: string;
  /** Hex entry hash of the previous entry in the chain. */
  prevHash: string;
  /** Hex SHA-256 of `canonicalEntry(entry)`. */
  entryHash: string;
  createdAtMs: number;
}

export const GENESIS_HASH = "0".repeat(64);

/** The text an entry's hash covers: every field but the hash, one a line, versioned. */
export function canonicalEntry(e: Omit<LedgerEntry, "entryHash">): string {
  return `vigil-ledger-v1\n${e.chainId}\n${e.seq}\n${e.batchId}\n${e.rowCount}\n${e.batchRoot}\n${e.prevHash}\n${e.createdAtMs}\n`;
}

export function entryHashOf(e: Omit<LedgerEntry, "entryHash">): string {
  return createHash("sha256").update(canonicalEntry(e)).digest("hex");
}

/** The entry's leaf in the log tree that checkpoints sign. */
export function entryLeaf(e: Omit<LedgerEntry, "entryHash">): Buffer {
  return leafHash(canonicalEntry(e));
}

/** Sorts leaf hashes so a batch's root does not depend on the order rows are read back in. */
export function sortLeaves(leaves: Buffer[]): Buffer[] {
  return leaves.sort(Buffer.compare);
}
