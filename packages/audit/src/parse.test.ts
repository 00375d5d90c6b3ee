import { describe, expect, it } from "vitest";
import { InputError } from "@vigil/common";
import { CAPTURED } from "../../../test/corpora/db-audit-lines";
import { csvRecordComplete, parseAuditRecord } from "./parse";

describe("pgAudit entries in PostgreSQL's jsonlog", () => {
  it("reads user, database, client, command, relation and a statement whose commas and quotes pgAudit quoted", () => {
    const r = parseAuditRecord("pgaudit-jsonlog", CAPTURED.pgJsonSelectWithCommas);
    expect(r).toEqual({
      system: "postgresql",
      timeUnixNano: (BigInt(Date.parse("2026-12-02T18:44:41.904Z")) * 1_000_000n).toString(),
      user: "agent_db",
      database: "postgres",
      clientAddress: "127.0.0.1",
      connection: "6b106719.3276",
      command: "SELECT",
      objectName: "public.items",
      statement: `select id, name from items where name = 'a,"b"\nc'`,
      succeeded: true,
      error: "",
    });
  });

  it("keeps the whole text of a multi-statement query, with the entry's own command and relation", () => {
    const r = parseAuditRecord("pgaudit-jsonlog", CAPTURED.pgJsonInsert);
    expect([r?.command, r?.objectName]).toEqual(["INSERT", "public.orders"]);
    expect(r?.statement).toBe("select * from orders; insert into orders values (1); drop table orders;");
  });

  it("reads a statement the database refused from PostgreSQL's ERROR line (pgAudit logs only what ran)", () => {
    expect(parseAuditRecord("pgaudit-jsonlog", CAPTURED.pgJsonRefusedDelete)).toEqual({
      system: "postgresql",
      timeUnixNano: (BigInt(Date.parse("2026-12-03T06:31:09.780Z")) * 1_000_000n).toString(),
      user: "agent_ro",
      database: "postgres",
      clientAddress: "127.0.0.1",
      connection: "6b110cad.5824",
      command: "DELETE",
      objectName: "",
      statement: "DELETE FROM orders WHERE id > 0",
      succeeded: false,
      error: "42501 permission denied for table orders",
    });
    // The whole query text of a refused multi-statement query, with the refused command's tag.
    expect(parseAuditRecord("pgaudit-jsonlog", CAPTURED.pgJsonError)).toMatchObject({
      command: "DROP TABLE",
      statement: "select * from orders; insert into orders values (1); drop table orders;",
      succeeded: false,
      error: "42501 must be owner of table orders",
    });
  });

  it("ignores PostgreSQL's other messages, and says what is wrong with a line that is not jsonlog", () => {
    const checkpoint = CAPTURED.pgJsonRefusedDelete.replace(
      /"error_severity":"ERROR".*"statement":"[^"]*",/,
      '"error_severity":"LOG","message":"checkpoint complete",',
    );
    expect(parseAuditRecord("pgaudit-jsonlog", checkpoint)).toBeUndefined();
    const noStatement = CAPTURED.pgJsonRefusedDelete.replace(/"statement":"[^"]*",/, "");
    expect(parseAuditRecord("pgaudit-jsonlog", noStatement)).toBeUndefined();
    expect(() => parseAuditRecord("pgaudit-jsonlog", "{not json")).toThrow(InputError);
    expect(() => parseAuditRecord("pgaudit-jsonlog", "[1]")).toThrow(/not a JSON object/);
    const local = CAPTURED.pgJsonInsert.replace("18:30:59.909 UTC", "18:30:59.909 CET");
    expect(() => parseAuditRecord("pgaudit-jsonlog", local)).toThrow(/log_timezone = 'UTC'/);
    const noUser = CAPTURED.pgJsonInsert.replace('"user":"agent_db",', "");
    expect(() => parseAuditRecord("pgaudit-jsonlog", noUser)).toThrow(/without the database user/);
  });
});

describe("pgAudit entries in PostgreSQL's csvlog", () => {
  it("reads a record whose statement spans two lines, like the jsonlog one", () => {
    const record = CAPTURED.pgCsvMultiline;
    expect(record.includes("\n")).toBe(true);
    expect(csvRecordComplete(record)).toBe(true);
    expect(csvRecordComplete(record.split("\n")[0] as string)).toBe(false);
    expect(parseAuditRecord("pgaudit-csvlog", record)).toEqual(
      parseAuditRecord("pgaudit-jsonlog", CAPTURED.pgJsonSelectWithCommas),
    );
  });

  it("reads a refused statement's ERROR record like the jsonlog one", () => {
    expect(parseAuditRecord("pgaudit-csvlog", CAPTURED.pgCsvRefusedDelete)).toEqual(
      parseAuditRecord("pgaudit-jsonlog", CAPTURED.pgJsonRefusedDelete),
    );
  });
});

describe("MariaDB's server_audit file", () => {
  it("reads a QUERY event, undoing the plugin's escapes, with the time in the server's zone", () => {
    const r = parseAuditRecord("mariadb-server-audit", CAPTURED.mariadbQueryEscaped, 60);
    expect(r).toMatchObject({
      system: "mariadb",
      user: "agent_db",
      database: "shop",
      connection: "6",
      command: "UPDATE",
      statement: "update orders set id=3 where id = 'it''s\nx'",
      succeeded: false, // error 1292
    });
    expect(r?.timeUnixNano).toBe((BigInt(Date.parse("2026-12-02T17:32:47Z")) * 1_000_000n).toString());
    expect(parseAuditRecord("mariadb-server-audit", CAPTURED.mariadbQuery)?.succeeded).toBe(true);
  });

  it("ignores TABLE and CONNECT events, and names what is wrong with a broken line", () => {
    expect(parseAuditRecord("mariadb-server-audit", CAPTURED.mariadbTableEvent)).toBeUndefined();
    expect(() => parseAuditRecord("mariadb-server-audit", "20261202 18:32:47,vm,agent_db")).toThrow(/fewer than 10/);
    expect(() =>
      parseAuditRecord("mariadb-server-audit", "20261202 18:32:47,vm,agent_db,localhost,6,9,QUERY,shop,select 1,0"),
    ).toThrow(/not quoted/);
    expect(() =>
      parseAuditRecord("mariadb-server-audit", "2026-12-02 18:32,vm,agent_db,localhost,6,9,QUERY,shop,'select 1',0"),
    ).toThrow(/YYYYMMDD/);
  });
});
