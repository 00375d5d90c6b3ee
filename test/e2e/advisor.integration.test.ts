import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parse } from "yaml";
import {
  beyondCurrentGrants,
  diffPolicy,
  observePermissions,
  parseGrants,
  policyYaml,
  promotionReport,
  suggestGrants,
  suggestPolicy,
} from "@vigil/advisor";
import type { Observed } from "@vigil/advisor";
import { initSqlParser } from "@vigil/facts";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import type { JsonSpanSpec } from "../support/otlp-json";
import { apiCall, consoleCookie, importHistory, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * Scenario with a known answer: billing-bot in staging for ten days, 30 regular sessions
 * (09:00–16:59 UTC: read invoices and insert payments with the Postgres credential, POST
 * to Stripe with its own), plus three one-offs: a DELETE of all invoices (no approval),
 * an UPDATE with an approval the agent reported itself, and an export tool run at 03:00.
 */
const exec = promisify(execFile);
const DAY = 86_400_000;
const now = Date.now();
const start = now - 10 * DAY - (now % DAY);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;
const token = generateToken();
let h: Harness;
let observed: Observed;

function session(id: string, atMs: number, steps: Array<Record<string, string> & { kind?: string }>): JsonSpanSpec[] {
  const traceId = randomBytes(16).toString("hex");
  return steps.map(({ kind, ...attrs }, i) => ({
    traceId,
    spanId: randomBytes(8).toString("hex"),
    name: `step ${i}`,
    kind: kind === "client" ? 3 : 1,
    startNs: ns(atMs + i * 1000),
    attrs: { "session.id": id, ...attrs },
  }));
}

const regular = (id: string, atMs: number) =>
  session(id, atMs, [
    {
      "gen_ai.tool.name": "charge",
      "db.system.name": "postgresql",
      "db.query.text": "SELECT * FROM invoices WHERE id = $1",
      "vigil.credential.id": "cred-pg-billing",
    },
    {
      "db.system.name": "postgresql",
      "db.query.text": "INSERT INTO payments (id, amount) VALUES ($1, $2)",
      "vigil.credential.id": "cred-pg-billing",
    },
    {
      kind: "client",
      "url.full": "https://api.stripe.example/v1/charges",
      "http.request.method": "POST",
      "vigil.credential.id": "cred-stripe",
    },
  ]);

beforeAll(async () => {
  await initSqlParser();
  h = await startVigil([], {
    agentsYaml: `agents:\n  - id: billing-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n    policy:\n      tools: [charge, refund]\n      credentials: [cred-pg-billing, cred-stripe, cred-admin]\n`,
  });
  const spans: JsonSpanSpec[] = [];
  for (let i = 0; i < 30; i++)
    spans.push(...regular(`s-${i}`, start + Math.floor(i / 3) * DAY + (9 + ((i * 3) % 8)) * 3_600_000));
  spans.push(
    ...session("oneoff-delete", start + 4 * DAY + 11 * 3_600_000, [
      {
        "db.system.name": "postgresql",
        "db.query.text": "DELETE FROM invoices",
        "vigil.credential.id": "cred-pg-billing",
      },
    ]),
  );
  spans.push(
    ...session("oneoff-approved-update", start + 5 * DAY + 10 * 3_600_000, [
      { "vigil.approval.id": "chg-1", "vigil.approval.status": "approved" },
      {
        "db.system.name": "postgresql",
        "db.query.text": "UPDATE invoices SET status = 'void' WHERE id = 7",
        "vigil.credential.id": "cred-pg-billing",
      },
    ]),
  );
  spans.push(...session("oneoff-export", start + 6 * DAY + 3 * 3_600_000, [{ "gen_ai.tool.name": "export_csv" }]));
  // Ten days of the agent's past work, imported as history by an administrator.
  for (let i = 0; i < spans.length; i += 50) {
    const body = jsonTraceRequest(spans.slice(i, i + 50), { "deployment.environment.name": "staging" });
    expect(await importHistory(h, "billing-bot", body)).toBe(200);
  }
  await h.vigil.ingest.drain();
  observed = await observePermissions(h.vigil.client, {
    agentId: "billing-bot",
    environment: "staging",
    fromMs: start,
    toMs: now + 60_000,
  });
}, 60_000);
let stopped = false;
afterAll(async () => {
  if (!stopped) await h.stop();
});

const values = (o: Observed, d: keyof Observed["items"], rare: boolean) =>
  o.items[d]
    .filter((i) => i.rare === rare)
    .map((i) => i.value)
    .sort();

describe("least-privilege advisor on a known scenario", () => {
  it("observes exactly what was used, marking the one-off uses rare with their sessions", () => {
    expect(observed).toMatchObject({ spans: 30 * 3 + 4, sessions: 33 });
    expect(values(observed, "tool", false)).toEqual(["charge"]);
    expect(values(observed, "tool", true)).toEqual(["export_csv"]);
    expect(values(observed, "table_operation", false)).toEqual(["invoices:SELECT", "payments:INSERT"]);
    expect(values(observed, "table_operation", true)).toEqual(["invoices:DELETE", "invoices:UPDATE"]);
    expect(observed.items.table_operation.find((i) => i.value === "invoices:DELETE")?.sampleSessions).toEqual([
      "oneoff-delete",
    ]);
    expect(values(observed, "credential", false)).toEqual(["cred-pg-billing", "cred-stripe"]);
    expect(values(observed, "host", false)).toEqual(["api.stripe.example"]);
    expect(observed.hours[3]).toBe(1);
  });

  it("suggests a policy of exactly the regular uses, lists rare ones for review, and diffs the declared policy", () => {
    const s = suggestPolicy(observed);
    expect(s.policy).toEqual({
      tools: ["charge"],
      table_operations: ["invoices:SELECT", "payments:INSERT"],
      tables: ["invoices", "payments"],
      credentials: ["cred-pg-billing", "cred-stripe"],
      hosts: ["api.stripe.example"],
      peers: [],
      hours: "9-17",
      environments: ["staging"],
    });
    expect(s.review.map((r) => `${r.field} ${r.value}`).sort()).toEqual([
      "hours 03:00",
      "table_operations invoices:DELETE",
      "table_operations invoices:UPDATE",
      "tools export_csv",
    ]);
    const diff = diffPolicy(observed, {
      tools: ["charge", "refund"],
      credentials: ["cred-pg-billing", "cred-stripe", "cred-admin"],
    });
    expect(diff.unused).toEqual({ tools: ["refund"], credentials: ["cred-admin"] });
    expect(diff.notAllowed).toEqual({ tools: ["export_csv"] });
    expect(diff.unrestricted).toEqual(["table_operations", "tables", "hosts"]);
    const yaml = policyYaml("billing-bot", s, observed);
    expect((parse(yaml) as { agents: Array<{ policy: unknown }> }).agents[0]?.policy).toEqual(s.policy);
    expect(yaml).toContain("table_operations: invoices:DELETE (1 use(s), sessions oneoff-delete)");
  });

  it("writes GRANTs for the Postgres credential that parse in all three dialects, and lists what current grants allow beyond use", () => {
    const pg = suggestGrants(observed, "cred-pg-billing", "postgresql");
    expect(pg.statements).toEqual([
      'CREATE ROLE "billing_bot_cred_pg_billing" NOLOGIN',
      'GRANT SELECT ON TABLE "invoices" TO "billing_bot_cred_pg_billing"',
      'GRANT INSERT ON TABLE "payments" TO "billing_bot_cred_pg_billing"',
    ]);
    expect(pg.review.map((r) => r.split(" ")[0])).toEqual(["invoices:DELETE", "invoices:UPDATE"]);
    parseGrants(pg.statements, "postgresql");
    const mysql = suggestGrants(observed, "cred-pg-billing", "mysql", { database: "shop" });
    expect(mysql.statements[1]).toBe("GRANT SELECT ON `shop`.`invoices` TO 'billing_bot_cred_pg_billing'");
    parseGrants(mysql.statements, "mysql");
    const ch = suggestGrants(observed, "cred-pg-billing", "clickhouse", { database: "shop" });
    parseGrants(ch.statements, "clickhouse");
    expect(
      beyondCurrentGrants(
        observed,
        "cred-pg-billing",
        "GRANT ALL ON invoices TO billing; GRANT SELECT, INSERT ON payments TO billing",
        "postgresql",
      ),
    ).toEqual(["INVOICES:ALTER", "INVOICES:DROP", "INVOICES:INSERT", "INVOICES:TRUNCATE", "PAYMENTS:SELECT"]);
  });

  it("the ClickHouse GRANTs are accepted by the engine's own parser", async () => {
    const ch = suggestGrants(observed, "cred-pg-billing", "clickhouse", { database: "shop" });
    for (const statement of ch.statements) {
      const rs = await h.vigil.client.query({
        query: "SELECT formatQuery({q:String}) AS f",
        query_params: { q: statement },
        format: "JSONEachRow",
      });
      expect((await rs.json<{ f: string }>())[0]?.f).toMatch(/^(CREATE ROLE|GRANT)/);
    }
  });

  it("says the agent is not ready for production, and why", async () => {
    const report = await promotionReport(h.vigil.client, {
      agentId: "billing-bot",
      environment: "staging",
      windowDays: 14,
    });
    expect(report.verdict.ready).toBe(false);
    expect(report.verdict.reasons[0]).toBe(
      "1 destructive operation(s) without an approval through Vigil's gate in the last 14 days",
    );
    expect(report.irreversible.filter((a) => a.kind === "destructive")).toMatchObject([
      { sessionId: "oneoff-delete", approved: false },
    ]);
    // The agent reported that approval itself: shown, not counted (only the gate's approvals are).
    expect(report.irreversible.find((a) => a.sessionId === "oneoff-approved-update")).toMatchObject({
      kind: "write",
      approved: false,
      selfReportedApproval: true,
    });
    expect(report.gated).toBe(0);
    expect(report.irreversible.filter((a) => a.kind === "outbound_write")).toHaveLength(30);
    expect(report.credentialUses).toEqual([
      { credential: "cred-pg-billing", uses: 62 },
      { credential: "cred-stripe", uses: 30 },
    ]);
    expect(report.daysObserved).toBeGreaterThanOrEqual(9);
  });
});

describe("advisor surfaces: API, CLI and console", () => {
  const vigil = async (args: string[]) =>
    exec(process.execPath, ["services/cli/bin/vigil.js", ...args], {
      env: { PATH: process.env.PATH ?? "", VIGIL_API_URL: h.apiUrl, VIGIL_API_KEY: h.apiKeys.reader },
    }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    );

  it("serves the policy as YAML, the grants as SQL and the promotion report as Markdown", async () => {
    const yaml = await fetch(`${h.apiUrl}/api/agents/billing-bot/permissions?since=30d&format=yaml`, {
      headers: { authorization: `Bearer ${h.apiKeys.reader}` },
    });
    expect(yaml.headers.get("content-type")).toContain("application/yaml");
    expect(
      (parse(await yaml.text()) as { agents: Array<{ policy: { tools: string[] } }> }).agents[0]?.policy.tools,
    ).toEqual(["charge"]);
    const json = (await apiCall(h, "/api/agents/billing-bot/permissions", h.apiKeys.reader)).body as {
      diff: { unused: unknown };
    };
    expect(json.diff.unused).toEqual({ tools: ["refund"], credentials: ["cred-admin"] });
    const bad = await apiCall(h, "/api/agents/billing-bot/grants", h.apiKeys.reader, {
      method: "POST",
      body: { credential: "cred-pg-billing", dialect: "oracle" },
    });
    expect(bad.status).toBe(400);
  });

  it("vigil advise policy | grants | promotion", async () => {
    const policy = await vigil(["advise", "policy", "--agent", "billing-bot"]);
    expect(policy.code).toBe(0);
    expect(policy.out).toContain("table_operations:\n        - invoices:SELECT\n        - payments:INSERT");
    expect(policy.out).toContain("# Used rarely, so NOT allowed until reviewed");
    const grants = await vigil([
      "advise",
      "grants",
      "--agent",
      "billing-bot",
      "--credential",
      "cred-pg-billing",
      "--dialect",
      "mysql",
      "--database",
      "shop",
    ]);
    expect(grants.out).toContain("GRANT SELECT ON `shop`.`invoices` TO 'billing_bot_cred_pg_billing';");
    expect(grants.out).toContain("-- used rarely, not granted until reviewed: invoices:DELETE");
    const promotion = await vigil(["advise", "promotion", "--agent", "billing-bot", "--days", "14"]);
    expect(promotion.code).toBe(1); // not ready: a CI gate can stop the promotion
    expect(promotion.out).toContain(
      "**Verdict: not ready: 1 destructive operation(s) without an approval through Vigil's gate in the last 14 days",
    );
    expect(promotion.out).toMatch(
      /\| DELETE without WHERE on invoices \| destructive \| \*\*no\*\* \| oneoff-delete \|/,
    );
  });

  it("shows a Permissions page per agent in the console", async () => {
    const cookie = await consoleCookie(h, h.apiKeys.reader);
    const page = await (await fetch(`${h.apiUrl}/agents/billing-bot/permissions`, { headers: { cookie } })).text();
    expect(page).toContain("Permissions of billing-bot");
    expect(page).toContain("invoices:DELETE");
    expect(page).toContain("rare: review");
    expect(page).toContain("not ready");
  });
});

describe("the suggested policy, put into the config", () => {
  it("alerts on the next use of anything outside it", async () => {
    const s = suggestPolicy(observed);
    const policyYamlBlock = JSON.stringify(s.policy);
    // One embedded store per process: close the first before starting with the new config.
    await h.stop();
    stopped = true;
    const next = await startVigil([], {
      agentsYaml: `agents:\n  - id: billing-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n    policy: ${policyYamlBlock}\n`,
      env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" },
    });
    try {
      const at = Date.UTC(2026, 10, 20, 12); // inside the allowed hours
      const send = (steps: Array<Record<string, string> & { kind?: string }>, id: string) =>
        fetch(next.ingestUrl, {
          method: "POST",
          body: jsonTraceRequest(session(id, at, steps), { "deployment.environment.name": "staging" }),
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        });
      expect((await send([regular("x", at)[0]?.attrs as Record<string, string>], "inside")).status).toBe(200);
      expect(
        (
          await send(
            [
              {
                "db.system.name": "postgresql",
                "db.query.text": "DELETE FROM invoices WHERE id = 1",
                "vigil.credential.id": "cred-pg-billing",
              },
            ],
            "outside",
          )
        ).status,
      ).toBe(200);
      const alerts = await until("the policy alert", async () => {
        const found = await findAlerts(next.vigil.client, { detector: "policy_violation" });
        return found.length > 0 ? found : undefined;
      });
      expect(alerts.map((a) => a.sessionId)).toEqual(["outside"]);
      expect(alerts[0]?.evidence.breaches).toEqual(["operation DELETE on table invoices is not allowed"]);
    } finally {
      await next.stop();
    }
  });
});
