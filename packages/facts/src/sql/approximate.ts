import type { SqlTables } from "./model";

// Identifier: bare, "double", `back`, or [bracket] quoted, optionally schema-qualified.
const IDENT = String.raw`(?:"(?:[^"]|"")+"|\x60[^\x60]+\x60|\[[^\]]+\]|[A-Za-z_][\w$]*)`;
const NAME = String.raw`${IDENT}(?:\s*\.\s*${IDENT}){0,2}`;

// Keyword → whether the identifier after it is written.
const PATTERNS: Array<{ re: RegExp; write: boolean }> = [
  { re: new RegExp(String.raw`\b(?:FROM|JOIN|USING)\s+(?:ONLY\s+)?(${NAME})`, "gi"), write: false },
  { re: new RegExp(String.raw`\bINSERT\s+(?:OR\s+\w+\s+)?(?:IGNORE\s+)?INTO\s+(${NAME})`, "gi"), write: true },
  { re: new RegExp(String.raw`\bREPLACE\s+INTO\s+(${NAME})`, "gi"), write: true },
  // Not ClickHouse's ALTER TABLE t UPDATE col = ...: there UPDATE is followed by a column.
  { re: new RegExp(String.raw`(?<!\bALTER\s+TABLE\s+\S+\s+)\bUPDATE\s+(?:ONLY\s+)?(${NAME})`, "gi"), write: true },
  { re: new RegExp(String.raw`\bDELETE\s+FROM\s+(?:ONLY\s+)?(${NAME})`, "gi"), write: true },
  {
    re: new RegExp(
      String.raw`\b(?:DROP|TRUNCATE|ALTER|CREATE)\s+(?:TEMPORARY\s+|TEMP\s+)?TABLE\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(${NAME})`,
      "gi",
    ),
    write: true,
  },
  { re: new RegExp(String.raw`\bTRUNCATE\s+(?!TABLE\b)(${NAME})`, "gi"), write: true },
];

const KIND =
  /^\s*(?:\(\s*)*(WITH|SELECT|INSERT|UPDATE|DELETE|DROP|TRUNCATE|ALTER|CREATE|MERGE|REPLACE|RENAME|GRANT|REVOKE|OPTIMIZE|SHOW|DESCRIBE|EXPLAIN|SET|USE|BEGIN|COMMIT|ROLLBACK|CALL|EXEC)\b/i;
const NOT_TABLES = new Set(["select", "lateral", "unnest", "values", "dual", "where", "set"]);

/**
 * A conservative reading of SQL the parser rejected (vendor syntax, templates, cut-off
 * text): statement kinds from each statement's first keyword, tables from the names that
 * follow FROM, JOIN, INTO, UPDATE, TABLE and friends. The result is marked approximate.
 * It may list a table too many; it should not miss a DROP.
 */
export function approximateSqlTables(text: string): SqlTables {
  const clean = stripCommentsAndStrings(text);
  const kinds: string[] = [];
  const reads: string[] = [];
  const writes: string[] = [];
  let destructive = "";
  for (const statement of clean.split(";")) {
    const m = KIND.exec(statement);
    if (m?.[1] === undefined) continue;
    let kind = m[1].toUpperCase();
    if (kind === "WITH") kind = /\b(INSERT|UPDATE|DELETE)\b/i.exec(statement)?.[1]?.toUpperCase() ?? "SELECT";
    kinds.push(kind);
    // ClickHouse mutations: ALTER TABLE t DELETE/UPDATE.
    const mutation = /\bALTER\s+TABLE\s+\S+\s+(DELETE|UPDATE)\b/i.exec(statement)?.[1]?.toUpperCase();
    if (destructive === "") {
      if (kind === "DROP" || kind === "TRUNCATE") destructive = kind;
      else if (kind === "ALTER") destructive = mutation === undefined ? "ALTER TABLE" : `ALTER TABLE ${mutation}`;
      else if (kind === "DELETE") destructive = /\bWHERE\b/i.test(statement) ? "DELETE" : "DELETE without WHERE";
      else if (kind === "UPDATE" && !/\bWHERE\b/i.test(statement)) destructive = "UPDATE without WHERE";
    }
    for (const { re, write } of PATTERNS) {
      re.lastIndex = 0;
      for (let hit = re.exec(statement); hit !== null; hit = re.exec(statement)) {
        const name = normalizeName(hit[1] ?? "");
        if (name === "" || NOT_TABLES.has(name)) continue;
        (write ? writes : reads).push(name);
      }
    }
  }
  const written = [...new Set(writes)];
  return {
    kinds: [...new Set(kinds)],
    tables: [...new Set([...written, ...reads])],
    written,
    destructive,
    approximate: true,
  };
}

function normalizeName(raw: string): string {
  const parts = raw.split(/\s*\.\s*(?=(?:[^"]*"[^"]*")*[^"]*$)/);
  return parts
    .map((p) => {
      const q = /^(?:"((?:[^"]|"")+)"|\x60([^\x60]+)\x60|\[([^\]]+)\])$/.exec(p);
      if (q) return (q[1] ?? q[2] ?? q[3] ?? "").replace(/""/g, '"');
      return p.toLowerCase();
    })
    .join(".");
}

/** Blanks out comments and string literals so keywords inside them are not read. */
function stripCommentsAndStrings(text: string): string {
  return text
    .replace(/--[^\n]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "''")
    .replace(/\$\$[\s\S]*?\$\$/g, "''");
}
