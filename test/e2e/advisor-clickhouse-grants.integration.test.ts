import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suggestGrants } from "@vigil/advisor";
import type { Observed, ObservedItem } from "@vigil/advisor";
import { runStatementsInOwnEngine } from "../support/chdb-statements";
import type { StatementOutcome } from "../support/chdb-statements";

/**
 * The ClickHouse GRANTs the advisor writes, executed by the embedded engine and then
 * enforced by it: the observed operations succeed under the role, everything else is
 * refused.
 *
 * chDB has no SQL-writable access storage (CREATE ROLE fails there with "no writeable
 * access storage"; it only loads a users config), so the role goes in through that users
 * config: each generated GRANT, without its "TO role" (the config names the grantee), is
 * a <grants><query> that the engine parses and applies as a GRANT at start-up. The
 * session's own user then holds only that role.
 */

const item = (value: string, sessions: number): ObservedItem => ({
  value,
  calls: sessions * 3,
  sessions,
  firstSeenNs: "0",
  lastSeenNs: "0",
  sampleSessions: [`s-${value}`],
  rare: sessions < 2,
  seenByDatabase: 0,
});

/** billing-bot's use of its ClickHouse credential: reads, appends, updates and deletes; one rare DROP. */
const observed: Observed = {
  agentId: "billing-bot",
  environment: "staging",
  fromMs: 0,
  toMs: 1,
  timezone: "UTC",
  spans: 100,
  auditRecords: 0,
  sessions: 20,
  firstSeenNs: "0",
  items: { tool: [], table: [], table_operation: [], operation: [], host: [], credential: [], peer: [] },
  hours: Array.from({ length: 24 }, () => 0),
  hourItems: [],
  credentialTableOperations: {
    "cred-ch-billing": [
      item("invoices:SELECT", 20),
      item("payments:INSERT", 20),
      item("payments:UPDATE", 5),
      item("invoices:DELETE", 4),
      item("invoices:DROP", 1),
    ],
  },
};

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The suggestion's statements as a users config: the role with its GRANTs, held by `default`. */
function usersConfig(statements: string[], role: string): string {
  const roleRef = `"${role}"`;
  const [create, ...grants] = statements;
  expect(create).toBe(`CREATE ROLE IF NOT EXISTS ${roleRef}`);
  const queries = grants.map((g) => {
    expect(g.endsWith(` TO ${roleRef}`)).toBe(true);
    return `<query>${xmlEscape(g.slice(0, -` TO ${roleRef}`.length))}</query>`;
  });
  return [
    "<clickhouse>",
    "<profiles><default/></profiles><quotas><default/></quotas>",
    `<users><default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota>`,
    `<grants><query>GRANT ${xmlEscape(roleRef)}</query></grants></default></users>`,
    `<roles><${role}><grants>${queries.join("")}</grants></${role}></roles>`,
    "</clickhouse>",
  ].join("\n");
}

const denied = (o: StatementOutcome | undefined) => o !== undefined && !o.ok && /ACCESS_DENIED/.test(o.error ?? "");

describe("advisor: ClickHouse GRANTs executed and enforced by the embedded engine", () => {
  let dir: string;
  const suggestion = suggestGrants(observed, "cred-ch-billing", "clickhouse", { database: "shop" });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-grants-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes one GRANT per table for the regular uses and leaves the one-off DROP for review", () => {
    expect(suggestion.statements).toEqual([
      'CREATE ROLE IF NOT EXISTS "billing_bot_cred_ch_billing"',
      'GRANT ALTER DELETE, SELECT ON "shop"."invoices" TO "billing_bot_cred_ch_billing"',
      'GRANT ALTER UPDATE, INSERT ON "shop"."payments" TO "billing_bot_cred_ch_billing"',
    ]);
    expect(suggestion.review).toEqual(["invoices:DROP (3 use(s), sessions s-invoices:DROP)"]);
  });

  it("the engine applies them to the role and allows exactly the observed operations", async () => {
    // The tables, created with full rights in an engine of their own.
    const setup = await runStatementsInOwnEngine({
      dataDir: join(dir, "data"),
      statements: [
        "CREATE DATABASE shop",
        "CREATE TABLE shop.invoices (id UInt32, total Decimal(12, 2)) ENGINE = MergeTree ORDER BY id",
        "CREATE TABLE shop.payments (id UInt32, invoice UInt32, status String) ENGINE = MergeTree ORDER BY id",
        "INSERT INTO shop.invoices VALUES (1, 10), (2, 20)",
        "INSERT INTO shop.payments VALUES (1, 1, 'new')",
      ],
    });
    expect(setup.filter((o) => !o.ok)).toEqual([]);

    await writeFile(join(dir, "users.xml"), usersConfig(suggestion.statements, suggestion.role));
    await writeFile(
      join(dir, "config.xml"),
      `<clickhouse><user_directories><users_xml><path>${join(dir, "users.xml")}</path></users_xml></user_directories></clickhouse>`,
    );
    const statements = [
      `SHOW GRANTS FOR ${suggestion.role}`,
      "SHOW GRANTS",
      // observed: allowed
      "SELECT count() FROM shop.invoices",
      "INSERT INTO shop.payments VALUES (2, 2, 'new')",
      "ALTER TABLE shop.payments UPDATE status = 'paid' WHERE id = 1 SETTINGS mutations_sync = 1",
      "ALTER TABLE shop.invoices DELETE WHERE id = 2 SETTINGS mutations_sync = 1",
      // not observed, or rare: refused
      "DROP TABLE shop.invoices",
      "INSERT INTO shop.invoices VALUES (3, 30)",
      "SELECT count() FROM shop.payments",
      "TRUNCATE TABLE shop.payments",
      "ALTER TABLE shop.payments DELETE WHERE 1",
      "ALTER TABLE shop.invoices ADD COLUMN note String",
      "CREATE TABLE shop.other (id UInt32) ENGINE = MergeTree ORDER BY id",
    ];
    const outcomes = await runStatementsInOwnEngine({
      dataDir: join(dir, "data"),
      connectionArgs: [`--config-file=${join(dir, "config.xml")}`],
      statements,
    });
    const by = new Map(outcomes.map((o) => [o.statement, o]));

    expect(
      by
        .get(statements[0] ?? "")
        ?.result?.trim()
        .split("\n"),
    ).toEqual([
      "GRANT SELECT, ALTER DELETE ON shop.invoices TO billing_bot_cred_ch_billing",
      "GRANT INSERT, ALTER UPDATE ON shop.payments TO billing_bot_cred_ch_billing",
    ]);
    expect(by.get("SHOW GRANTS")?.result?.trim()).toBe("GRANT billing_bot_cred_ch_billing TO default");
    for (const allowed of statements.slice(2, 6)) expect(by.get(allowed), allowed).toMatchObject({ ok: true });
    for (const refused of statements.slice(6)) expect(denied(by.get(refused)), refused).toBe(true);

    // What the allowed statements did is really there, and nothing the refused ones tried.
    const check = await runStatementsInOwnEngine({
      dataDir: join(dir, "data"),
      statements: [
        "SELECT groupArray(id) FROM (SELECT id FROM shop.invoices ORDER BY id)",
        "SELECT groupArray((id, status)) FROM (SELECT id, status FROM shop.payments ORDER BY id)",
        "EXISTS TABLE shop.other",
      ],
    });
    expect(check.map((o) => o.result?.trim())).toEqual(["[1]", "[(1,'paid'),(2,'new')]", "0"]);
  });
});
