/** What a SQL statement text touches, as the facts and detectors see it. */
export interface SqlTables {
  /** Statement kinds in order of appearance: SELECT, INSERT, UPDATE, DELETE, DROP, TRUNCATE, ALTER, CREATE, MERGE, ... */
  kinds: string[];
  /** Every table the text touches (read or written), normalized, without duplicates. */
  tables: string[];
  /** The subset of `tables` that is written, dropped, truncated or altered. */
  written: string[];
  /** Why the text is destructive, or "" (DROP, TRUNCATE, ALTER, DELETE, UPDATE without WHERE). */
  destructive: string;
  /** True when the parser could not read the text and a conservative tokenizer was used. */
  approximate: boolean;
}

/** The SQL dialects the parser is asked for, by OTel `db.system.name`. */
export type SqlDialect = "postgresql" | "mysql" | "sqlite" | "clickhouse" | "mssql" | "generic";

const DIALECT_BY_SYSTEM: Record<string, SqlDialect> = {
  postgresql: "postgresql",
  cockroachdb: "postgresql",
  mysql: "mysql",
  mariadb: "mysql",
  sqlite: "sqlite",
  clickhouse: "clickhouse",
  "microsoft.sql_server": "mssql",
  mssql: "mssql",
};

/** The parser dialect for a `db.system.name` value; unknown systems get the generic dialect. */
export function dialectFor(dbSystem: string): SqlDialect {
  return DIALECT_BY_SYSTEM[dbSystem.toLowerCase()] ?? "generic";
}

/** Statement kinds that change or destroy data or schema. */
export const WRITE_KINDS: ReadonlySet<string> = new Set([
  "INSERT",
  "UPDATE",
  "DELETE",
  "DROP",
  "TRUNCATE",
  "ALTER",
  "CREATE",
  "MERGE",
  "REPLACE",
  "RENAME",
  "GRANT",
  "REVOKE",
]);
