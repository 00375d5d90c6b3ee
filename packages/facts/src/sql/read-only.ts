import { Parser } from "@guanmingchiu/sqlparser-ts";
import type { SqlDialect } from "./model";

export type ReadOnlyCheck = { ok: true; tables: string[] } | { ok: false; reason: string };

type Node = Record<string, unknown>;

/**
 * Functions that reach outside the store (files, network, other databases, programs).
 * ClickHouse has scalar forms of some (`file('/etc/passwd')`), so they are refused
 * wherever they appear, not only in FROM.
 */
const OUTSIDE_FUNCTIONS = new Set([
  "file",
  "url",
  "urlcluster",
  "s3",
  "s3cluster",
  "gcs",
  "azureblobstorage",
  "azureblobstoragecluster",
  "hdfs",
  "hdfscluster",
  "remote",
  "remotesecure",
  "cluster",
  "clusterallreplicas",
  "mysql",
  "postgresql",
  "mongodb",
  "redis",
  "sqlite",
  "jdbc",
  "odbc",
  "executable",
  "executablepool",
  "input",
  "iceberg",
  "deltalake",
  "hudi",
  "loop",
  "merge",
  "dictionary",
  "dictget",
  "filesystem",
  "view",
]);

/**
 * Decides whether user SQL may run on the query API: exactly one SELECT (WITH, UNION
 * and subqueries allowed), reading only the allowed tables, with no table functions
 * (file(), url(), s3(), remote() read outside the store) and no SETTINGS or FORMAT
 * clause (limits are the API's to set). SQL the parser cannot read is refused.
 */
export function checkReadOnlySelect(
  sql: string,
  allowedTables: ReadonlySet<string>,
  dialect: SqlDialect = "clickhouse",
): ReadOnlyCheck {
  let statements: unknown[];
  try {
    statements = JSON.parse(Parser.parseToJson(sql, dialect)) as unknown[];
  } catch (err) {
    return { ok: false, reason: `the SQL cannot be parsed: ${(err as Error).message}` };
  }
  if (statements.length !== 1)
    return { ok: false, reason: `exactly one statement is allowed, found ${statements.length}` };
  const statement = statements[0] as Node;
  const query = statement.Query as Node | undefined;
  if (query === undefined)
    return {
      ok: false,
      reason: `only SELECT queries are allowed, not ${Object.keys(statement)[0] ?? "this statement"}`,
    };
  const found = { tables: new Set<string>(), problems: [] as string[], cteNames: new Set<string>() };
  walk(query, found);
  for (const t of found.tables)
    if (!allowedTables.has(t) && !found.cteNames.has(t))
      found.problems.push(`table "${t}" is not readable through the API`);
  if (found.problems.length > 0) return { ok: false, reason: found.problems.join("; ") };
  return { ok: true, tables: [...found.tables].filter((t) => !found.cteNames.has(t)) };
}

function walk(node: unknown, found: { tables: Set<string>; problems: string[]; cteNames: Set<string> }): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, found);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const n = node as Node;
  // A Query node: nested DML, SETTINGS and FORMAT are refused.
  if ("body" in n && "with" in n) {
    const body = n.body as Node | undefined;
    const kind = Object.keys(body ?? {})[0];
    if (kind === "Insert" || kind === "Update" || kind === "Delete" || kind === "Merge")
      found.problems.push(`${kind.toUpperCase()} is not allowed`);
    if (n.settings !== null && n.settings !== undefined)
      found.problems.push("a SETTINGS clause is not allowed (the API sets the limits)");
    if (n.format_clause !== null && n.format_clause !== undefined)
      found.problems.push("a FORMAT clause is not allowed (the API answers JSON)");
    for (const cte of ((n.with as Node | null)?.cte_tables as Node[] | undefined) ?? []) {
      const name = ((cte.alias as Node | undefined)?.name as Node | undefined)?.value;
      if (typeof name === "string") found.cteNames.add(name.toLowerCase());
    }
  }
  for (const [key, value] of Object.entries(n)) {
    if (key === "Function" && typeof value === "object" && value !== null) {
      const name = ((((value as Node).name as Node[] | undefined) ?? []).at(-1)?.Identifier as Node | undefined)?.value;
      if (typeof name === "string" && OUTSIDE_FUNCTIONS.has(name.toLowerCase()))
        found.problems.push(`function ${name}() is not allowed`);
    }
    if (key === "Table" && typeof value === "object" && value !== null) {
      const table = value as Node;
      const name = ((table.name as Node[] | undefined) ?? [])
        .map((p) => String(((p.Identifier as Node | undefined) ?? p).value ?? "").toLowerCase())
        .join(".");
      if (table.args !== null && table.args !== undefined)
        found.problems.push(`table function ${name}() is not allowed`);
      else found.tables.add(name);
    }
    if (typeof value === "object" && value !== null) walk(value, found);
  }
}
