import type { Migration } from "../migrations";

/**
 * Typed security facts beside each raw span (see @vigil/facts), so that detectors and
 * investigation queries filter and group on columns instead of parsing JSON. The columns
 * themselves are the span catalogue's (FACT_COLUMNS in spans/columns.ts, folded into the
 * CREATE TABLE before any release); this migration adds their skip indexes.
 */
export const FACTS_MIGRATION: Migration = {
  version: 2,
  name: "security facts columns on spans",
  statements: [
    "ALTER TABLE spans ADD INDEX IF NOT EXISTS idx_credential_id credential_id TYPE bloom_filter(0.01) GRANULARITY 1",
    "ALTER TABLE spans ADD INDEX IF NOT EXISTS idx_db_tables db_tables TYPE bloom_filter(0.01) GRANULARITY 1",
  ],
};

/**
 * MCP as facts of their own, and which instrumentation's conventions a span's facts came
 * from: its columns were folded into the span catalogue, the version stays recorded.
 */
export const MCP_FACTS_MIGRATION: Migration = {
  version: 15,
  name: "MCP server and method, and the dialect of the facts",
  statements: [],
};
