import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { SpanKind } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import pg from "pg";
import mysql from "mysql2/promise";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts } from "@vigil/store";
import type { Alert, ClickHouseClient } from "@vigil/store";
import { TestClickHouse } from "../support/clickhouse-server";
import { PrivateMariaDb, PrivatePostgres } from "../support/private-databases";
import { apiCall, consoleCookie, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * Ground truth: a PostgreSQL with pgAudit and a MariaDB with server_audit, private to
 * this test, log every statement an agent runs through the real `pg` and `mysql2`
 * clients. The agent reports some statements as spans (through the real OTel SDK and
 * OTLP exporter) and leaves others out. Vigil follows both audit files itself; a second
 * Vigil, on a ClickHouse server, receives the same PostgreSQL lines as OTLP log records from the real OTel logs
 * exporter. Every omitted statement raises unreported_action naming the statement and
 * the database user (a DROP or DELETE: critical); every reported one raises nothing.
 */
const postgres = new PrivatePostgres();
// The second Vigil stores on a ClickHouse server (one embedded engine per process).
const clickhouse = new TestClickHouse();
const mariadb = new PrivateMariaDb();
const agentToken = generateToken();
const collectorToken = generateToken();
let files: Harness;
let otlp: Harness;
let clickhouseAdmin: ClickHouseClient;

const agentsYaml =
  `agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(agentToken)}"\n` +
  `  - id: quiet-bot\n    tokens:\n      - sha256: "${sha256Hex(generateToken())}"\n`;
const users =
  "        users:\n          - {user: agent_pg, agent: support-bot, credential: cred-orders-pg}\n          - {user: agent_quiet, agent: quiet-bot}\n";

beforeAll(async () => {
  await Promise.all([postgres.start(), mariadb.start(), clickhouse.start()]);
  postgres.admin(
    "CREATE USER agent_pg; CREATE USER agent_quiet; CREATE TABLE orders (id int, total int); CREATE TABLE customers (id int, email text);" +
      "CREATE TABLE scratch (id int); ALTER TABLE orders OWNER TO agent_pg; ALTER TABLE customers OWNER TO agent_pg;" +
      "ALTER TABLE scratch OWNER TO agent_pg; GRANT SELECT ON orders TO agent_quiet;",
  );
  mariadb.admin(
    "CREATE DATABASE shop; CREATE TABLE shop.items (id int, name text); " +
      "CREATE USER agent_my@'%' IDENTIFIED BY 'agent-password'; GRANT ALL ON shop.* TO agent_my@'%';",
  );
  const audit = (sources: string) => `audit:\n  match_window_seconds: 2\n  sources:\n${sources}`;
  files = await startVigil([], {
    agentsYaml,
    extraYaml: audit(
      `      - id: orders-pg\n        format: pgaudit-jsonlog\n        file: ${postgres.logFile}\n${users}` +
        `      - id: shop-mariadb\n        format: mariadb-server-audit\n        file: ${mariadb.logFile}\n` +
        "        users:\n          - {user: agent_my, agent: support-bot}\n",
    ),
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" },
  });
  otlp = await startVigil([], {
    agentsYaml,
    extraYaml: audit(
      `      - id: orders-pg\n        format: pgaudit-jsonlog\n        tokens:\n          - sha256: "${sha256Hex(collectorToken)}"\n${users}`,
    ),
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" },
    clickhouse,
  });
  clickhouseAdmin = clickhouse.adminClient();
}, 120_000);

afterAll(async () => {
  await files?.stop();
  await clickhouseAdmin?.close();
  await otlp?.stop();
  await Promise.all([postgres.stop(), mariadb.stop(), clickhouse.stop()]);
});

/** The agent's tracer: the real SDK and OTLP exporter, reporting to both Vigils. */
function agentTracer() {
  const exporter = (h: Harness) =>
    new OTLPTraceExporter({ url: h.ingestUrl, headers: { authorization: `Bearer ${agentToken}` } });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "support-bot" }),
    spanProcessors: [new SimpleSpanProcessor(exporter(files)), new SimpleSpanProcessor(exporter(otlp))],
  });
  return { tracer: provider.getTracer("support-bot-db"), provider };
}

/** On the server, the store is read as its admin: ingest's own user may not read alerts. */
const reader = (h: Harness) => (h === otlp ? clickhouseAdmin : h.vigil.client);
const unreported = async (h: Harness): Promise<Alert[]> =>
  (await findAlerts(reader(h), { agentId: "support-bot", limit: 100 })).filter(
    (a) => a.detector === "unreported_action",
  );
const observed = (a: Alert) => a.evidence.observed as { statement: string; database_user: string; command: string };

describe("what the databases saw beside what the agent reported", () => {
  it("raises unreported_action for each statement no span reported, and nothing for the reported ones", async () => {
    const { tracer, provider } = agentTracer();
    // A statement the agent reports: a client span as the pg and mysql2 instrumentations write them.
    const reportedQuery = async (system: string, sql: string, run: () => Promise<unknown>) => {
      const span = tracer.startSpan(`${sql.split(" ")[0]}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          "db.system.name": system,
          "db.query.text": sql,
          "session.id": "audit-session",
          ...(system === "postgresql" ? { "vigil.credential.id": "cred-orders-pg" } : {}),
        },
      });
      await run();
      span.end();
    };
    const pgClient = new pg.Client({ host: "127.0.0.1", port: postgres.port, user: "agent_pg", database: "postgres" });
    await pgClient.connect();
    const my = await mysql.createConnection({
      host: "127.0.0.1",
      port: mariadb.port,
      user: "agent_my",
      password: "agent-password",
      database: "shop",
    });
    try {
      await reportedQuery("postgresql", "SELECT * FROM orders WHERE id = 7", () =>
        pgClient.query("SELECT * FROM orders WHERE id = 7"),
      );
      await reportedQuery("postgresql", "INSERT INTO orders VALUES (8, 120)", () =>
        pgClient.query("INSERT INTO orders VALUES (8, 120)"),
      );
      // Left out of the trace: the agent's tracer never hears of these.
      await pgClient.query("UPDATE customers SET email = 'attacker@example.com' WHERE id = 1");
      await pgClient.query("DROP TABLE scratch");
      await reportedQuery("mysql", "SELECT name FROM items WHERE id = 3", () =>
        my.query("SELECT name FROM items WHERE id = 3"),
      );
      await my.query("DELETE FROM items WHERE id > 0");
    } finally {
      await pgClient.end();
      await my.end();
    }
    await provider.forceFlush();

    // The same PostgreSQL lines, as a collector's filelog receiver would forward them.
    const lines = readFileSync(postgres.logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes('"AUDIT: '));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const logs = new LoggerProvider({
      processors: [
        new BatchLogRecordProcessor(
          new OTLPLogExporter({
            url: otlp.ingestUrl.replace("/v1/traces", "/v1/logs"),
            headers: { authorization: `Bearer ${collectorToken}` },
          }),
        ),
      ],
    });
    const logger = logs.getLogger("filelog");
    for (const line of lines) logger.emit({ body: line, attributes: { "log.file.name": "postgresql.json" } });
    await logs.forceFlush();

    const alerts = await until(
      "four unreported actions seen from the audit files",
      async () => {
        const found = await unreported(files);
        return found.length >= 3 ? found : undefined;
      },
      30_000,
    );
    const byStatement = new Map(alerts.map((a) => [observed(a).statement, a]));
    const update = byStatement.get("UPDATE customers SET email = 'attacker@example.com' WHERE id = 1");
    const drop = byStatement.get("DROP TABLE scratch");
    const del = byStatement.get("DELETE FROM items WHERE id > 0");
    expect(update?.severity).toBe("high");
    expect(observed(update as Alert).database_user).toBe("agent_pg");
    expect(drop?.severity).toBe("critical");
    expect(observed(drop as Alert).database_user).toBe("agent_pg");
    expect(del?.severity).toBe("critical");
    expect(observed(del as Alert).database_user).toBe("agent_my");
    expect(del?.summary).toContain("agent_my");
    // The reported statements matched: no alert names them.
    const statements = alerts.map((a) => observed(a).statement);
    expect(statements.some((s) => s.includes("SELECT * FROM orders"))).toBe(false);
    expect(statements.some((s) => s.includes("INSERT INTO orders"))).toBe(false);
    expect(statements.some((s) => s.includes("SELECT name FROM items"))).toBe(false);
    expect(alerts).toHaveLength(3);

    // The activity API sets each side beside the other: the database's records matched
    // or unreported, the agent's database steps matched.
    const { body } = await apiCall(files, "/api/agents/support-bot/activity?since=1h", files.apiKeys.reader);
    const actions = (body as { actions: Array<{ origin: string; observed: string | null; name: string }> }).actions;
    const audit = actions.filter((a) => a.origin === "db-audit");
    expect(
      audit
        .filter((a) => a.observed === "unreported")
        .map((a) => a.name)
        .sort(),
    ).toEqual(["DELETE", "DROP TABLE", "UPDATE public.customers"]);
    // (pgAudit names no relation for a DROP TABLE: its facts come from the statement text.)
    expect(audit.filter((a) => a.observed === "matched").length).toBeGreaterThanOrEqual(3);
    const reportedSteps = actions.filter((a) => a.origin === "agent");
    expect(reportedSteps.length).toBe(3);
    expect(reportedSteps.every((a) => a.observed === "matched")).toBe(true);

    // The OTLP path: the same PostgreSQL lines give the same two alerts.
    const viaOtlp = await until(
      "the OTLP source's alerts",
      async () => {
        const found = await unreported(otlp);
        return found.length >= 2 ? found : undefined;
      },
      30_000,
    );
    expect(viaOtlp.map((a) => [observed(a).statement, a.severity]).sort()).toEqual([
      ["DROP TABLE scratch", "critical"],
      ["UPDATE customers SET email = 'attacker@example.com' WHERE id = 1", "high"],
    ]);
  }, 90_000);

  it("gives the advisor what the database saw: the credential's uses include statements no span reported", async () => {
    // (Runs after the first test's statements: agent_pg is mapped to the credential its spans name.)
    const { body } = await apiCall(files, "/api/agents/support-bot/permissions?since=1h", files.apiKeys.reader);
    const uses = (
      body as {
        observed: {
          auditRecords: number;
          credentialTableOperations: Record<string, Array<{ value: string; calls: number; seenByDatabase: number }>>;
        };
      }
    ).observed;
    expect(uses.auditRecords).toBeGreaterThanOrEqual(6);
    const credential = new Map((uses.credentialTableOperations["cred-orders-pg"] ?? []).map((u) => [u.value, u]));
    // Reported by the agent and seen by the database (which names the schema).
    expect(credential.get("orders:SELECT")).toMatchObject({ calls: 1, seenByDatabase: 0 });
    expect(credential.get("public.orders:SELECT")).toMatchObject({ calls: 1, seenByDatabase: 1 });
    // Only the database saw the UPDATE.
    expect(credential.get("public.customers:UPDATE")).toMatchObject({ calls: 1, seenByDatabase: 1 });

    const grants = await apiCall(files, "/api/agents/support-bot/grants", files.apiKeys.reader, {
      method: "POST",
      body: { credential: "cred-orders-pg", dialect: "postgresql" },
    });
    expect(grants.status).toBe(200);
    const suggestion = grants.body as { seenOnlyByDatabase: string[]; review: string[] };
    expect(suggestion.seenOnlyByDatabase).toEqual(
      expect.arrayContaining(["public.customers:UPDATE", "public.orders:SELECT", "public.orders:INSERT"]),
    );
    expect(suggestion.seenOnlyByDatabase).not.toContain("orders:SELECT");
    // Used once: listed for review, not granted silently.
    expect(suggestion.review.some((r) => r.startsWith("public.customers:UPDATE"))).toBe(true);
  });

  it("sets the databases' records beside the session's steps, in the API and the console", async () => {
    // (The first test's reported statements ran in session audit-session.)
    const { status, body } = await apiCall(files, "/api/sessions/audit-session", files.apiKeys.reader);
    expect(status).toBe(200);
    const session = body as {
      steps: Array<{ name: string; observed: string | null }>;
      database: Array<{
        statement: string;
        databaseUser: string;
        status: string;
        reportedBy: { sessionId: string } | null;
      }>;
    };
    // Every reported step was seen by its database.
    expect(session.steps.map((s) => s.observed)).toEqual(["matched", "matched", "matched"]);
    const byStatement = new Map(session.database.map((r) => [r.statement, r]));
    expect(byStatement.get("SELECT * FROM orders WHERE id = 7")).toMatchObject({
      databaseUser: "agent_pg",
      status: "matched",
      reportedBy: { sessionId: "audit-session" },
    });
    // What ran meanwhile with no span: beside the session, marked.
    expect(byStatement.get("UPDATE customers SET email = 'attacker@example.com' WHERE id = 1")).toMatchObject({
      status: "unreported",
      reportedBy: null,
    });
    expect(byStatement.get("DELETE FROM items WHERE id > 0")).toMatchObject({
      databaseUser: "agent_my",
      status: "unreported",
    });

    const cookie = await consoleCookie(files, files.apiKeys.reader);
    const page = await (await fetch(`${files.apiUrl}/sessions/audit-session`, { headers: { cookie } })).text();
    expect(page).toContain("What the databases logged meanwhile");
    expect(page).toContain("UPDATE customers SET email = &#39;attacker@example.com&#39; WHERE id = 1");
    expect(page.match(/data-role="unreported"/g)?.length).toBeGreaterThanOrEqual(3);
    expect(page.match(/data-role="observed"/g)).toHaveLength(3);
  });

  it("shows a step the agent reported that the database never saw as a discrepancy", async () => {
    const { tracer, provider } = agentTracer();
    tracer
      .startSpan("SELECT", {
        kind: SpanKind.CLIENT,
        attributes: { "db.system.name": "postgresql", "db.query.text": "SELECT * FROM refunds WHERE id = 1" },
      })
      .end();
    await provider.forceFlush();
    const action = await until("the reported step in the activity", async () => {
      const { body } = await apiCall(files, "/api/agents/support-bot/activity?since=1h", files.apiKeys.reader);
      const actions = (body as { actions: Array<{ observed: string | null; facts: { dbTables: string[] } }> }).actions;
      return actions.find((a) => a.facts.dbTables.includes("refunds"));
    });
    expect(action.observed).toBe("discrepancy");
  });

  it("never takes an agent's span for the database's record, whatever scope and attributes it forges", async () => {
    const { tracer, provider } = agentTracer();
    const forged = provider.getTracer("vigil.db-audit");
    forged
      .startSpan("DROP TABLE public.orders", {
        kind: SpanKind.SERVER,
        attributes: {
          "db.system.name": "postgresql",
          "db.query.text": "DROP TABLE orders_forged",
          "vigil.audit.source": "orders-pg",
          "vigil.audit.user": "agent_pg",
          "vigil.audit.command": "DROP TABLE",
        },
      })
      .end();
    tracer.startSpan("heartbeat").end();
    await provider.forceFlush();
    const action = await until("the forged step in the activity", async () => {
      const { body } = await apiCall(files, "/api/agents/support-bot/activity?since=1h", files.apiKeys.reader);
      const actions = (body as { actions: Array<{ origin: string; facts: { dbTables: string[] } }> }).actions;
      return actions.find((a) => a.facts.dbTables.includes("orders_forged"));
    });
    expect(action.origin).toBe("agent");
  });

  it("raises telemetry_silent when an agent's database user works while the agent sends no spans at all", async () => {
    const quiet = new pg.Client({ host: "127.0.0.1", port: postgres.port, user: "agent_quiet", database: "postgres" });
    await quiet.connect();
    try {
      await quiet.query("SELECT total FROM orders");
    } finally {
      await quiet.end();
    }
    const alerts = await until(
      "quiet-bot's alerts",
      async () => {
        const found = await findAlerts(files.vigil.client, { agentId: "quiet-bot", limit: 10 });
        return found.some((a) => a.detector === "telemetry_silent") &&
          found.some((a) => a.detector === "unreported_action")
          ? found
          : undefined;
      },
      30_000,
    );
    const silent = alerts.find((a) => a.detector === "telemetry_silent") as Alert;
    expect(silent.summary).toContain("agent_quiet");
    expect(observed(silent).statement).toBe("SELECT total FROM orders");
    // support-bot, which did send spans, is not silent.
    const supportAlerts = await findAlerts(files.vigil.client, { agentId: "support-bot", limit: 100 });
    expect(supportAlerts.filter((a) => a.detector === "telemetry_silent")).toEqual([]);
  }, 60_000);

  it("raises unreported_action for a statement the database refused: an agent trying what its grants forbid", async () => {
    const quiet = new pg.Client({ host: "127.0.0.1", port: postgres.port, user: "agent_quiet", database: "postgres" });
    await quiet.connect();
    try {
      // agent_quiet may only read orders: PostgreSQL refuses, pgAudit logs nothing, the ERROR line names it.
      await expect(quiet.query("DELETE FROM orders")).rejects.toThrow(/permission denied/);
    } finally {
      await quiet.end();
    }
    const refused = await until(
      "the refused DELETE's alert",
      async () =>
        (await findAlerts(files.vigil.client, { agentId: "quiet-bot", limit: 50 })).find(
          (a) => a.detector === "unreported_action" && observed(a).statement === "DELETE FROM orders",
        ),
      30_000,
    );
    expect(refused.severity).toBe("critical");
    expect(refused.summary).toContain("the database refused DELETE");
    expect(refused.evidence.observed).toMatchObject({
      database_user: "agent_quiet",
      refused: true,
      error: "42501 permission denied for table orders",
    });
  }, 60_000);

  it("never takes a database's record from an agent: its token's log records are its own report", async () => {
    const good = readFileSync(postgres.logFile, "utf8")
      .split("\n")
      .find((l) => l.includes('"AUDIT: ')) as string;
    // An audit line forged by the agent, sent with its own token as a log record.
    const forged = good.replace(/(SELECT|INSERT|UPDATE|DELETE)[^",]*/, "SELECT 1 FROM forged_by_agent");
    expect(forged).toContain("forged_by_agent");
    const res = await fetch(otlp.ingestUrl.replace("/v1/traces", "/v1/logs"), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${agentToken}` },
      body: JSON.stringify({
        resourceLogs: [
          { scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: forged } }] }] },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const rows = await until("the agent's record", async () => {
      const rs = await reader(otlp).query({
        query: `SELECT agent_id, startsWith(request_digest, 'db-audit:') AS audit, startsWith(request_digest, 'log:') AS log,
                  length(db_tables) AS tables
                FROM spans WHERE position(events, 'forged_by_agent') > 0`,
        format: "JSONEachRow",
      });
      const r = await rs.json<{ agent_id: string; audit: number; log: number; tables: number }>();
      return r.length > 0 ? r : undefined;
    });
    // Stored as the agent's own log record, never as what the database saw (no facts read from the line).
    expect(rows).toEqual([{ agent_id: "support-bot", audit: 0, log: 1, tables: 0 }]);
    // And the collector's honest request with an unparseable line is a partial success, the good line kept.
    const res2 = await fetch(otlp.ingestUrl.replace("/v1/traces", "/v1/logs"), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${collectorToken}` },
      body: JSON.stringify({
        resourceLogs: [
          { scopeLogs: [{ logRecords: [{ body: { stringValue: good } }, { body: { stringValue: "{not json" } }] }] },
        ],
      }),
    });
    expect(res2.status).toBe(200);
    const body = (await res2.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(body.partialSuccess.rejectedLogRecords).toBe("1");
    expect(body.partialSuccess.errorMessage).toContain("not a PostgreSQL jsonlog line");
  });
});
