import { Parser } from "@guanmingchiu/sqlparser-ts";
import type { Observed } from "./observe";

export type GrantDialect = "postgresql" | "mysql" | "clickhouse";

/** The privilege each dialect needs for an observed operation; undefined: it cannot be granted. */
const PRIVILEGES: Record<GrantDialect, Record<string, string | undefined>> = {
  // PostgreSQL: DROP and ALTER belong to the table's owner and cannot be granted.
  postgresql: { SELECT: "SELECT", INSERT: "INSERT", UPDATE: "UPDATE", DELETE: "DELETE", TRUNCATE: "TRUNCATE" },
  mysql: {
    SELECT: "SELECT",
    INSERT: "INSERT",
    UPDATE: "UPDATE",
    DELETE: "DELETE",
    DROP: "DROP",
    ALTER: "ALTER",
    TRUNCATE: "DROP",
  },
  // ClickHouse: DELETE and UPDATE are mutations (ALTER DELETE / ALTER UPDATE).
  clickhouse: {
    SELECT: "SELECT",
    INSERT: "INSERT",
    UPDATE: "ALTER UPDATE",
    DELETE: "ALTER DELETE",
    TRUNCATE: "TRUNCATE",
    DROP: "DROP TABLE",
    ALTER: "ALTER TABLE",
  },
};

const quoteIdent = (dialect: GrantDialect, name: string): string =>
  dialect === "mysql" ? `\`${name.replace(/`/g, "``")}\`` : `"${name.replace(/"/g, '""')}"`;

/** A table name as written in a statement, schema-qualified when observed so. */
function tableRef(dialect: GrantDialect, table: string, database: string | undefined): string {
  const parts = table.includes(".") ? table.split(".") : database === undefined ? [table] : [database, table];
  return parts.map((p) => quoteIdent(dialect, p)).join(".");
}

export interface GrantSuggestion {
  credential: string;
  dialect: GrantDialect;
  role: string;
  statements: string[];
  /** Observed operations the dialect cannot grant (PostgreSQL DROP/ALTER: owner only), to review. */
  notGrantable: string[];
  /** Rare uses left out of the grants, for review. */
  review: string[];
  /** Table operations only the databases' audit logs recorded: the agent's trace leaves them out. */
  seenOnlyByDatabase: string[];
}

/**
 * GRANT statements for a role holding exactly the table operations the agent performed
 * with a credential in the window (regular uses; rare ones are listed for review).
 */
export function suggestGrants(
  observed: Observed,
  credential: string,
  dialect: GrantDialect,
  options: { role?: string; database?: string } = {},
): GrantSuggestion {
  const role = options.role ?? `${observed.agentId}_${credential}`.replace(/[^A-Za-z0-9_]/g, "_").toLowerCase();
  const pairs = observed.credentialTableOperations[credential] ?? [];
  const byTable = new Map<string, Set<string>>();
  const notGrantable: string[] = [];
  for (const p of pairs.filter((x) => !x.rare)) {
    const [table, op] = splitPair(p.value);
    const privilege = PRIVILEGES[dialect][op];
    if (privilege === undefined) {
      notGrantable.push(p.value);
      continue;
    }
    byTable.set(table, (byTable.get(table) ?? new Set()).add(privilege));
  }
  const roleRef = dialect === "mysql" ? `'${role}'` : quoteIdent(dialect, role);
  const statements = [
    dialect === "postgresql"
      ? `CREATE ROLE ${roleRef} NOLOGIN`
      : dialect === "mysql"
        ? `CREATE ROLE IF NOT EXISTS ${roleRef}`
        : `CREATE ROLE IF NOT EXISTS ${roleRef}`,
    ...[...byTable]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([table, privileges]) =>
          `GRANT ${[...privileges].sort().join(", ")} ON ${dialect === "postgresql" ? "TABLE " : ""}${tableRef(dialect, table, options.database)} TO ${roleRef}`,
      ),
  ];
  return {
    credential,
    dialect,
    role,
    statements,
    notGrantable,
    seenOnlyByDatabase: pairs.filter((x) => x.seenByDatabase === x.calls).map((x) => x.value),
    review: pairs
      .filter((x) => x.rare)
      .map((x) => `${x.value} (${x.calls} use(s), sessions ${x.sampleSessions.join(", ") || "-"})`),
  };
}

function splitPair(pair: string): [string, string] {
  const i = pair.lastIndexOf(":");
  return [pair.slice(0, i), pair.slice(i + 1).toUpperCase()];
}

/** Operations implied by a granted privilege (for the current-grants comparison). */
const IMPLIED: Record<string, string[]> = {
  ALL: ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "DROP", "ALTER"],
  SELECT: ["SELECT"],
  INSERT: ["INSERT"],
  UPDATE: ["UPDATE"],
  DELETE: ["DELETE"],
  TRUNCATE: ["TRUNCATE"],
  DROP: ["DROP"],
  ALTER: ["ALTER"],
};

/**
 * What the credential's current grants (GRANT statements the operator supplies) allow
 * beyond what the agent used: "table:OPERATION" pairs to revoke. Parsed with the same
 * SQL parser as fact extraction.
 */
export function beyondCurrentGrants(
  observed: Observed,
  credential: string,
  currentGrants: string,
  dialect: Exclude<GrantDialect, "clickhouse"> | "generic",
): string[] {
  const used = new Set((observed.credentialTableOperations[credential] ?? []).map((p) => p.value.toUpperCase()));
  const statements = JSON.parse(Parser.parseToJson(currentGrants, dialect)) as Array<Record<string, unknown>>;
  const allowed = new Set<string>();
  for (const s of statements) {
    const grant = s.Grant as
      | {
          privileges: { Actions?: unknown[]; All?: unknown };
          objects: { Tables?: Array<Array<{ Identifier: { value: string } }>> };
        }
      | undefined;
    if (grant === undefined) continue;
    const actions =
      grant.privileges.All !== undefined
        ? ["ALL"]
        : (grant.privileges.Actions ?? [])
            .map((a) => (typeof a === "string" ? a : (Object.keys(a as object)[0] ?? "")))
            .map((a) => a.toUpperCase());
    for (const name of grant.objects.Tables ?? []) {
      const table = name.map((part) => part.Identifier.value).join(".");
      for (const a of actions) for (const op of IMPLIED[a] ?? [a]) allowed.add(`${table}:${op}`.toUpperCase());
    }
  }
  return [...allowed].filter((a) => !used.has(a)).sort();
}

/** Every generated statement, parsed by the fact extractor's SQL parser (throws on the first it cannot read). */
export function parseGrants(statements: readonly string[], dialect: GrantDialect): void {
  for (const s of statements) Parser.parseToJson(s, dialect);
}
