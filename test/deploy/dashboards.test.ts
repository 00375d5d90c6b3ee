import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { jsonTraceRequest } from "../support/otlp-json";
import { expandPanelSql } from "../support/grafana";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

interface Target {
  rawSql: string;
  datasource: { type: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Array<{ title: string; targets: Target[] }>;
  templating: { list: Array<{ name: string; query: string }> };
}

const dashboards = readdirSync("dashboards")
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({ file: f, dashboard: JSON.parse(readFileSync(`dashboards/${f}`, "utf8")) as Dashboard }));

let h: Harness;
beforeAll(async () => {
  h = await startVigil(["support-bot"], { env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" } });
  const t = BigInt(Date.now() - 60_000) * 1_000_000n;
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest([
      {
        traceId: "8bf92f3577b34da6a3ce929d0e0e4731",
        spanId: "00000000000000f1",
        startNs: t,
        attrs: { "session.id": "dash-1", "gen_ai.input.messages": "tidy up" },
      },
      {
        traceId: "8bf92f3577b34da6a3ce929d0e0e4731",
        spanId: "00000000000000f2",
        startNs: t + 1_000_000n,
        attrs: { "session.id": "dash-1", "db.query.text": "DELETE FROM invoices", "vigil.credential.id": "cred-pg" },
      },
    ]),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  expect(res.status).toBe(200);
  await until(
    "the alert",
    async () =>
      ((await apiCall(h, "/api/alerts", h.apiKeys.reader)).body as { alerts: unknown[] }).alerts.length > 0 ||
      undefined,
  );
  expect((await apiCall(h, "/api/baselines/rebuild", h.apiKeys.admin, { method: "POST" })).status).toBe(200);
});
afterAll(async () => {
  await h.stop();
});

describe.each(dashboards)("Grafana dashboard $file", ({ dashboard }) => {
  const ctx = () => ({
    fromMs: Date.now() - 24 * 3_600_000,
    toMs: Date.now() + 60_000,
    intervalSeconds: 300,
    variables: { agent: "support-bot", session: "dash-1" },
  });

  it("uses the ClickHouse data source and has a uid, a title and panels", () => {
    expect(dashboard.uid).toMatch(/^vigil-/);
    expect(dashboard.panels.length).toBeGreaterThan(0);
    for (const p of dashboard.panels)
      for (const t of p.targets) expect(t.datasource.type).toBe("grafana-clickhouse-datasource");
  });

  it("runs every template variable query and every panel query, macros expanded, on seeded data", async () => {
    for (const v of dashboard.templating.list) {
      const rs = await h.vigil.client.query({ query: expandPanelSql(v.query, ctx()), format: "JSONEachRow" });
      expect((await rs.json()).length, `variable ${v.name}`).toBeGreaterThan(0);
    }
    let nonEmpty = 0;
    for (const p of dashboard.panels) {
      for (const t of p.targets) {
        const sql = expandPanelSql(t.rawSql, ctx());
        const rows = await h.vigil.client.query({ query: sql, format: "JSONEachRow" }).then((r) => r.json());
        if (rows.length > 0) nonEmpty++;
      }
    }
    // Delivery panels may be empty here (no receivers); the rest show the seeded data.
    expect(nonEmpty).toBeGreaterThanOrEqual(dashboard.panels.length - 1);
  });
});

describe("panel macro expansion", () => {
  it("expands time filters, intervals and quoted variables as the plugin documents", () => {
    const sql = expandPanelSql(
      "SELECT $__timeInterval(t) FROM x WHERE $__timeFilter(t) AND a = ${agent:singlequote} AND $__fromTime < $__toTime_ms",
      {
        fromMs: 1_700_000_000_000,
        toMs: 1_700_000_600_000,
        intervalSeconds: 60,
        variables: { agent: "o'brien" },
      },
    );
    expect(sql).toBe(
      "SELECT toStartOfInterval(toDateTime(t), INTERVAL 60 second) FROM x WHERE t >= toDateTime(1700000000) AND t <= toDateTime(1700000600) AND a = 'o\\'brien' AND toDateTime(1700000000) < fromUnixTimestamp64Milli(1700000600000)",
    );
  });
});
