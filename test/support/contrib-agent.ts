import { createRequire } from "node:module";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type * as Http from "node:http";
import type * as Pg from "pg";
import type * as Mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { MySQL2Instrumentation } from "@opentelemetry/instrumentation-mysql2";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import type { StoredSpan } from "@vigil/store";
import { startConformance } from "./conformance";
import { recordConformanceRow } from "./conformance-table";
import type { Conformance } from "./conformance";
import { PrivateMariaDb, PrivatePostgres } from "./private-databases";

/** The instrumentation scopes of the contrib libraries, as their spans name them. */
export const CONTRIB_SCOPES = {
  pg: "@opentelemetry/instrumentation-pg",
  mysql2: "@opentelemetry/instrumentation-mysql2",
  http: "@opentelemetry/instrumentation-http",
  undici: "@opentelemetry/instrumentation-undici",
} as const;

export interface ContribConformance {
  conformance: Conformance;
  /** One agent session: a PostgreSQL and a MariaDB query, an http.request and a fetch out. */
  run(sessionId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An agent instrumented the way most Node services are, with the OpenTelemetry contrib
 * instrumentations for pg, mysql2, http and undici (pinned), its statements run on
 * private PostgreSQL and MariaDB servers and its calls out going to a server on
 * 127.0.0.1. `stableSemconv` opts the libraries into the stable HTTP and database
 * conventions (`OTEL_SEMCONV_STABILITY_OPT_IN`, read as they are constructed); without it
 * they send the keys before them (`http.url`, `net.peer.name`, `db.statement`,
 * `db.system`), as every version before mid-2026 did by default. The modules are loaded
 * with Node's require after the instrumentations hook it, as in an application.
 */
export async function startContribConformance(stableSemconv: boolean): Promise<ContribConformance> {
  if (stableSemconv) process.env.OTEL_SEMCONV_STABILITY_OPT_IN = "http,database";
  else delete process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
  const postgres = new PrivatePostgres();
  const mariadb = new PrivateMariaDb();
  await Promise.all([postgres.start(), mariadb.start()]);
  const conformance = await startConformance();
  const instrumentations = [
    // Vigil runs in this process: its own server's requests are not the agent's.
    new HttpInstrumentation({ ignoreIncomingRequestHook: () => true }),
    new PgInstrumentation(),
    new MySQL2Instrumentation(),
    new UndiciInstrumentation(),
  ];
  for (const i of instrumentations) {
    i.setTracerProvider(conformance.provider);
    i.enable();
  }
  const require = createRequire(import.meta.url);
  const pg = require("pg") as typeof Pg;
  const mysql = require("mysql2/promise") as typeof Mysql;
  const http = require("node:http") as typeof Http;

  const target: Server = createServer((_req, res) => res.end("{}"));
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  const port = (target.address() as { port: number }).port;

  const run = async (sessionId: string): Promise<void> => {
    await trace.getTracer("support-bot").startActiveSpan("handle ticket", async (span) => {
      span.setAttribute("session.id", sessionId);
      const client = new pg.Client({ host: "127.0.0.1", port: postgres.port, user: "postgres", database: "postgres" });
      await client.connect();
      await client.query("CREATE TABLE IF NOT EXISTS conformance_orders (id int)");
      await client.query("SELECT id FROM conformance_orders WHERE id = $1", [7]);
      await client.end();
      const db = await mysql.createConnection({ host: "127.0.0.1", port: mariadb.port, user: "root" });
      await db.query("CREATE DATABASE IF NOT EXISTS shop");
      await db.query("CREATE TABLE IF NOT EXISTS shop.conformance_refunds (id int)");
      await db.query("SELECT id FROM shop.conformance_refunds WHERE id = ?", [7]);
      await db.end();
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`http://127.0.0.1:${port}/v1/notify`, { method: "POST" }, (res) => {
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end("{}");
      });
      await (await fetch(`http://127.0.0.1:${port}/v1/tickets?state=open`)).text();
      span.end();
    });
    await conformance.provider.forceFlush();
  };

  return {
    conformance,
    run,
    stop: async () => {
      for (const i of instrumentations) i.disable();
      await new Promise((resolve) => target.close(resolve));
      await conformance.stop();
      await Promise.all([postgres.stop(), mariadb.stop()]);
    },
  };
}

/**
 * The contrib conformance suite, old or stable semconv (one test file each: the
 * instrumentations read the opt-in as they are constructed, once per process). Asserts the
 * keys the mode sends beside the facts Vigil reads from them.
 */
export function contribConformanceSuite(stable: boolean): void {
  const label = stable ? "stable semconv" : "old semconv";
  const session = stable ? "ticket-7301" : "ticket-7201";
  let contrib: ContribConformance;
  let steps: StoredSpan[];

  beforeAll(async () => {
    contrib = await startContribConformance(stable);
    await contrib.run(session);
    steps = await contrib.conformance.stored(session, 7);
  }, 180_000);

  afterAll(async () => {
    await contrib?.stop();
  });

  const of = (scope: string) => steps.filter((s) => s.scope.name === scope);

  describe(`OTel contrib instrumentations, ${label}`, () => {
    it("reads the tables of each statement, on PostgreSQL and on MariaDB, in the session", () => {
      const select = of(CONTRIB_SCOPES.pg).find((s) => s.facts.dbStatementKinds.includes("SELECT"));
      expect(select?.facts).toMatchObject({ dbSystem: "postgresql", dbTables: ["conformance_orders"] });
      expect(Object.keys(select?.attributes ?? {})).toContain(stable ? "db.query.text" : "db.statement"); // the keys this mode sends
      expect(select?.sessionId).toBe(session);
      const refunds = of(CONTRIB_SCOPES.mysql2).find((s) => s.facts.dbStatementKinds.includes("SELECT"));
      expect(refunds?.facts.dbSystem).toBe("mysql");
      expect(refunds?.facts.dbTables.join()).toMatch(/conformance_refunds/);
    });

    it("reads the host of each call out, from http.request and from fetch", () => {
      const [notify] = of(CONTRIB_SCOPES.http);
      expect(notify?.facts).toMatchObject({ outboundHost: "127.0.0.1", dialect: stable ? "" : "otel-old-semconv" });
      expect(Object.keys(notify?.attributes ?? {})).toContain(stable ? "url.full" : "http.url");
      const [tickets] = of(CONTRIB_SCOPES.undici);
      expect(tickets?.facts.outboundHost).toBe("127.0.0.1");
    });

    it("reads every fact each library emits (the conformance table's rows)", async () => {
      const rows = [
        await recordConformanceRow(
          contrib.conformance,
          `OTel pg 0.64.0 (${label})`,
          ["session", "host", "db system", "db tables"],
          CONTRIB_SCOPES.pg,
        ),
        await recordConformanceRow(
          contrib.conformance,
          `OTel mysql2 0.58.0 (${label})`,
          ["session", "host", "db system", "db tables"],
          CONTRIB_SCOPES.mysql2,
        ),
        await recordConformanceRow(
          contrib.conformance,
          `OTel http 0.212.0 (${label})`,
          ["session", "host"],
          CONTRIB_SCOPES.http,
        ),
        ...(stable
          ? [
              await recordConformanceRow(
                contrib.conformance,
                "OTel undici 0.22.0",
                ["session", "host"],
                CONTRIB_SCOPES.undici,
              ),
            ]
          : []),
      ];
      expect(rows.flatMap((r) => r.missed.map((m) => `${r.library}: ${m}`))).toEqual([]);
    });
  });
}
