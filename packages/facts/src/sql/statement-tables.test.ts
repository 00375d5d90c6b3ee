import { beforeAll, describe, expect, it } from "vitest";
import { approximateSqlTables } from "./approximate";
import { SQL_CORPUS } from "./corpus";
import { initSqlParser, sqlTables } from "./statement-tables";

beforeAll(async () => {
  await initSqlParser();
});

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe("SQL table extraction corpus", () => {
  it("has at least 100 statements across PostgreSQL, MySQL, SQLite and ClickHouse", () => {
    expect(SQL_CORPUS.length).toBeGreaterThanOrEqual(100);
    expect(new Set(SQL_CORPUS.map((c) => c.dialect))).toEqual(new Set(["postgresql", "mysql", "sqlite", "clickhouse"]));
  });

  it.each(SQL_CORPUS.map((c, i) => [i, c.dialect, c.sql, c] as const))("#%i %s: %s", (_i, dialect, sql, c) => {
    const got = sqlTables(sql, dialect);
    expect(sorted(got.tables), "tables").toEqual(sorted(c.tables));
    expect(sorted(got.written), "written").toEqual(sorted(c.written ?? []));
    expect(got.kinds, "kinds").toEqual(c.kinds);
    expect(got.destructive, "destructive").toBe(c.destructive ?? "");
  });

  it("reads most of the corpus with the parser, not the tokenizer", () => {
    const approximate = SQL_CORPUS.filter((c) => sqlTables(c.sql, c.dialect).approximate);
    // Printed for the record; the figure goes in the changelog.
    console.log(
      `SQL corpus: ${approximate.length} of ${SQL_CORPUS.length} statements read by the approximate tokenizer`,
    );
    expect(approximate.length).toBeLessThan(SQL_CORPUS.length / 5);
  });
});

describe("approximate tokenizer", () => {
  it("never misses a DROP or a mass DELETE in text the parser cannot read", () => {
    const r = approximateSqlTables("DROP TABLE {{ schema }}.users; DELETE FROM orders");
    expect(r.approximate).toBe(true);
    expect(r.kinds).toEqual(["DROP", "DELETE"]);
    expect(r.destructive).toBe("DROP");
    expect(r.written).toContain("orders");
  });

  it("ignores keywords inside comments and string literals", () => {
    const r = approximateSqlTables("SELECT 'DROP TABLE x' FROM notes -- DELETE FROM users\n/* TRUNCATE y */");
    expect(r.kinds).toEqual(["SELECT"]);
    expect(r.tables).toEqual(["notes"]);
    expect(r.destructive).toBe("");
  });
});

it("falls back to the tokenizer and marks the result approximate when the parser fails", () => {
  const r = sqlTables("SELECT * FROM users WHERE id = {{id}} AND", "postgresql");
  expect(r.approximate).toBe(true);
  expect(r.tables).toEqual(["users"]);
});
