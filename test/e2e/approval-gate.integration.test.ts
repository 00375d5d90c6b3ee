import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VigilApprovalDenied, startVigilAgent } from "@vigil/agent-sdk";
import type { VigilAgent } from "@vigil/agent-sdk";
import { actionAttributes, actionDigestOf, signApprovalToken } from "@vigil/approvals";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts, loadOrCreateSigningKey } from "@vigil/store";
import { promotionReport } from "@vigil/advisor";
import { jsonTraceRequest } from "../support/otlp-json";
import { LocalReceiver } from "../support/receivers";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * The confirmation gate end to end: a real SDK agent asks before a DROP TABLE, the
 * request reaches Slack as a message with Approve / Deny buttons, a click comes back
 * signed the way Slack signs it, and only then does the statement run, on a span that
 * carries Vigil's signed approval, which ingest verifies: no destructive_without_approval.
 * Denial, expiry and every forged or misused token beside it.
 */
const secrets = mkdtempSync(join(tmpdir(), "vigil-gate-"));
const slack = new LocalReceiver("slack");
const signingSecret = randomBytes(16).toString("hex");
const tokens = {
  gated: generateToken(),
  slow: generateToken(),
  other: generateToken(),
  careful: generateToken(),
  credentials: generateToken(),
};
let h: Harness;
let agent: VigilAgent;

beforeAll(async () => {
  await slack.start();
  writeFileSync(join(secrets, "slack-url"), slack.url);
  writeFileSync(join(secrets, "slack-signing"), signingSecret);
  const agentYaml = (id: string, token: string, extra = "") =>
    `  - id: ${id}\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n${extra}`;
  h = await startVigil([], {
    agentsYaml:
      "agents:\n" +
      agentYaml("gated-bot", tokens.gated) +
      agentYaml("slow-bot", tokens.slow, "    approvals: {timeout_minutes: 0.05}\n") +
      agentYaml("other-bot", tokens.other) +
      agentYaml("careful-bot", tokens.careful, "    approvals: {require: [new_host_write, new_table_write]}\n") +
      agentYaml("cred-bot", tokens.credentials, "    approvals: {require: [new_credential_use]}\n"),
    extraYaml:
      `receivers:\n  - name: sec-slack\n    slack: {webhook_url: {file: ${join(secrets, "slack-url")}}}\n` +
      `approvals:\n  receivers: [sec-slack]\n  slack_signing_secret: {file: ${join(secrets, "slack-signing")}}\n`,
    // Spans through a pipeline thread: those carrying approval tokens come back to the main thread.
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "1", VIGIL_INGEST_THREADS: "1" },
  });
  agent = startVigilAgent({
    agentId: "gated-bot",
    token: tokens.gated,
    endpoint: h.ingestUrl.replace("/v1/traces", ""),
    environment: "production",
  });
});

afterAll(async () => {
  await agent?.shutdown();
  await h?.stop();
  await slack.stop();
  rmSync(secrets, { recursive: true, force: true });
});

/** A click on a button, as Slack posts it: form-encoded payload, v0 HMAC signature over timestamp and body. */
function slackClick(actionId: string, decisionId: string, opts: { secret?: string; ageSeconds?: number } = {}) {
  const body = `payload=${encodeURIComponent(
    JSON.stringify({
      type: "block_actions",
      user: { id: "U0SECLEAD", username: "sec-lead" },
      actions: [{ action_id: actionId, value: decisionId, type: "button" }],
    }),
  )}`;
  const ts = String(Math.floor(Date.now() / 1000) - (opts.ageSeconds ?? 0));
  const sig = `v0=${createHmac("sha256", opts.secret ?? signingSecret)
    .update(`v0:${ts}:${body}`)
    .digest("hex")}`;
  return fetch(`${h.apiUrl}/slack/interactivity`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": ts,
      "x-slack-signature": sig,
    },
  });
}

const buttonsFor = (rendering: string) =>
  until("the approval request in Slack", () => {
    const m = slack
      .valid()
      .find((r) => JSON.stringify(r.body).includes(rendering) && JSON.stringify(r.body).includes('"actions"'));
    if (m === undefined) return undefined;
    const actions = (
      m.body.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>
    ).find((b) => b.type === "actions");
    return actions?.elements;
  });

const alertSummariesOf = async (session: string) =>
  (await findAlerts(h.vigil.client, { limit: 500 }))
    .filter((a) => a.sessionId === session)
    .map((a) => `${a.detector} on ${a.traceId}/${a.spanIds.join(",")}: ${a.summary} ${JSON.stringify(a.evidence)}`);

const storedApproval = async (statement: string) => {
  const rs = await h.vigil.client.query({
    query: "SELECT approval_status AS s, approval_id AS id FROM spans WHERE attributes LIKE {q:String}",
    query_params: { q: `%${statement}%` },
    format: "JSONEachRow",
  });
  return rs.json<{ s: string; id: string }>();
};

describe("the confirmation gate", () => {
  it("allows a harmless action at once, and explains why", async () => {
    let ran = false;
    await agent.session("ticket-5041", () =>
      agent.confirm(
        {
          description: "look up the invoice",
          action: { db: { system: "postgresql", statement: "SELECT * FROM invoices WHERE id = 7" } },
        },
        async () => {
          ran = true;
        },
      ),
    );
    expect(ran).toBe(true);
  });

  it("holds a DROP TABLE until a person approves it in Slack, then ingest verifies the approval on its span", async () => {
    const statement = "DROP TABLE staging_invoices";
    let ran = false;
    const confirmed = agent.session("ticket-5042", () =>
      agent.confirm(
        {
          description: "clean up the staging copy, it was replaced yesterday",
          action: { db: { system: "postgresql", statement } },
        },
        () =>
          agent.dbQuery({ system: "postgresql", statement, credentialId: "cred-pg-rw" }, async () => {
            ran = true;
          }),
      ),
    );
    const buttons = await buttonsFor("DROP TABLE staging_invoices on postgresql");
    const approve = buttons.find((b) => b.action_id === "vigil_approve") as { value: string };
    expect(ran).toBe(false);

    // Attacks on the interactivity endpoint: another secret, a replayed old click.
    expect((await slackClick("vigil_approve", approve.value, { secret: "not-the-secret" })).status).toBe(401);
    expect((await slackClick("vigil_approve", approve.value, { ageSeconds: 600 })).status).toBe(401);
    expect(ran).toBe(false);
    expect((await slackClick("vigil_approve", approve.value)).status).toBe(200);
    await confirmed;
    expect(ran).toBe(true);

    await agent.forceFlush();
    const [stored] = await until("the DROP's span", async () => {
      const rows = await storedApproval(statement);
      return rows.length > 0 ? rows : undefined;
    });
    expect(stored).toMatchObject({ s: "verified", id: approve.value });
    const decision = await apiCall(h, `/api/decisions/${approve.value}`, h.apiKeys.reader);
    expect(decision.body).toMatchObject({ status: "approved", decidedBy: "slack:sec-lead (U0SECLEAD)" });
    expect(JSON.stringify(decision.body)).not.toContain("eyJ"); // the token is the agent's alone
    // Detection ran over the DROP: no destructive_without_approval for it.
    await h.vigil.detection.trigger();
    // Summaries, not only names: a failure says which span and which finding.
    expect(await alertSummariesOf("ticket-5042")).toEqual([]);
  });

  it("never runs a denied action, and the agent is told who denied it and why", async () => {
    let ran = false;
    const confirmed = agent.session("ticket-5043", () =>
      agent
        .confirm(
          {
            description: "remove old payments",
            action: { db: { system: "postgresql", statement: "DROP TABLE payments" } },
          },
          async () => {
            ran = true;
          },
        )
        .catch((e: unknown) => e),
    );
    const pending = await until("the pending request", async () => {
      const list = (await apiCall(h, "/api/decisions?status=pending", h.apiKeys.reader)).body as {
        decisions: Array<{ decisionId: string; rendering: string }>;
      };
      return list.decisions.find((d) => d.rendering.includes("payments"));
    });
    // A reader may look but not decide.
    expect(
      (
        await apiCall(h, `/api/decisions/${pending.decisionId}/approve`, h.apiKeys.reader, {
          method: "POST",
          body: { justification: "x" },
        })
      ).status,
    ).toBe(403);
    const denied = await apiCall(h, `/api/decisions/${pending.decisionId}/deny`, h.apiKeys.admin, {
      method: "POST",
      body: { justification: "payments is production data" },
    });
    expect(denied.status).toBe(200);
    // The first answer is final.
    expect(
      (
        await apiCall(h, `/api/decisions/${pending.decisionId}/approve`, h.apiKeys.admin, {
          method: "POST",
          body: { justification: "oops" },
        })
      ).status,
    ).toBe(409);
    const err = await confirmed;
    expect(err).toBeInstanceOf(VigilApprovalDenied);
    expect((err as Error).message).toMatch(/denied by admin: payments is production data/);
    expect(ran).toBe(false);
  });

  it("takes an approval from the CLI (vigil decisions, vigil approve)", async () => {
    const statement = "TRUNCATE TABLE sessions_cache";
    let ran = false;
    const confirmed = agent.session("ticket-5044", () =>
      agent.confirm({ description: "reset the cache", action: { db: { system: "postgresql", statement } } }, () =>
        agent.dbQuery({ system: "postgresql", statement }, async () => {
          ran = true;
        }),
      ),
    );
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, ["services/cli/bin/vigil.js", ...args], {
        env: { PATH: process.env.PATH ?? "", VIGIL_API_URL: h.apiUrl, VIGIL_API_KEY: h.apiKeys.admin },
      });
    const listed = await until("the request in `vigil decisions`", async () => {
      const { stdout } = await cli(["decisions", "--status", "pending", "--json"]);
      return (JSON.parse(stdout) as Array<{ decisionId: string; rendering: string }>).find((d) =>
        d.rendering.includes("sessions_cache"),
      );
    });
    const { stdout } = await cli(["approve", listed.decisionId, "--justification", "cache only, rebuilt on demand"]);
    expect(stdout).toMatch(/approved by admin: TRUNCATE sessions_cache on postgresql, session ticket-5044/);
    await confirmed;
    expect(ran).toBe(true);
  });

  it("takes a decision in the console: the pending list, and a form with CSRF, for approvers and admins only", async () => {
    const statement = "DELETE FROM drafts";
    let ran = false;
    const confirmed = agent.session("ticket-5045", () =>
      agent.confirm({ description: "drop every draft", action: { db: { system: "postgresql", statement } } }, () =>
        agent.dbQuery({ system: "postgresql", statement }, async () => {
          ran = true;
        }),
      ),
    );
    const signIn = async (key: string) => {
      const res = await fetch(`${h.apiUrl}/login`, {
        method: "POST",
        body: new URLSearchParams({ key, next: "/decisions" }),
        headers: { origin: h.apiUrl },
        redirect: "manual",
      });
      return (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
    };
    const admin = await signIn(h.apiKeys.admin);
    const page = await until("the request on /decisions", async () => {
      const text = await (await fetch(`${h.apiUrl}/decisions`, { headers: { cookie: admin } })).text();
      return text.includes("drafts on postgresql") ? text : undefined;
    });
    // The form in the row of this request (others may be waiting too).
    const row = page.slice(page.indexOf("drafts on postgresql"));
    const id = /action="\/decisions\/([0-9a-f-]{36})"/.exec(row)?.[1] as string;
    const csrfToken = /name="csrf" value="([^"]+)"/.exec(row)?.[1] as string;
    const post = (cookie: string, body: Record<string, string>) =>
      fetch(`${h.apiUrl}/decisions/${id}`, {
        method: "POST",
        body: new URLSearchParams(body),
        headers: { cookie, origin: h.apiUrl },
        redirect: "manual",
      });
    // A reader sees the list but no form, and cannot post one.
    const reader = await signIn(h.apiKeys.reader);
    expect(await (await fetch(`${h.apiUrl}/decisions`, { headers: { cookie: reader } })).text()).toContain(
      "an approver or admin key decides",
    );
    expect((await post(admin, { verdict: "approve", justification: "ok" })).status).toBe(403); // no CSRF token
    expect(
      (await post(admin, { verdict: "approve", justification: "drafts are disposable", csrf: csrfToken })).status,
    ).toBe(303);
    await confirmed;
    expect(ran).toBe(true);
  });

  it("asks a person for what is new to the agent: a write to a host or table it never wrote to", async () => {
    const gate = (action: unknown) =>
      fetch(h.ingestUrl.replace("/v1/traces", "/v1/decisions"), {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.careful}`, "content-type": "application/json" },
        body: JSON.stringify({ description: "routine work", session_id: "s-careful", action }),
      }).then(async (r) => (await r.json()) as { decision: string; reasons: string[] });
    // Its history: orders written, api.known.example posted to.
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        {
          traceId: "ca4e".padEnd(32, "1"),
          attrs: { "db.system.name": "postgresql", "db.query.text": "INSERT INTO orders (id) VALUES (1)" },
        },
        {
          traceId: "ca4e".padEnd(32, "2"),
          kind: 3,
          attrs: {
            "http.request.method": "POST",
            "url.full": "https://api.known.example/v1/notify",
            "server.address": "api.known.example",
          },
        },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.careful}` },
    });
    expect(res.status).toBe(200);
    await h.vigil.ingest.drain();
    expect(await gate({ db: { system: "postgresql", statement: "INSERT INTO orders (id) VALUES (2)" } })).toMatchObject(
      { decision: "allow" },
    );
    expect(await gate({ http: { method: "POST", url: "https://api.known.example/v1/notify" } })).toMatchObject({
      decision: "allow",
    });
    expect(
      await gate({ db: { system: "postgresql", statement: "INSERT INTO payouts (id) VALUES (1)" } }),
    ).toMatchObject({
      decision: "pending",
      reasons: ["INSERT on payouts, which this agent never did"],
    });
    expect(await gate({ http: { method: "POST", url: "https://paste.example/upload" } })).toMatchObject({
      decision: "pending",
      reasons: ["writes to paste.example, a host this agent never used"],
    });
  });

  it("asks a person when a credential is used outside its pattern: one the agent never used, or toward a new host", async () => {
    const gate = (action: unknown) =>
      fetch(h.ingestUrl.replace("/v1/traces", "/v1/decisions"), {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.credentials}`, "content-type": "application/json" },
        body: JSON.stringify({ description: "send the digest", session_id: "s-cred", action }),
      }).then(async (r) => (await r.json()) as { decision: string; reasons: string[] });
    // Its history: cred-mail used to post to api.mail.example.
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        {
          traceId: "c4ed".padEnd(32, "1"),
          kind: 3,
          attrs: {
            "http.request.method": "POST",
            "url.full": "https://api.mail.example/v1/send",
            "vigil.credential.id": "cred-mail",
          },
        },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.credentials}` },
    });
    expect(res.status).toBe(200);
    await h.vigil.ingest.drain();
    const post = (url: string, credential: string) => ({ http: { method: "POST", url, credential_id: credential } });
    expect(await gate(post("https://api.mail.example/v1/send", "cred-mail"))).toMatchObject({ decision: "allow" });
    expect(await gate(post("https://api.mail.example/v1/send", "cred-payments"))).toMatchObject({
      decision: "pending",
      reasons: ["uses credential cred-payments, which this agent never used"],
    });
    expect(await gate(post("https://paste.example/upload", "cred-mail"))).toMatchObject({
      decision: "pending",
      reasons: ["uses credential cred-mail toward paste.example, where this agent never used it"],
    });
  });

  it("treats a request no one answers in time as denied", async () => {
    const slow = await fetch(h.ingestUrl.replace("/v1/traces", "/v1/decisions"), {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.slow}`, "content-type": "application/json" },
      body: JSON.stringify({
        description: "truncate logs",
        session_id: "s-slow",
        action: { db: { system: "mysql", statement: "TRUNCATE TABLE logs" } },
      }),
    });
    expect(slow.status).toBe(202);
    const { decision_id: id } = (await slow.json()) as { decision_id: string };
    const answer = await until(
      "the expiry",
      async () => {
        const r = await fetch(h.ingestUrl.replace("/v1/traces", `/v1/decisions/${id}?wait=2`), {
          headers: { authorization: `Bearer ${tokens.slow}` },
        });
        const body = (await r.json()) as { status: string; decision: string };
        return body.status === "expired" ? body : undefined;
      },
      20_000,
    );
    expect(answer).toMatchObject({ status: "expired", decision: "deny" });
    // Another agent cannot see it.
    const peek = await fetch(h.ingestUrl.replace("/v1/traces", `/v1/decisions/${id}`), {
      headers: { authorization: `Bearer ${tokens.other}` },
    });
    expect(peek.status).toBe(404);
  });

  it("records forged, expired, replayed, other-agent, other-session and other-statement tokens as unverified, and alerts", async () => {
    const key = loadOrCreateSigningKey(join(h.dataDir, "approval-signing.key"), "vigil-approvals");
    const statement = "DROP TABLE audit_log";
    const digest = actionDigestOf(actionAttributes({ kind: "db", system: "postgresql", statement }, "s-forge"));
    const claims = (over: Partial<Parameters<typeof signApprovalToken>[0]> = {}) => ({
      agentId: "gated-bot",
      sessionId: "s-forge",
      actionDigest: digest,
      decisionId: crypto.randomUUID(),
      expiresAtMs: Date.now() + 600_000,
      ...over,
    });
    const foreign = generateKeyPairSync("ed25519").privateKey;
    const valid = await signApprovalToken(claims(), key.privateKey);
    const cases: Record<string, string> = {
      forged: await signApprovalToken(claims(), foreign),
      expired: await signApprovalToken(
        claims({ expiresAtMs: Date.now() - 60_000 }),
        key.privateKey,
        Date.now() - 120_000,
      ),
      otherAgent: await signApprovalToken(claims({ agentId: "other-bot" }), key.privateKey),
      otherSession: await signApprovalToken(claims({ sessionId: "s-elsewhere" }), key.privateKey),
      otherStatement: await signApprovalToken(
        claims({
          actionDigest: actionDigestOf(
            actionAttributes({ kind: "db", system: "postgresql", statement: "DROP TABLE tmp" }, "s-forge"),
          ),
        }),
        key.privateKey,
      ),
      honest: valid,
      replayed: valid,
    };
    const expected: Record<string, RegExp> = {
      forged: /^unverified:not signed by Vigil$/,
      expired: /^unverified:expired$/,
      otherAgent: /^unverified:issued to agent other-bot$/,
      otherSession: /^unverified:issued for session s-elsewhere$/,
      otherStatement: /^unverified:issued for another action$/,
      honest: /^verified$/,
      replayed: /^unverified:already used$/,
    };
    let n = 0;
    for (const [name, token] of Object.entries(cases)) {
      const res = await fetch(h.ingestUrl, {
        method: "POST",
        body: jsonTraceRequest([
          {
            traceId: (0xf000 + ++n).toString(16).padStart(32, "0"),
            attrs: {
              "session.id": "s-forge",
              "db.system.name": "postgresql",
              "db.query.text": statement,
              "vigil.approval.token": token,
              "test.case": name,
            },
          },
        ]),
        headers: { "content-type": "application/json", authorization: `Bearer ${tokens.gated}` },
      });
      expect(res.status, name).toBe(200);
    }
    const rs = await h.vigil.client.query({
      query:
        "SELECT JSONExtractString(attributes, 'test.case', 'stringValue') AS name, approval_status AS s FROM spans WHERE session_id = 's-forge'",
      format: "JSONEachRow",
    });
    const got = Object.fromEntries((await rs.json<{ name: string; s: string }>()).map((r) => [r.name, r.s]));
    for (const [name, pattern] of Object.entries(expected)) expect(got[name], name).toMatch(pattern);
    // Every span but the honest one is a destructive step without a verified approval.
    await h.vigil.detection.trigger();
    const alerts = await until("the alerts", async () => {
      const list = (await findAlerts(h.vigil.client, { limit: 500 })).filter((a) => a.sessionId === "s-forge");
      return list.length >= 6 ? list : undefined;
    });
    expect(alerts.every((a) => a.detector === "destructive_without_approval")).toBe(true);
    expect(alerts).toHaveLength(6);
    expect(alerts.map((a) => a.explanation).join("\n")).toMatch(/did not verify: not signed by Vigil/);
  });

  it("counts the approved, gated actions in the promotion report", async () => {
    await agent.forceFlush();
    const report = await until("the gated actions in the report", async () => {
      const r = await promotionReport(h.vigil.client, { agentId: "gated-bot", environment: "production" });
      return r.gated >= 3 ? r : undefined;
    });
    expect(
      report.irreversible
        .filter((a) => a.approved)
        .map((a) => a.what)
        .sort(),
    ).toEqual(["DELETE without WHERE on drafts", "DROP TABLE on staging_invoices", "TRUNCATE on sessions_cache"]);
  });
});
