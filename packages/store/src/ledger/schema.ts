import type { Migration } from "../migrations";

/**
 * Tamper evidence. Every committed insert batch gets a ledger entry: a Merkle root over
 * its rows' canonical lines and the hash of the previous entry (a hash chain per ingest
 * chain). Checkpoints sign the Merkle root over all entries (C2SP tlog-checkpoint).
 * Both tables are insert-only like the spans. (What ingest's integrity checks found,
 * credentials redacted before storage and a claimed identity that is not the token's, is
 * in the spans' own columns: see spans/columns.ts.)
 */
/** A table of ledger entries: the spans' `ledger`, and the decisions' `decision_ledger` (its twin). */
export function ledgerTableDdl(table: "ledger" | "decision_ledger"): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
      chain_id LowCardinality(String),
      seq UInt64,
      batch_id UUID,
      row_count UInt32,
      batch_root String COMMENT 'hex RFC 6962 Merkle root over the sorted leaf hashes of the batch rows',
      prev_hash String COMMENT 'hex entry_hash of seq - 1 (zeros for seq 1)',
      entry_hash String COMMENT 'hex SHA-256 of the canonical entry text',
      created_at DateTime64(3, 'UTC')
    ) ENGINE = MergeTree ORDER BY (chain_id, seq)`;
}

export const LEDGER_MIGRATION: Migration = {
  version: 3,
  name: "ledger, checkpoints and integrity findings",
  statements: [
    ledgerTableDdl("ledger"),
    `CREATE TABLE IF NOT EXISTS ledger_checkpoints (
      chain_id LowCardinality(String),
      tree_size UInt64,
      root_hash String,
      note String COMMENT 'the signed checkpoint, C2SP tlog-checkpoint in a signed note',
      created_at DateTime64(3, 'UTC')
    ) ENGINE = MergeTree ORDER BY (chain_id, tree_size)`,
    "ALTER TABLE spans ADD INDEX IF NOT EXISTS idx_batch_id batch_id TYPE bloom_filter(0.001) GRANULARITY 1",
  ],
};
