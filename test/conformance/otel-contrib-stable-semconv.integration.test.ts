import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredSpan } from "@vigil/store";
import { CONTRIB_SCOPES, startContribConformance } from "../support/contrib-agent";
import type { ContribConformance } from "../support/contrib-agent";
import { recordConformanceRow } from "../support/conformance-table";

/**
 * Conformance: the OpenTelemetry contrib instrumentations most Node agents run under
 * (instrumentation-pg 0.64.0, -mysql2 0.58.0, -http 0.212.0, -undici 0.22.0, pinned),
 * sending the stable HTTP and database conventions (OTEL_SEMCONV_STABILITY_OPT_IN), from real queries on private PostgreSQL and MariaDB servers and
 * real calls out to 127.0.0.1, through the real OTLP exporter into a running Vigil.
 */
let contrib: ContribConformance;
let steps: StoredSpan[];

beforeAll(async () => {
  contrib = await startContribConformance(true);
  await contrib.run("ticket-7301");
  steps = await contrib.conformance.stored("ticket-7301", 7);
}, 180_000);

afterAll(async () => {
  await contrib?.stop();
});

const of = (scope: string) => steps.filter((s) => s.scope.name === scope);

describe("OTel contrib instrumentations, stable semconv", () => {
  it("reads the tables of each statement, on PostgreSQL and on MariaDB, in the session", () => {
    const select = of(CONTRIB_SCOPES.pg).find((s) => s.facts.dbStatementKinds.includes("SELECT"));
    expect(select?.facts).toMatchObject({ dbSystem: "postgresql", dbTables: ["conformance_orders"] });
    expect(Object.keys(select?.attributes ?? {})).toContain("db.query.text"); // the keys this mode sends
    expect(select?.sessionId).toBe("ticket-7301");
    const refunds = of(CONTRIB_SCOPES.mysql2).find((s) => s.facts.dbStatementKinds.includes("SELECT"));
    expect(refunds?.facts.dbSystem).toBe("mysql");
    expect(refunds?.facts.dbTables.join()).toMatch(/conformance_refunds/);
  });

  it("reads the host of each call out, from http.request and from fetch", () => {
    const [notify] = of(CONTRIB_SCOPES.http);
    expect(notify?.facts).toMatchObject({ outboundHost: "127.0.0.1", dialect: "" });
    expect(Object.keys(notify?.attributes ?? {})).toContain("url.full");
    const [tickets] = of(CONTRIB_SCOPES.undici);
    expect(tickets?.facts.outboundHost).toBe("127.0.0.1");
  });

  it("reads every fact each library emits (the conformance table's rows)", async () => {
    const rows = [
      await recordConformanceRow(
        contrib.conformance,
        "OTel pg 0.64.0 (stable semconv)",
        ["session", "host", "db system", "db tables"],
        CONTRIB_SCOPES.pg,
      ),
      await recordConformanceRow(
        contrib.conformance,
        "OTel mysql2 0.58.0 (stable semconv)",
        ["session", "host", "db system", "db tables"],
        CONTRIB_SCOPES.mysql2,
      ),
      await recordConformanceRow(
        contrib.conformance,
        "OTel http 0.212.0 (stable semconv)",
        ["session", "host"],
        CONTRIB_SCOPES.http,
      ),
      ...(true
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
