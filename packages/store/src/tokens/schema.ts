import type { Migration } from "../migrations";

/**
 * Ingest tokens created at run time (`vigil token create`), besides the ones declared in
 * the config. Only the SHA-256 is stored. Insert-only: revoking adds a row; the latest
 * row of a token is its state, except that a revocation is terminal, and the history stays.
 */
export const TOKENS_MIGRATION: Migration = {
  version: 8,
  name: "ingest tokens created through the API",
  statements: [
    `CREATE TABLE IF NOT EXISTS agent_tokens (
      token_id String,
      changed_at DateTime64(3, 'UTC'),
      agent_id LowCardinality(String),
      name String,
      sha256 String COMMENT 'hex SHA-256 of the bearer token; the token itself is never stored',
      environment String COMMENT 'the only environment the token may write, or empty',
      expires_at Nullable(DateTime64(3, 'UTC')),
      created_by String,
      revoked UInt8,
      changed_by String
    ) ENGINE = MergeTree
    ORDER BY (token_id, changed_at)`,
  ],
};
