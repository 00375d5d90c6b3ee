import { Parser } from "@guanmingchiu/sqlparser-ts";
import type { SqlDialect, SqlTables } from "./model";

type Node = Record<string, unknown>;

interface Collected {
  kinds: string[];
  reads: string[];
  writes: string[];
  destructive: string;
  cteNames: Set<string>;
}

const DML = new Set(["Insert", "Update", "Delete", "Merge"]);
/** Names that look like tables in a FROM clause but are not. */
const NOT_TABLES = new Set(["dual"]);

/**
 * Tables and statement kinds from a parsed SQL text (datafusion-sqlparser-rs, through
 * its WASM build). Walks every statement: joins, subqueries, CTEs (whose names are not
 * tables), set operations, `INSERT ... SELECT`, `UPDATE ... FROM`, `DELETE ... USING`,
 * multi-table DELETE with aliases, data-modifying CTEs, MERGE, DDL. Table functions
 * (`generate_series(...)`) and ClickHouse ARRAY JOIN columns are not tables.
 *
 * @throws when the parser cannot read the text (the caller falls back to the tokenizer).
 */
export function parseSqlTables(text: string, dialect: SqlDialect): SqlTables {
  // The JSON form plus JSON.parse is faster than the library's object conversion.
  const statements = JSON.parse(Parser.parseToJson(text, dialect)) as unknown[];
  const c: Collected = { kinds: [], reads: [], writes: [], destructive: "", cteNames: new Set() };
  for (const statement of statements) visitStatement(statement as Node, c);
  const written = unique(c.writes);
  const tables = unique([...c.writes, ...c.reads]).filter((t) => !c.cteNames.has(t) || written.includes(t));
  return { kinds: unique(c.kinds), tables, written, destructive: c.destructive, approximate: false };
}

/** A statement is `{ Kind: body }`. */
function visitStatement(node: Node, c: Collected): void {
  const [kind, body] = Object.entries(node)[0] ?? [];
  if (kind === undefined) return;
  if (!isNode(body)) {
    c.kinds.push(kind.toUpperCase());
    return;
  }
  switch (kind) {
    case "Query":
      visitQuery(body, c, true);
      return;
    case "Insert": {
      const keyword = (((body.insert_token as Node | undefined)?.token as Node | undefined)?.Word as Node | undefined)
        ?.keyword;
      c.kinds.push(body.replace_into === true || keyword === "REPLACE" ? "REPLACE" : "INSERT");
      collectName(body.table, c.writes);
      walkReads(body.source, c);
      return;
    }
    case "Update": {
      c.kinds.push("UPDATE");
      const target = body.table as Node | undefined;
      collectRelation(target?.relation, c.writes);
      walkReads(target?.joins, c);
      walkReads(body.from, c);
      walkReads(body.selection, c);
      walkReads(body.assignments, c);
      if (body.selection === null || body.selection === undefined) markDestructive(c, "UPDATE without WHERE");
      return;
    }
    case "Delete":
      visitDelete(body, c);
      return;
    case "Drop":
      c.kinds.push("DROP");
      if (["Table", "View", "MaterializedView"].includes(String(body.object_type))) {
        for (const n of asArray(body.names)) collectName(n, c.writes);
      } else if (["Database", "Schema"].includes(String(body.object_type))) {
        // Every table in it: "analytics.*".
        for (const n of asArray(body.names))
          collectName([...asArray(n), { Identifier: { value: "*", quote_style: '"' } }], c.writes);
      }
      markDestructive(c, `DROP ${String(body.object_type ?? "").toUpperCase()}`.trim());
      return;
    case "Truncate":
      c.kinds.push("TRUNCATE");
      for (const t of asArray(body.table_names)) collectName((t as Node).name, c.writes);
      markDestructive(c, "TRUNCATE");
      return;
    case "AlterTable":
      c.kinds.push("ALTER");
      collectName(body.name, c.writes);
      markDestructive(c, "ALTER TABLE");
      return;
    case "CreateTable":
    case "CreateView": {
      c.kinds.push("CREATE");
      collectName(body.name, c.writes);
      const like = body.like as Node | undefined | null;
      if (isNode(like)) collectName((isNode(like.Plain) ? like.Plain : like).name, c.reads);
      walkReads(body.query, c);
      return;
    }
    case "Grant":
    case "Revoke": {
      // A privilege change: on the tables (or every table of the databases) it names.
      c.kinds.push(kind.toUpperCase());
      const objects = body.objects as Node | null | undefined;
      for (const t of asArray(objects?.Tables)) collectName(t, c.writes);
      const inSchemas = [
        ...asArray((objects?.AllTablesInSchema as Node | undefined)?.schemas),
        ...asArray((objects?.AllSequencesInSchema as Node | undefined)?.schemas),
      ];
      for (const d of [...asArray(objects?.Schemas), ...asArray(objects?.Databases), ...inSchemas])
        collectName([...asArray(d), { Identifier: { value: "*", quote_style: '"' } }], c.writes);
      markDestructive(c, `${kind.toUpperCase()} (privilege change)`);
      return;
    }
    case "Merge":
      c.kinds.push("MERGE");
      collectRelation(body.table, c.writes);
      walkReads(body.source, c);
      walkReads(body.on, c);
      return;
    default:
      c.kinds.push(kind.toUpperCase());
      walkReads(body, c);
  }
}

function visitDelete(body: Node, c: Collected): void {
  c.kinds.push("DELETE");
  const from = body.from as Node | undefined;
  const fromList = asArray(from?.WithFromKeyword ?? from?.WithoutKeyword);
  // MySQL multi-table DELETE names its targets, often by alias: DELETE o FROM orders o JOIN ...
  const aliases = new Map<string, string>();
  const sources: string[] = [];
  for (const twj of fromList) {
    for (const rel of [(twj as Node).relation, ...asArray((twj as Node).joins).map((j) => (j as Node).relation)]) {
      const name = relationName(rel);
      if (name === undefined) continue;
      sources.push(name);
      const alias = (((rel as Node).Table as Node).alias as Node | null)?.name as Node | undefined;
      if (typeof alias?.value === "string") aliases.set(alias.value.toLowerCase(), name);
    }
  }
  const explicitTargets: string[] = [];
  for (const t of asArray(body.tables)) collectName(t, explicitTargets);
  if (explicitTargets.length > 0) {
    for (const t of explicitTargets) c.writes.push(aliases.get(t) ?? t);
    c.reads.push(...sources);
  } else {
    const first = fromList[0] as Node | undefined;
    collectRelation(first?.relation, c.writes);
    c.reads.push(...sources);
  }
  walkReads(body.using, c);
  walkReads(body.selection, c);
  markDestructive(c, body.selection === null || body.selection === undefined ? "DELETE without WHERE" : "DELETE");
}

/**
 * A query's CTEs, then its body. At the top level a query's kind is its body's
 * (WITH ... INSERT is an INSERT; SELECT and set operations are SELECT); below it, only
 * data-modifying bodies (PostgreSQL's `WITH moved AS (DELETE ...)`) add a kind.
 */
function visitQuery(query: Node, c: Collected, topLevel: boolean): void {
  const withClause = query.with as Node | null | undefined;
  for (const cte of asArray(withClause?.cte_tables)) {
    const name = (((cte as Node).alias as Node | undefined)?.name as Node | undefined)?.value;
    if (typeof name === "string") c.cteNames.add(name.toLowerCase());
    const inner = (cte as Node).query;
    if (isNode(inner)) visitQuery(inner, c, false);
  }
  const body = query.body as Node | undefined;
  const [bodyKind] = Object.keys(body ?? {});
  if (body !== undefined && bodyKind !== undefined && DML.has(bodyKind) && isNode(body[bodyKind])) {
    // SetExpr::Insert(Statement::Insert(..)) serializes as { Insert: { Insert: {...} } }.
    const statement = body[bodyKind] as Node;
    visitStatement(bodyKind in statement ? statement : { [bodyKind]: statement }, c);
  } else {
    if (topLevel) c.kinds.push("SELECT");
    walkReads(body, c);
  }
  walkReads(query.order_by, c);
}

/** Every table reference below `node` is a read. */
function walkReads(node: unknown, c: Collected): void {
  if (Array.isArray(node)) {
    for (const item of node) walkReads(item, c);
    return;
  }
  if (!isNode(node)) return;
  // ClickHouse ARRAY JOIN unnests a column, not a table.
  if (typeof node.join_operator === "string" && node.join_operator.includes("ArrayJoin")) return;
  for (const [key, value] of Object.entries(node)) {
    if (!isNode(value) && !Array.isArray(value)) continue;
    if (key === "Table" && isNode(value) && Array.isArray(value.name)) {
      const name = relationName({ Table: value }) ?? tableFunctionTarget(value);
      if (name !== undefined) c.reads.push(name);
      walkReads(value.args, c);
    } else if ((key === "subquery" || key === "Subquery" || key === "query") && isNode(value) && "body" in value) {
      visitQuery(value, c, false);
    } else {
      walkReads(value, c);
    }
  }
}

/** The table a FROM-clause relation names, or undefined for table functions and non-tables. */
function relationName(relation: unknown): string | undefined {
  if (!isNode(relation) || !isNode(relation.Table)) return undefined;
  const table = relation.Table;
  if (table.args !== null && table.args !== undefined) return undefined; // generate_series(...), s3(...)
  const parts: string[] = [];
  collectName(table.name, parts);
  const name = parts[0];
  if (name === undefined || NOT_TABLES.has(name)) return undefined;
  // sqlparser reads PostgreSQL's `FROM ONLY t` as table "ONLY" aliased t.
  const alias = (table.alias as Node | null | undefined)?.name as Node | undefined;
  if (name === "only" && typeof alias?.value === "string") return alias.value.toLowerCase();
  return name;
}

/**
 * The table a table function reads when it names one: ClickHouse's `remote('host', db,
 * table)` (and remoteSecure, cluster, clusterAllReplicas; or `'db.table'` as one
 * argument), `mysql('host', 'db', 'table', ...)`, `postgresql(...)`. A table on another
 * server is still a table the agent touched.
 */
const TABLE_FUNCTIONS: Record<string, number> = {
  remote: 1,
  remotesecure: 1,
  cluster: 1,
  clusterallreplicas: 1,
  mysql: 1,
  postgresql: 1,
};
function tableFunctionTarget(table: Node): string | undefined {
  const parts: string[] = [];
  collectName(table.name, parts);
  const fn = parts[0];
  const from = fn === undefined ? undefined : TABLE_FUNCTIONS[fn];
  if (from === undefined) return undefined;
  const args = asArray((table.args as Node | null | undefined)?.args).map((a) => {
    const expr = ((a as Node).Unnamed as Node | undefined)?.Expr as Node | undefined;
    if (isNode(expr?.Identifier) && typeof expr.Identifier.value === "string")
      return expr.Identifier.value.toLowerCase();
    const value = (isNode(expr?.Value) ? (expr.Value.value as Node | undefined) : undefined) ?? {};
    const text = value.SingleQuotedString ?? value.DoubleQuotedString;
    return typeof text === "string" ? text : undefined;
  });
  const db = args[from];
  const tbl = args[from + 1];
  if (db !== undefined && tbl !== undefined) return `${db}.${tbl}`;
  return db !== undefined && db.includes(".") ? db : undefined;
}

function collectRelation(relation: unknown, into: string[]): void {
  const name = relationName(relation);
  if (name !== undefined) into.push(name);
}

/** An ObjectName (array of parts, or `{ TableName: [...] }`) as "schema.table". */
function collectName(name: unknown, into: string[]): void {
  const parts = isNode(name) && Array.isArray(name.TableName) ? name.TableName : name;
  if (!Array.isArray(parts)) return;
  const text = parts
    .map((part: unknown) => {
      const ident = isNode(part) && isNode(part.Identifier) ? part.Identifier : part;
      if (!isNode(ident) || typeof ident.value !== "string") return "";
      // Unquoted identifiers fold to lower case (as PostgreSQL does); quoted ones keep theirs.
      return ident.quote_style === undefined || ident.quote_style === null ? ident.value.toLowerCase() : ident.value;
    })
    .filter((p) => p !== "")
    .join(".");
  if (text !== "") into.push(text);
}

function markDestructive(c: Collected, reason: string): void {
  if (c.destructive === "") c.destructive = reason;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
