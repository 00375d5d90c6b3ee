import type { ClickHouseClient } from "@clickhouse/client";
import { VIEW_SECURITY_MIGRATION } from "./access/schema";
import {
  ACTIVITY_BY_ORIGIN_MIGRATION,
  ACTIVITY_MIGRATION,
  BACKFILL_MIGRATION,
  LOG_RECORDS_MIGRATION,
} from "./activity/schema";
import { ALERTS_MIGRATION, AUDIT_JUDGE_CURSOR_MIGRATION } from "./alerts/schema";
import { clusterStatements, federationStatements, schemaTables } from "./cluster";
import { BASELINES_MIGRATION } from "./baselines/schema";
import { DECISIONS_LEDGER_MIGRATION, DECISIONS_MIGRATION } from "./decisions/schema";
import { DELIVERY_MIGRATION } from "./delivery/schema";
import { TOKENS_MIGRATION } from "./tokens/schema";
import { LEDGER_MIGRATION } from "./ledger/schema";
import { FACTS_MIGRATION, MCP_FACTS_MIGRATION } from "./spans/facts-schema";
import { SPANS_MERGES_MIGRATION, SPANS_MIGRATION, TRACE_INDEX_PER_REQUEST_MIGRATION } from "./spans/schema";
import { TRACE_SESSIONS_MIGRATION } from "./spans/trace-sessions-schema";
import { spanColumnDefinitions } from "./spans/columns";

/**
 * Adds the span catalogue's columns (spans/columns.ts) that a store created before them
 * lacks, before any pending migration runs (so one may use them). A new column needs no
 * migration of its own: adding a column is a metadata change in ClickHouse, and old rows
 * read its default. A store without a spans table gets every column from migration 1.
 */
async function addMissingSpanColumns(
  client: ClickHouseClient,
  forPlacement: (statement: string) => string[],
): Promise<void> {
  const rs = await client.query({
    query: "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'spans'",
    format: "JSONEachRow",
  });
  const present = new Set((await rs.json<{ name: string }>()).map((r) => r.name));
  if (present.size === 0) return;
  const missing = spanColumnDefinitions().filter((c) => !present.has(c.name));
  if (missing.length === 0) return;
  const statement = `ALTER TABLE spans ${missing.map((c) => `ADD COLUMN IF NOT EXISTS ${c.definition}`).join(", ")}`;
  for (const s of forPlacement(statement)) await client.command({ query: s });
}

/** One numbered schema step. Every statement must be idempotent (IF NOT EXISTS). */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Every migration, in order. Append only: a released migration is never edited. */
export const MIGRATIONS: readonly Migration[] = [
  SPANS_MIGRATION,
  FACTS_MIGRATION,
  LEDGER_MIGRATION,
  ALERTS_MIGRATION,
  ACTIVITY_MIGRATION,
  BASELINES_MIGRATION,
  DELIVERY_MIGRATION,
  TOKENS_MIGRATION,
  VIEW_SECURITY_MIGRATION,
  DECISIONS_MIGRATION,
  ACTIVITY_BY_ORIGIN_MIGRATION,
  AUDIT_JUDGE_CURSOR_MIGRATION,
  SPANS_MERGES_MIGRATION,
  TRACE_SESSIONS_MIGRATION,
  MCP_FACTS_MIGRATION,
  BACKFILL_MIGRATION,
  LOG_RECORDS_MIGRATION,
  TRACE_INDEX_PER_REQUEST_MIGRATION,
  DECISIONS_LEDGER_MIGRATION,
];

export const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version UInt32,
  name String,
  applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version`;

/**
 * Brings the schema up to date and records each applied migration. Safe to run at
 * every start and from several processes: statements are idempotent, and a version is
 * recorded only after all its statements succeeded.
 *
 * @returns the versions applied by this call.
 */
export async function runMigrations(client: ClickHouseClient, options: { cluster?: string } = {}): Promise<number[]> {
  const forPlacement = (statement: string): string[] =>
    options.cluster === undefined ? [statement] : clusterStatements(statement, options.cluster);
  for (const statement of forPlacement(MIGRATIONS_TABLE)) await client.command({ query: statement });
  await addMissingSpanColumns(client, forPlacement);
  const rs = await client.query({ query: "SELECT DISTINCT version FROM schema_migrations", format: "JSONEachRow" });
  const done = new Set((await rs.json<{ version: number }>()).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements.flatMap(forPlacement)) await client.command({ query: statement });
    await client.insert({
      table: "schema_migrations",
      values: [{ version: m.version, name: m.name }],
      format: "JSONEachRow",
    });
    applied.push(m.version);
  }
  return applied;
}

/**
 * Makes this server the read side of a sharded store (see `federationStatements`): one
 * `Distributed` table per schema table over the shards of `cluster`, each of which was
 * migrated on its own. Idempotent.
 */
export async function federateShards(client: ClickHouseClient, cluster: string): Promise<void> {
  const tables = schemaTables([MIGRATIONS_TABLE, ...MIGRATIONS.flatMap((m) => m.statements)]);
  for (const statement of federationStatements(tables, cluster)) await client.command({ query: statement });
}
