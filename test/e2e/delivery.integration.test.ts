import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { findAttempts, insertAlerts } from "@vigil/store";
import type { Alert, DeliveryAttempt } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { LocalReceiver } from "../support/receivers";
import { until } from "../support/wait";
import type { Received } from "../support/receivers";
import { PrivateRedis, freePort } from "../support/redis-server";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let seq = 0;
function alertOf(agentId: string, over: Partial<Alert> = {}): Alert {
  seq++;
  const now = Date.now();
  return {
    alertId: `test-${randomBytes(8).toString("hex")}`,
    createdAtMs: now,
    eventTimeNs: String(BigInt(now) * 1_000_000n),
    detector: "new_table",
    severity: "high",
    score: 70,
    agentId,
    environment: "production",
    sessionId: `session-${seq}`,
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanIds: ["b7ad6b7169203331"],
    summary: `${agentId} touched table invoices for the first time`,
    explanation: "In its whole history it never used this table.",
    evidence: { table: "invoices" },
    input: "Please clean up the old invoices",
    credentials: ["cred-pg-billing"],
    fingerprint: `new_table:${agentId}:production`,
    ...over,
  };
}

const placements = ["in-process", "bullmq"] as const;

describe.each(placements)("alert delivery (%s)", (placement) => {
  const secrets = mkdtempSync(join(tmpdir(), "vigil-secrets-"));
  const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
  const routingKey = randomBytes(16).toString("hex");
  const r = {
    slack: new LocalReceiver("slack"),
    pager: new LocalReceiver("pagerduty"),
    hook: new LocalReceiver("webhook", webhookSecret),
    pdFlaky: new LocalReceiver("pagerduty"),
    hook500: new LocalReceiver("webhook", webhookSecret),
    pd400: new LocalReceiver("pagerduty"),
    hook410: new LocalReceiver("webhook", webhookSecret),
    hookHang: new LocalReceiver("webhook", webhookSecret),
  };
  let h: Harness;
  let redis: PrivateRedis | undefined;
  const attemptsOf = (receiver: string): Promise<DeliveryAttempt[]> =>
    findAttempts(h.vigil.client, { receiver }).then((a) => a.reverse());

  beforeAll(async () => {
    await Promise.all(Object.values(r).map((x) => x.start()));
    r.pdFlaky.script = [{ status: 429, retryAfter: "1" }];
    r.hook500.script = [{ status: 500 }];
    r.pd400.fallback = { status: 400 };
    r.hook410.fallback = { status: 410 };
    r.hookHang.fallback = "hang";
    const file = (name: string, value: string): string => {
      const path = join(secrets, name);
      writeFileSync(path, value, { mode: 0o600 });
      return path;
    };
    const slackUrl = file("slack", r.slack.url);
    const key = file("pd", routingKey);
    const hookSecret = file("hook", webhookSecret);
    const pd = (name: string, url: string) =>
      `  - name: ${name}\n    pagerduty: {routing_key: {file: ${key}}, url: "${url}"}\n`;
    const hook = (name: string, url: string) =>
      `  - name: ${name}\n    webhook: {url: "${url}", secret: {file: ${hookSecret}}}\n`;
    const fast = "group_wait: 100ms";
    const extraYaml =
      `receivers:\n  - name: slack\n    slack: {webhook_url: {file: ${slackUrl}}}\n` +
      pd("pager", r.pager.url) +
      hook("hook", r.hook.url) +
      pd("pd-flaky", r.pdFlaky.url) +
      hook("hook-500", r.hook500.url) +
      pd("pd-400", r.pd400.url) +
      hook("hook-410", r.hook410.url) +
      hook("hook-hang", r.hookHang.url) +
      `route:\n  receiver: slack\n  group_by: [agent, detector]\n  group_wait: 11s\n  group_interval: 2s\n  repeat_interval: 1h\n  routes:\n` +
      `    - {match: {agent: [flaky-429]}, receiver: pd-flaky, ${fast}}\n` +
      `    - {match: {agent: [flaky-500]}, receiver: hook-500, ${fast}}\n` +
      `    - {match: {agent: [bad-400]}, receiver: pd-400, ${fast}}\n` +
      `    - {match: {agent: [gone-410]}, receiver: hook-410, ${fast}}\n` +
      `    - {match: {agent: [hang-bot]}, receiver: hook-hang, ${fast}, continue: true}\n` +
      `    - {match: {agent: [hang-bot, quiet-bot, inhibit-bot]}, receiver: slack, ${fast}}\n` +
      `    - {match: {agent: [repeat-bot]}, receiver: slack, ${fast}, repeat_interval: 1500ms}\n` +
      `    - {match: {severity: [critical]}, receiver: pager, ${fast}, continue: true}\n` +
      `    - {match: {agent: [billing-bot]}, receiver: hook, ${fast}, group_interval: 500ms}\n`;
    const inhibit =
      "inhibit_rules:\n  - {source: {kind: [rule], severity: [critical]}, target: {kind: [learned]}, equal: [agent], window: 1h}\n";
    const env: Record<string, string> = {
      VIGIL_DISPATCH_INTERVAL_SECONDS: "0.2",
      VIGIL_DELIVERY_TIMEOUT_SECONDS: "2",
      VIGIL_PUBLIC_URL: "https://vigil.example.test",
      VIGIL_DETECT_INTERVAL_SECONDS: "1",
    };
    if (placement === "bullmq") {
      redis = new PrivateRedis(await freePort());
      await redis.start();
      env.REDIS_URL = redis.url;
    }
    h = await startVigil(["billing-bot"], { extraYaml: extraYaml + inhibit, env });
  });

  afterAll(async () => {
    await h.stop();
    await redis?.stop();
    await Promise.all(Object.values(r).map((x) => x.stop()));
  });

  it("groups 20 alerts arriving over 10 s into one Slack message per group", async () => {
    for (let i = 0; i < 20; i++) {
      await insertAlerts(h.vigil.client, [alertOf(i % 2 === 0 ? "a-bot" : "b-bot")]);
      await new Promise((res) => setTimeout(res, 500));
    }
    const messages = await until("two Slack messages", () =>
      r.slack.received.length >= 2 ? r.slack.received : undefined,
    );
    // Slack's default rate: about one message a second per webhook.
    expect((messages[1] as Received).atMs - (messages[0] as Received).atMs).toBeGreaterThanOrEqual(900);
    // Nothing more arrives for these groups: one message each, with all ten alerts.
    expect(r.slack.received.filter((m) => /a-bot|b-bot/.test(JSON.stringify(m.body)))).toHaveLength(2);
    for (const m of messages) {
      expect(m.problems).toEqual([]);
      const text = JSON.stringify(m.body);
      expect(text).toContain("10 alert(s), 10 new");
      expect(text).toContain("https://vigil.example.test/sessions/");
      expect(text).toContain("cred-pg-billing"); // the credential to rotate
      expect(text).toContain("Please clean up the old invoices"); // the input that caused it
    }
  }, 40_000);

  it("pages PagerDuty and signs the webhook for a DROP TABLE sent through ingest, then resolves both on acknowledgement", async () => {
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        {
          traceId: randomBytes(16).toString("hex"),
          name: "drop",
          attrs: { "session.id": "drop-1", "db.query.text": "DROP TABLE invoices" },
        },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["billing-bot"]}` },
    });
    expect(res.status).toBe(200);
    const [trigger] = await until("a PagerDuty trigger", () =>
      r.pager.received.length > 0 ? r.pager.received : undefined,
    );
    expect(trigger?.problems).toEqual([]);
    expect(trigger?.body).toMatchObject({
      routing_key: routingKey,
      event_action: "trigger",
      payload: { severity: "critical", source: "vigil/billing-bot", class: "destructive_without_approval" },
      links: [{ href: "https://vigil.example.test/sessions/drop-1", text: "Session in the Vigil console" }, {}],
    });
    const [signed] = await until("a signed webhook", () => (r.hook.received.length > 0 ? r.hook.received : undefined));
    expect(signed?.problems).toEqual([]); // the schema and the standardwebhooks signature check
    expect(signed?.body).toMatchObject({ type: "alert_group.firing", group: { key: expect.any(String) } });
    const alertId = ((signed?.body.alerts as Array<{ id: string }>)[0] as { id: string }).id;

    // A reader cannot acknowledge; an admin can, and the group resolves with the same dedup key.
    expect((await apiCall(h, `/api/alerts/${alertId}/ack`, h.apiKeys.reader, { method: "POST" })).status).toBe(403);
    expect((await apiCall(h, "/api/alerts/nope/ack", h.apiKeys.admin, { method: "POST" })).status).toBe(404);
    const ack = await apiCall(h, `/api/alerts/${alertId}/ack`, h.apiKeys.admin, {
      method: "POST",
      body: { note: "restored from backup" },
    });
    expect(ack.status).toBe(201);
    expect(ack.body).toMatchObject({ author: "admin", note: "restored from backup" });
    const resolve = await until("a PagerDuty resolve", () =>
      r.pager.received.find((m) => m.body.event_action === "resolve"),
    );
    expect(resolve.problems).toEqual([]);
    expect(resolve.body.dedup_key).toBe(trigger?.body.dedup_key);
    const resolvedHook = await until("a resolved webhook", () =>
      r.hook.received.find((m) => m.body.type === "alert_group.resolved"),
    );
    expect(resolvedHook.problems).toEqual([]);
    expect((resolvedHook.body.group as { key: string }).key).toBe((signed?.body.group as { key: string }).key);
  });

  it("retries a 429 after its Retry-After, and a 500 until it succeeds; records every attempt", async () => {
    await insertAlerts(h.vigil.client, [alertOf("flaky-429"), alertOf("flaky-500")]);
    const pd = await until("two PagerDuty requests", () =>
      r.pdFlaky.received.length >= 2 ? r.pdFlaky.received : undefined,
    );
    expect((pd[1] as Received).atMs - (pd[0] as Received).atMs).toBeGreaterThanOrEqual(950);
    expect(pd[1]?.body.dedup_key).toBe(pd[0]?.body.dedup_key);
    await until("the 429 delivered", async () => ((await attemptsOf("pd-flaky")).length >= 2 ? true : undefined));
    expect((await attemptsOf("pd-flaky")).map((a) => [a.statusCode, a.outcome])).toEqual([
      [429, "retry"],
      [202, "delivered"],
    ]);
    await until("the 500 delivered", async () => ((await attemptsOf("hook-500")).length >= 2 ? true : undefined));
    const hooks = await attemptsOf("hook-500");
    expect(hooks.map((a) => [a.statusCode, a.outcome])).toEqual([
      [500, "retry"],
      [200, "delivered"],
    ]);
    // Standard Webhooks: the same message id on the retry.
    expect(r.hook500.received[1]?.headers["webhook-id"]).toBe(r.hook500.received[0]?.headers["webhook-id"]);
  });

  it("repeats an unresolved group after repeat_interval, and mutes learned alerts behind a critical rule alert", async () => {
    await insertAlerts(h.vigil.client, [alertOf("repeat-bot")]);
    const ofRepeat = () => r.slack.received.filter((m) => JSON.stringify(m.body).includes("repeat-bot"));
    const [first, again] = await until("a reminder", () => (ofRepeat().length >= 2 ? ofRepeat() : undefined));
    expect(JSON.stringify(first?.body)).toContain("1 alert(s), 1 new");
    expect(JSON.stringify(again?.body)).toContain("1 alert(s), 0 new");
    expect((again as Received).atMs - (first as Received).atMs).toBeGreaterThanOrEqual(1400);

    const before = h.vigil.delivery?.dispatcher.suppressed.inhibited ?? 0;
    await insertAlerts(h.vigil.client, [
      alertOf("inhibit-bot", { detector: "call_volume", severity: "medium", summary: "inhibit-bot volume spike" }),
      alertOf("inhibit-bot", {
        detector: "destructive_without_approval",
        severity: "critical",
        summary: "inhibit-bot dropped a table",
      }),
    ]);
    await until("the rule alert in Slack", () =>
      r.slack.received.find((m) => JSON.stringify(m.body).includes("inhibit-bot dropped a table")),
    );
    await until("the learned alert inhibited", () =>
      (h.vigil.delivery?.dispatcher.suppressed.inhibited ?? 0) > before ? true : undefined,
    );
    expect(r.slack.received.some((m) => JSON.stringify(m.body).includes("inhibit-bot volume spike"))).toBe(false);
  });

  it("gives up on a 400 at once, and disables a receiver that answers 410", async () => {
    await insertAlerts(h.vigil.client, [alertOf("bad-400"), alertOf("gone-410")]);
    const bad = await until("the 400 recorded", async () => (await attemptsOf("pd-400"))[0]);
    expect(bad).toMatchObject({ statusCode: 400, outcome: "failed" });
    expect(r.pd400.received).toHaveLength(1);
    const gone = await until("the 410 recorded", async () => (await attemptsOf("hook-410"))[0]);
    expect(gone).toMatchObject({ statusCode: 410, outcome: "disabled" });
    // A later notification for that receiver is not sent, and says why.
    await insertAlerts(h.vigil.client, [alertOf("gone-410", { detector: "new_tool" })]);
    const second = await until("the second 410 notification recorded", async () => (await attemptsOf("hook-410"))[1]);
    expect(second).toMatchObject({ statusCode: 0, outcome: "disabled" });
    expect(second.error).toContain("receiver disabled");
    expect(r.hook410.received).toHaveLength(1);
    const disabled = await apiCall(h, "/api/receivers/disabled", h.apiKeys.reader);
    expect(disabled.body).toMatchObject({ disabled: [{ name: "hook-410" }] });
    // Once fixed, an admin re-enables it.
    expect((await apiCall(h, "/api/receivers/hook-410/enable", h.apiKeys.admin, { method: "POST" })).status).toBe(200);
    expect((await apiCall(h, "/api/receivers/disabled", h.apiKeys.reader)).body).toEqual({ disabled: [] });
  });

  it("does not notify silenced alerts, and a hanging receiver holds up neither ingest nor the others", async () => {
    const silence = await apiCall(h, "/api/silences", h.apiKeys.admin, {
      method: "POST",
      body: { matchers: { agent: ["quiet-bot"] }, duration: "1h", reason: "planned migration" },
    });
    expect(silence.status).toBe(201);
    expect(
      (
        await apiCall(h, "/api/silences", h.apiKeys.admin, {
          method: "POST",
          body: { matchers: {}, reason: "x", duration: "1h" },
        })
      ).status,
    ).toBe(400);
    const before = h.vigil.delivery?.dispatcher.suppressed.silenced ?? 0;
    await insertAlerts(h.vigil.client, [alertOf("quiet-bot"), alertOf("hang-bot")]);
    await until("the silenced alert dropped", () =>
      (h.vigil.delivery?.dispatcher.suppressed.silenced ?? 0) > before ? true : undefined,
    );
    // The hanging webhook got its request and never answers; Slack still gets the alert.
    await until("the hanging receiver reached", () => (r.hookHang.received.length > 0 ? true : undefined));
    const slack = await until("the Slack copy", () =>
      r.slack.received.find((m) => JSON.stringify(m.body).includes("hang-bot")),
    );
    expect(slack.problems).toEqual([]);
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        { traceId: randomBytes(16).toString("hex"), name: "step", attrs: { "session.id": "during-hang" } },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["billing-bot"]}` },
    });
    expect(res.status).toBe(200);
    expect(r.slack.received.some((m) => JSON.stringify(m.body).includes("quiet-bot"))).toBe(false);
    // The hang ends in a timeout, recorded and retried.
    const timedOut = await until("the timeout recorded", async () => (await attemptsOf("hook-hang"))[0]);
    expect(timedOut).toMatchObject({ statusCode: 0, outcome: "retry" });
    expect(timedOut.error).toContain("no response within 2000 ms");
  });
});
