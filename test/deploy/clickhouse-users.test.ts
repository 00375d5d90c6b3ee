import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  READABLE_TABLES,
  SERVICE_USERS,
  applyRetention,
  openStoreClient,
  renderUsersSql,
  runMigrations,
} from "@vigil/store";
import type { ServiceRole } from "@vigil/store";
import { TestClickHouse } from "../support/clickhouse-server";
import type { Credentials } from "../support/clickhouse-server";

/**
 * The service users on a real ClickHouse server, loaded from the users file rendered
 * from SERVICE_USERS, against deploy/clickhouse/users.sql (rendered from the same list
 * for real servers: the test server's clickhouse-local has no writable user storage to
 * run it into). Each user must hold exactly its declared grants, and is attacked with
 * what its service must never do, next to what it must keep doing.
 */
const fromFile = new TestClickHouse();

/** The statements of users.sql, comments removed, placeholders filled with a dummy hash. */
function usersSqlStatements(): string[] {
  return readFileSync(new URL("../../deploy/clickhouse/users.sql", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .replace(/\{[a-z_]+_password_sha256\}/g, "0".repeat(64))
    .split(";")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

beforeAll(async () => {
  await fromFile.start();
  const migrate = openStoreClient({ mode: "server", url: fromFile.url, ...fromFile.credentials("migrate") });
  await runMigrations(migrate);
  await migrate.close();
});

afterAll(async () => {
  await fromFile.stop();
});

/** `GRANT a, b ON x TO u` lines as (privilege, object) pairs. */
function pairs(grants: readonly string[]): string[] {
  return grants.flatMap((line) => {
    const m = /^GRANT (.+?) ON (\S+)(?: TO \S+)?;?$/.exec(line.trim());
    if (m === null) throw new Error(`not a grant: ${line}`);
    const [, privileges, on] = m as unknown as [string, string, string];
    // Column lists hold commas too: split on the commas outside parentheses; columns sorted.
    return privileges
      .split(/,\s*(?![^()]*\))/)
      .map((p) => p.trim().replace(/\(([^)]*)\)/, (_, cols: string) => `(${cols.split(/,\s*/).sort().join(", ")})`))
      .map((p) => `${p} ON ${on}`);
  });
}

async function showGrants(server: TestClickHouse, user: string): Promise<string[]> {
  const text = await server.query(`SHOW GRANTS FOR ${user} FORMAT TSVRaw`);
  return text.split("\n").filter((l) => l !== "");
}

describe("one source for the service users", () => {
  it("deploy/clickhouse/users.sql is what SERVICE_USERS renders (run `npm run render:users` after a change)", () => {
    const file = readFileSync(new URL("../../deploy/clickhouse/users.sql", import.meta.url), "utf8");
    expect(file).toBe(renderUsersSql());
  });

  it("every statement of users.sql parses in ClickHouse", async () => {
    const statements = usersSqlStatements();
    expect(statements.length).toBeGreaterThanOrEqual(20);
    for (const sql of statements) {
      const formatted = await fromFile.query(
        `SELECT formatQuerySingleLine({sql:String}) FORMAT TSVRaw`.replace(
          "{sql:String}",
          `'${sql.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`,
        ),
      );
      expect(formatted.trim().length, sql).toBeGreaterThan(0);
    }
  });

  it.each(SERVICE_USERS.map((u) => [u.name, u] as const))(
    "%s holds exactly its declared grants, on the server and in users.sql alike",
    async (name, user) => {
      const held = pairs(await showGrants(fromFile, name));
      const inSql = pairs(usersSqlStatements().filter((s) => s.startsWith("GRANT ") && s.endsWith(` TO ${name}`)));
      const declared = new Set(pairs(user.grants.map((g) => `GRANT ${g.replaceAll("{db}", "vigil")}`)));
      expect(new Set(inSql)).toEqual(declared);
      // The server's own reading of the list: an extra grant anywhere fails here.
      const extra = held.filter((p) => !declared.has(p) && !impliedBy(p, declared));
      expect(extra, `${name} holds more than its list`).toEqual([]);
      const missing = [...declared].filter((p) => !held.includes(p) && !held.some((h) => impliedBy(h, new Set([p]))));
      expect(missing, `${name} lacks part of its list`).toEqual([]);
    },
  );
});

/** SHOW GRANTS spells some privileges by their canonical names. */
function impliedBy(pair: string, declared: Set<string>): boolean {
  const aliases: Record<string, string> = { "ALTER MODIFY TTL": "ALTER TTL" };
  const [privilege, on] = pair.split(" ON ") as [string, string];
  const alias = aliases[privilege];
  return alias !== undefined && declared.has(`${alias} ON ${on}`);
}

/** Runs a statement as a user; resolves with "ok" or the engine's error code name. */
async function attempt(as: Credentials, sql: string): Promise<string> {
  return fromFile.query(sql, as).then(
    () => "ok",
    (err: unknown) => /\(([A-Z_]+)\)/.exec(String(err))?.[1] ?? String(err).slice(0, 120),
  );
}

describe("each service can do its work and nothing else", () => {
  const as = (role: ServiceRole) => fromFile.credentials(role);
  const spanRow =
    "INSERT INTO vigil.spans (agent_id, trace_id, span_id, start_time, end_time, name, request_digest) " +
    "VALUES ('grants-bot', 'aa', 'bb', now64(9), now64(9), 'step', 'digest-1')";

  it("ingest stores spans (the views run as their definer) and reads only digests, never the span data", async () => {
    expect(await attempt(as("ingest"), spanRow)).toBe("ok");
    expect(
      (await fromFile.query("SELECT count() FROM vigil.agent_activity WHERE agent_id = 'grants-bot'")).trim(),
    ).not.toBe("0");
    expect(await attempt(as("ingest"), "SELECT request_digest FROM vigil.spans")).toBe("ok");
    for (const sql of [
      "SELECT name, attributes FROM vigil.spans",
      "SELECT * FROM vigil.alerts",
      "DROP TABLE vigil.spans",
      "TRUNCATE TABLE vigil.ledger",
      "ALTER TABLE vigil.spans DELETE WHERE 1",
      "INSERT INTO vigil.alerts SELECT * FROM vigil.alerts WHERE 0",
      "INSERT INTO vigil.agent_activity SELECT * FROM vigil.agent_activity WHERE 0",
      // Checkpoints are the worker's: ingest (agent-facing) can neither sign nor store one.
      "INSERT INTO vigil.ledger_checkpoints (chain_id, tree_size, root_hash, note) VALUES ('main', 1, 'x', 'forged')",
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    ])
      expect(await attempt(as("ingest"), sql), sql).toBe("ACCESS_DENIED");
  });

  it("the API reads and records decisions, and cannot write spans, the ledger, or reach files and URLs", async () => {
    expect(await attempt(as("api"), "SELECT count() FROM vigil.spans")).toBe("ok");
    // People's answers are ledgered on the API's own chain, in the decisions' ledger table only.
    const decisionEntry =
      "INSERT INTO vigil.decision_ledger (chain_id, seq, batch_id, row_count, batch_root, prev_hash, entry_hash) " +
      "VALUES ('decisions@api-grants', 1, generateUUIDv4(), 1, 'r', 'p', 'e')";
    expect(await attempt(as("api"), decisionEntry)).toBe("ok");
    expect(await attempt(as("api"), decisionEntry.replace("vigil.decision_ledger", "vigil.ledger"))).toBe(
      "ACCESS_DENIED",
    );
    for (const sql of [
      spanRow,
      "INSERT INTO vigil.ledger SELECT * FROM vigil.ledger WHERE 0",
      "DROP TABLE vigil.silences",
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
      "SELECT * FROM system.users",
    ])
      expect(await attempt(as("api"), sql), sql).toMatch(/ACCESS_DENIED|UNKNOWN_TABLE/);
  });

  it("the worker reads everything and cannot write spans or the ledger", async () => {
    expect(await attempt(as("worker"), "SELECT name FROM vigil.spans")).toBe("ok");
    for (const sql of [
      spanRow,
      "INSERT INTO vigil.ledger SELECT * FROM vigil.ledger WHERE 0",
      "DROP TABLE vigil.alerts",
    ])
      expect(await attempt(as("worker"), sql), sql).toBe("ACCESS_DENIED");
  });

  it("the SQL endpoint's user reads the readable tables only: no tokens, no system tables, no files or URLs, no writes", async () => {
    // Straight to the engine, without the endpoint's own check: what the engine refuses by itself.
    expect(await attempt(as("sql"), "SELECT count() FROM vigil.spans SETTINGS max_execution_time = 5")).toBe("ok");
    expect(await attempt(as("sql"), "SELECT sum(number) FROM numbers(10)")).toBe("ok");
    // system.tables lists only what the user may read.
    const visible = await fromFile.query(
      "SELECT name FROM system.tables WHERE database = 'vigil' FORMAT TSVRaw",
      as("sql"),
    );
    expect(new Set(visible.split("\n").filter((x) => x !== ""))).toEqual(READABLE_TABLES);
    for (const sql of [
      "SELECT * FROM vigil.agent_tokens",
      "SELECT * FROM vigil.silences",
      "SELECT * FROM system.users",
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
      "SELECT * FROM remote('127.0.0.1', 'vigil', 'agent_tokens')",
      "INSERT INTO vigil.alerts SELECT * FROM vigil.alerts WHERE 0",
      "CREATE TABLE vigil.x (a UInt8) ENGINE = Memory",
    ])
      expect(await attempt(as("sql"), sql), sql).toMatch(/ACCESS_DENIED|READONLY|UNKNOWN_TABLE/);
  });

  it("migrate applies a retention config, removes it again, and re-runs without errors", async () => {
    const migrate = openStoreClient({ mode: "server", url: fromFile.url, ...fromFile.credentials("migrate") });
    try {
      await applyRetention(migrate, { spans: 30, delivery_attempts: 7 });
      expect(
        await fromFile.query(
          "SELECT engine_full FROM system.tables WHERE database = 'vigil' AND name = 'spans' FORMAT TSVRaw",
        ),
      ).toMatch(/TTL toDateTime\(received_at\) \+ toIntervalDay\(30\)/);
      await applyRetention(migrate, {});
      await applyRetention(migrate, {});
      expect(
        await fromFile.query(
          "SELECT engine_full FROM system.tables WHERE database = 'vigil' AND name = 'spans' FORMAT TSVRaw",
        ),
      ).not.toMatch(/\bTTL\b/);
      // And migrations re-run from where they are.
      expect(await runMigrations(migrate)).toEqual([]);
    } finally {
      await migrate.close();
    }
  });

  it("migrate changes the schema but cannot drop it, and `default` reaches no data", async () => {
    expect(await attempt(as("migrate"), "DROP TABLE vigil.spans")).toBe("ACCESS_DENIED");
    expect(await attempt({ username: "default", password: "" }, "SELECT count() FROM vigil.spans")).toBe(
      "ACCESS_DENIED",
    );
  });
});
