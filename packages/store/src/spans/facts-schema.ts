import type { Migration } from "../migrations";

/**
 * Typed security facts beside each raw span (see @vigil/facts), so that detectors and
 * investigation queries filter and group on columns instead of parsing JSON.
 * Adding columns is a metadata change in ClickHouse; old rows read the defaults.
 */
export const FACTS_MIGRATION: Migration = {
  version: 2,
  name: "security facts columns on spans",
  statements: [
    `ALTER TABLE spans
      ADD COLUMN IF NOT EXISTS claimed_agent LowCardinality(String) COMMENT 'agent the span claims; agent_id (from the token) is authoritative',
      ADD COLUMN IF NOT EXISTS environment LowCardinality(String),
      ADD COLUMN IF NOT EXISTS operation LowCardinality(String) COMMENT 'gen_ai.operation.name',
      ADD COLUMN IF NOT EXISTS tool LowCardinality(String),
      ADD COLUMN IF NOT EXISTS db_system LowCardinality(String),
      ADD COLUMN IF NOT EXISTS db_operation LowCardinality(String),
      ADD COLUMN IF NOT EXISTS db_tables Array(LowCardinality(String)) COMMENT 'every table touched',
      ADD COLUMN IF NOT EXISTS db_tables_written Array(LowCardinality(String)),
      ADD COLUMN IF NOT EXISTS db_statement_kinds Array(LowCardinality(String)),
      ADD COLUMN IF NOT EXISTS db_tables_approximate Bool COMMENT 'query read by the tokenizer, not the parser',
      ADD COLUMN IF NOT EXISTS outbound_host LowCardinality(String),
      ADD COLUMN IF NOT EXISTS credential_id LowCardinality(String),
      ADD COLUMN IF NOT EXISTS peer_agent LowCardinality(String),
      ADD COLUMN IF NOT EXISTS input String COMMENT 'the input that caused the step, redacted and truncated' CODEC(ZSTD(3)),
      ADD COLUMN IF NOT EXISTS input_source LowCardinality(String),
      ADD COLUMN IF NOT EXISTS approval_id String CODEC(ZSTD(1)),
      ADD COLUMN IF NOT EXISTS approval_status LowCardinality(String),
      ADD COLUMN IF NOT EXISTS destructive Bool,
      ADD COLUMN IF NOT EXISTS destructive_reason LowCardinality(String)`,
    "ALTER TABLE spans ADD INDEX IF NOT EXISTS idx_credential_id credential_id TYPE bloom_filter(0.01) GRANULARITY 1",
    "ALTER TABLE spans ADD INDEX IF NOT EXISTS idx_db_tables db_tables TYPE bloom_filter(0.01) GRANULARITY 1",
  ],
};

/** MCP as facts of their own, and which instrumentation's conventions a span's facts came from. */
export const MCP_FACTS_MIGRATION: Migration = {
  version: 15,
  name: "MCP server and method, and the dialect of the facts",
  statements: [
    `ALTER TABLE spans
      ADD COLUMN IF NOT EXISTS mcp_server LowCardinality(String) COMMENT 'MCP server name (initialize), else its network address',
      ADD COLUMN IF NOT EXISTS mcp_method LowCardinality(String) COMMENT 'mcp.method.name',
      ADD COLUMN IF NOT EXISTS dialect LowCardinality(String) COMMENT 'conventions beyond OTel that filled facts'`,
  ],
};
