import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClickHouse } from "../support/clickhouse-server";
import { apiCall, sendRichSpan, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * A reader key in an attacker's hands, against the real all-in-one's SQL endpoint. Each
 * statement below tries to read a file, fetch a URL, read a system or non-readable
 * Vigil table, change the limits, or run a second statement, in the shapes that make two
 * SQL readers disagree: quotes and escapes, every kind of comment, heredocs, unicode,
 * case, nesting and scope. None may succeed, none may leak the canary file's contents or
 * the signing key, and the SSRF receiver must see no request. The honest queries next
 * to them must keep working.
 */

let h: Harness;
let clickhouse: TestClickHouse | undefined;
let canaryPath: string;
let canary: string;
let signingKey: string;
let ssrf: Server;
let ssrfPort: number;
let ssrfHits = 0;

const asReader = async (sql: string) => {
  const res = await fetch(`${h.apiUrl}/api/sql`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.apiKeys.reader}`, "content-type": "application/json" },
    body: JSON.stringify({ sql }),
  });
  return { status: res.status, text: await res.text() };
};

// Placeholders: F is the canary file, U the SSRF receiver's URL, H its host:port.
const attacks: string[] = [
  // Quotes and escapes: statements a JavaScript SQL parser and the engine read differently.
  "SELECT `a\\`` FROM spans, file('F')",
  'SELECT "a\\"" AS x, file(\'F\') AS y',
  "SELECT 'a\\'' AS x, file('F') AS y",
  "SELECT 'a'' , file(''F'') , ''' AS x, file('F')",
  "SELECT `x\\n Function numbers` AS a, file('F')",
  "SELECT 1 AS \"a\\\\\", file('F')",
  // Comments of each kind, and comments that hide quotes or statement ends.
  "SELECT 1 /* ' */ , file('F') -- '",
  "SELECT 1 -- \n, file('F')",
  "SELECT 1 # comment\n, file('F')",
  "SELECT 1 /* /* nested */ , file('F') */ , file('F')",
  "SELECT 1 /*;*/; SELECT file('F')",
  // Heredocs and unicode.
  "SELECT $$ ' $$ AS a, file('F')",
  "SELECT $tag$ ` $tag$ AS a, file('F')",
  "SELECT `fi\u200ble`('F')",
  "SELECT ｆｉｌｅ('F')",
  // Case and quoting of the function's own name.
  "SeLeCt FiLe('F')",
  "SELECT `file`('F')",
  "SELECT \"file\"('F')",
  // Nesting and scope: the function anywhere in the statement.
  "SELECT arrayMap(x -> file(x), ['F'])",
  "SELECT (SELECT file('F'))",
  "WITH (SELECT file('F')) AS f SELECT f",
  "WITH f AS (SELECT file('F') AS c) SELECT * FROM f",
  "SELECT 1 WHERE 1 IN (SELECT length(file('F')))",
  "SELECT agent_id FROM spans ORDER BY file('F')",
  "SELECT count() OVER (PARTITION BY file('F')) FROM spans",
  "SELECT * FROM spans AS a JOIN alerts AS b ON file('F') = b.agent_id",
  "SELECT * FROM (SELECT * FROM (SELECT file('F') AS c))",
  // Table functions that read files, URLs, other servers, programs or other tables.
  "SELECT * FROM file('F', 'RawBLOB')",
  "SELECT * FROM (SELECT * FROM file('F', 'RawBLOB'))",
  "SELECT * FROM url('U', 'RawBLOB')",
  "SELECT * FROM urlCluster('default', 'U', 'RawBLOB')",
  "SELECT * FROM s3('U', 'RawBLOB')",
  "SELECT * FROM remote('H', system.one)",
  "SELECT * FROM remoteSecure('H', system.one)",
  "SELECT * FROM merge('system', '^users$')",
  "SELECT * FROM view(SELECT * FROM agent_tokens)",
  "SELECT * FROM executable('cat F', 'RawBLOB', 'x String')",
  "SELECT * FROM input('x String')",
  "SELECT * FROM spans WHERE trace_id IN (SELECT * FROM file('F', 'RawBLOB'))",
  // System tables and Vigil's non-readable tables, however spelled.
  "SELECT * FROM system.users",
  "SELECT * FROM `system`.`users`",
  'SELECT * FROM "system"."tables"',
  "SELECT * FROM system.processes",
  "SELECT * FROM INFORMATION_SCHEMA.TABLES",
  "SELECT * FROM information_schema.columns",
  "SELECT * FROM agent_tokens",
  "SELECT * FROM default.agent_tokens",
  "SELECT * FROM silences",
  "SELECT * FROM schema_migrations",
  "SELECT * FROM spans, agent_tokens",
  // A CTE's name lent to the table it shadows, in the same or another scope.
  "WITH agent_tokens AS (SELECT 1 AS x) SELECT * FROM agent_tokens",
  "SELECT * FROM (WITH agent_tokens AS (SELECT 1 AS x) SELECT x FROM agent_tokens) AS a, agent_tokens",
  "WITH Agent_Tokens AS (SELECT 1) SELECT * FROM agent_tokens",
  "WITH users AS (SELECT 1) SELECT * FROM system.users",
  // Other tables by name, in functions.
  "SELECT 1 WHERE 'x' IN agent_tokens",
  "SELECT 1 WHERE 'x' GLOBAL IN (SELECT sha256 FROM agent_tokens)",
  "SELECT joinGet('agent_tokens', 'sha256', 1)",
  "SELECT dictGet('d', 'x', toUInt64(1))",
  "SELECT hasColumnInTable('default', 'agent_tokens', 'sha256')",
  // Limits, output and the server's own settings.
  "SELECT 1 SETTINGS readonly = 0",
  "SELECT * FROM spans SETTINGS max_result_bytes = 0, readonly = 0",
  "SELECT getSetting('readonly')",
  "SELECT getServerSetting('path')",
  "SELECT 1 FORMAT TSV",
  "SELECT 1 INTO OUTFILE 'F.out'",
  "SELECT {p:String}",
  "SELECT sleep(3)",
  // Other statements, alone or inside a SELECT.
  "SELECT 1; SELECT file('F')",
  "EXPLAIN SELECT file('F')",
  "SELECT * FROM (EXPLAIN SYNTAX SELECT file('F'))",
  "SHOW TABLES",
  "DESCRIBE TABLE agent_tokens",
  "SELECT * FROM (DESCRIBE TABLE agent_tokens)",
  "INSERT INTO spans (agent_id) SELECT 'forged'",
  "SELECT * FROM spans UNION ALL SELECT * FROM file('F', 'RawBLOB')",
];

const fill = (sql: string) =>
  sql
    .replaceAll("'F'", `'${canaryPath}'`)
    .replaceAll("''F''", `''${canaryPath}''`)
    .replaceAll("cat F", `cat ${canaryPath}`)
    .replaceAll("'F.out'", `'${canaryPath}.out'`)
    .replaceAll("'U'", `'http://127.0.0.1:${ssrfPort}/x'`)
    .replaceAll("'H'", `'127.0.0.1:${ssrfPort}'`);

// Embedded, the endpoint's check of the engine's parse is what stops a reader; on a
// server, the `vigil_sql` user's grants stop the same statements again at the engine.
describe.each(["embedded", "server"] as const)("SQL endpoint under a hostile reader key (%s)", (placement) => {
  beforeAll(async () => {
    if (placement === "server") {
      clickhouse = new TestClickHouse();
      await clickhouse.start();
    }
    // This file is about what the parser and the grants let through, not about time: the
    // embedded store's 30 ms slice (tested in sql-vs-ingest and api-sql) cut off an honest
    // subquery on a loaded CI machine, so the slice here is long enough never to decide.
    h = await startVigil(
      undefined,
      clickhouse === undefined ? { env: { VIGIL_EMBEDDED_SQL_SLICE_SECONDS: "2" } } : { clickhouse },
    );
    canary = `canary-${randomBytes(12).toString("hex")}`;
    canaryPath = join(h.dataDir, "canary.txt");
    writeFileSync(canaryPath, canary);
    signingKey = readFileSync(join(h.dataDir, "ledger-signing.key"), "utf8").trim();
    ssrf = createServer((_req, res) => {
      ssrfHits++;
      res.end(`a\n${canary}\n`);
    });
    await new Promise<void>((resolve) => ssrf.listen(0, "127.0.0.1", resolve));
    ssrfPort = (ssrf.address() as { port: number }).port;
    expect(await sendRichSpan(h, "support-bot")).toBe(200);
  });
  afterAll(async () => {
    await new Promise((resolve) => ssrf.close(resolve));
    await h.stop();
    await clickhouse?.stop();
  });

  it.each(attacks)("refuses %s", async (shape) => {
    const res = await asReader(fill(shape));
    expect(res.status, res.text).toBe(400);
    expect(res.text).not.toContain(canary);
    expect(res.text).not.toContain(signingKey);
    expect(JSON.parse(res.text)).toMatchObject({ error: expect.stringMatching(/^(refused|query_failed)$/) as unknown });
  });

  it("sent nothing to the SSRF receiver and wrote no file", async () => {
    expect(ssrfHits).toBe(0);
    expect(() => readFileSync(`${canaryPath}.out`)).toThrow();
  });

  it.each([
    ["SELECT agent_id, count() AS n FROM spans GROUP BY agent_id", [{ agent_id: "support-bot", n: "1" }]],
    ["WITH recent AS (SELECT * FROM spans) SELECT count() AS n FROM recent", [{ n: "1" }]],
    ["SELECT countIf(status_code = 2) AS errors, uniqExact(session_id) AS s FROM spans", [{ errors: "1", s: "1" }]],
    ["SELECT number AS n FROM numbers(2)", [{ n: "0" }, { n: "1" }]],
    ["SELECT arrayMap(x -> x * 2, [1, 2]) AS a", [{ a: [2, 4] }]],
    [
      "SELECT agent_id, row_number() OVER (PARTITION BY agent_id ORDER BY start_time) AS i FROM spans",
      [{ agent_id: "support-bot", i: "1" }],
    ],
    ["SELECT count() AS n FROM spans WHERE trace_id IN (SELECT trace_id FROM span_trace_index)", [{ n: "1" }]],
    ['SELECT agent_id AS "agent id" FROM spans', [{ "agent id": "support-bot" }]],
    ["SELECT 'it''s' AS s, 'a\\'b' AS t, $$x$$ AS u", [{ s: "it's", t: "a'b", u: "x" }]],
    ["SELECT count() AS n FROM alerts WHERE agent_id = 'nobody' -- a comment", [{ n: "0" }]],
    [
      "/* why */ SELECT s.agent_id AS a FROM spans AS s LEFT JOIN alerts AS x ON x.agent_id = s.agent_id",
      [{ a: "support-bot" }],
    ],
    ["SELECT toStartOfHour(start_time) AS h, count() AS n FROM spans GROUP BY h ORDER BY h", [{ n: "1" }]],
    ["SELECT count() AS n FROM spans WHERE name IN ('a', 'b') OR agent_id LIKE 'support%'", [{ n: "1" }]],
  ])("answers the honest %s", async (sql, rows) => {
    const res = await apiCall(h, "/api/sql", h.apiKeys.reader, { method: "POST", body: { sql } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((res.body as { rows: unknown[] }).rows).toMatchObject(rows);
  });

  it("refuses a result over the byte limit, not only over the row limit", async () => {
    const res = await asReader("SELECT repeat('x', 1000000) AS big FROM numbers(200)");
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: "over_limit" });
  });
});
