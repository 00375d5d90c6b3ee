import { describe, expect, it } from "vitest";
import { parseVigilConfig } from "@vigil/config";
import type { RouteConfig } from "@vigil/config";
import { resolveReceivers } from "./receivers";
import type { Alert, Silence } from "@vigil/store";
import { AlertGrouper } from "./grouping";
import { routeAlert } from "./routing";
import { labelsOf } from "./labels";
import { retryAfterMs } from "./send";
import { slackMessage } from "./formats/slack";

let n = 0;
function alert(over: Partial<Alert> = {}, atMs = 0): Alert {
  n++;
  return {
    alertId: `a${n}`,
    createdAtMs: atMs,
    eventTimeNs: String(BigInt(atMs) * 1_000_000n),
    detector: "new_table",
    severity: "high",
    score: 70,
    agentId: "billing-bot",
    environment: "production",
    sessionId: `s${n}`,
    traceId: "t",
    spanIds: ["x"],
    summary: "summary",
    explanation: "why",
    evidence: {},
    input: "",
    credentials: [],
    fingerprint: "f",
    ...over,
  };
}

const route: RouteConfig = {
  receiver: "slack",
  group_by: ["agent", "detector"],
  group_wait: "30s",
  group_interval: "5m",
  repeat_interval: "4h",
  routes: [
    { match: { severity: ["critical"] }, receiver: "pager", continue: true },
    { match: { agent: ["billing-bot"] }, receiver: "billing-webhook" },
  ],
};

describe("routing tree", () => {
  it("sends a critical billing alert to the pager and, by continue, to the billing webhook", () => {
    const routes = routeAlert(route, labelsOf(alert({ severity: "critical" })));
    expect(routes.map((r) => r.receiver)).toEqual(["pager", "billing-webhook"]);
    expect(routes[0]).toMatchObject({ groupWaitMs: 30_000, groupIntervalMs: 300_000, groupBy: ["agent", "detector"] });
  });
  it("falls back to the parent when no child matches", () => {
    expect(routeAlert(route, labelsOf(alert({ agentId: "other" }))).map((r) => r.receiver)).toEqual(["slack"]);
  });
});

describe("grouping", () => {
  const none = new Set<string>();
  it("turns 20 alerts in 10 s into one notification per group after group_wait", () => {
    const g = new AlertGrouper({ receiver: "slack", group_wait: "30s", group_interval: "5m" });
    for (let i = 0; i < 20; i++)
      g.add(alert({ detector: i % 2 === 0 ? "new_table" : "new_tool" }, i * 500), [], i * 500);
    expect(g.due(29_000, none)).toEqual([]);
    // Each group waits group_wait from its own first alert (new_tool's came at 0.5 s).
    const sent = [...g.due(30_000, none), ...g.due(30_500, none)];
    expect(sent).toHaveLength(2);
    expect(sent.map((s) => s.alertIds.length)).toEqual([10, 10]);
    expect(sent.every((s) => s.kind === "firing" && s.newAlertIds.length === 10)).toBe(true);
    expect(g.due(31_000, none)).toEqual([]);
  });

  it("sends new alerts at most every group_interval, repeats after repeat_interval, resolves on acknowledgement", () => {
    const g = new AlertGrouper({ receiver: "pd", group_wait: "10s", group_interval: "1m", repeat_interval: "1h" });
    const first = alert({}, 0);
    g.add(first, [], 0);
    const [n1] = g.due(10_000, none);
    const second = alert({}, 20_000);
    g.add(second, [], 20_000);
    expect(g.due(60_000, none)).toEqual([]);
    const [n2] = g.due(70_000, none);
    expect(n2?.newAlertIds).toEqual([second.alertId]);
    expect(n2?.alertIds).toEqual([first.alertId, second.alertId]);
    expect(n2?.dedupKey).toBe(n1?.dedupKey);
    expect(n2?.notificationId).not.toBe(n1?.notificationId);
    const [repeat] = g.due(70_000 + 3_600_000, none);
    expect(repeat).toMatchObject({ kind: "firing", newAlertIds: [] });
    // One acknowledged is not enough; both resolve the group.
    expect(g.due(70_000 + 3_600_001, new Set([first.alertId]))).toEqual([]);
    const [resolved] = g.due(70_000 + 3_600_002, new Set([first.alertId, second.alertId]));
    expect(resolved).toMatchObject({ kind: "resolved", dedupKey: n1?.dedupKey });
    expect(g.openAlertIds()).toEqual([]);
  });

  it("resolves a group resolve_timeout after its last alert when configured", () => {
    const g = new AlertGrouper({ receiver: "pd", group_wait: "1s", resolve_timeout: "10m" });
    g.add(alert({}, 0), [], 0);
    expect(g.due(1_000, none)).toHaveLength(1);
    expect(g.due(599_000, none)).toEqual([]);
    expect(g.due(600_000, none)[0]?.kind).toBe("resolved");
  });

  it("drops silenced alerts, and only while the silence lasts", () => {
    const g = new AlertGrouper({ receiver: "slack", group_wait: "1s" });
    const silence: Silence = {
      silenceId: "s",
      changedAtMs: 0,
      author: "alice",
      reason: "maintenance",
      matchers: { agent: ["billing-bot"] },
      startsAtMs: 0,
      endsAtMs: 60_000,
    };
    expect(g.add(alert({}, 1000), [silence], 1000)).toBe("silenced");
    expect(g.add(alert({ agentId: "other" }, 1000), [silence], 1000)).toBe("grouped");
    expect(g.add(alert({}, 61_000), [silence], 61_000)).toBe("grouped");
    expect(g.suppressed.silenced).toBe(1);
  });

  it("mutes statistical alerts of an agent while a critical rule alert of that agent is in the window", () => {
    const g = new AlertGrouper({ receiver: "slack", group_wait: "30s" }, [
      {
        source: { kind: ["rule"], severity: ["critical"] },
        target: { kind: ["learned"] },
        equal: ["agent"],
        window: "1h",
      },
    ]);
    g.add(alert({ detector: "call_volume", severity: "medium" }, 0), [], 0);
    g.add(alert({ detector: "off_hours", severity: "medium", agentId: "other" }, 0), [], 0);
    g.add(alert({ detector: "destructive_without_approval", severity: "critical" }, 5_000), [], 5_000);
    const sent = g.due(40_000, none);
    expect(sent.map((s) => s.groupLabels.detector).sort()).toEqual(["destructive_without_approval", "off_hours"]);
    expect(g.suppressed.inhibited).toBe(1);
  });

  it("rebuilds its groups from the stored notifications, neither repeating nor forgetting", () => {
    const g = new AlertGrouper({ receiver: "slack", group_wait: "1s", group_interval: "1m" });
    const a = alert({}, 0);
    g.add(a, [], 0);
    const sent = g.due(1_000, none);
    const restarted = new AlertGrouper({ receiver: "slack", group_wait: "1s", group_interval: "1m" });
    restarted.restore(
      sent,
      new Map([
        [`root\nslack`, routeAlert({ receiver: "slack", group_wait: "1s", group_interval: "1m" }, labelsOf(a))[0]!],
      ]),
    );
    expect(restarted.knows(a.alertId)).toBe(true);
    const b = alert({}, 2_000);
    restarted.add(b, [], 2_000);
    expect(restarted.due(30_000, none)).toEqual([]); // within group_interval of the stored notification
    const [next] = restarted.due(61_000, none);
    expect(next).toMatchObject({ dedupKey: sent[0]?.dedupKey, newAlertIds: [b.alertId] });
    expect(next?.notificationId).not.toBe(sent[0]?.notificationId);
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates", () => {
    expect(retryAfterMs("7")).toBe(7000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});

describe("receivers", () => {
  it("names the missing secret of a receiver at start-up", () => {
    const config = parseVigilConfig("receivers:\n  - name: slack\n    slack: {webhook_url: {env: SLACK_URL}}\n");
    expect(() => resolveReceivers(config.receivers, {})).toThrow(
      /receivers\.0\.slack\.webhook_url: environment variable SLACK_URL is not set/,
    );
    expect(resolveReceivers(config.receivers, { SLACK_URL: "https://hooks.slack.test/x" }).get("slack")).toMatchObject({
      type: "slack",
      ratePerSecond: 1,
    });
  });
});

describe("webhook secrets", () => {
  const config = parseVigilConfig(
    'receivers:\n  - name: hook\n    webhook: {url: "https://siem.example/in", secret: {env: HOOK_SECRET}}\n',
  );
  it.each([
    ["not a Standard Webhooks secret", "plain-password-123", /must start with "whsec_"/],
    ["empty after the prefix", "whsec_", /not base64/],
    ["not base64", "whsec_!!!not-base64!!!", /not base64/],
    ["too short a key", `whsec_${Buffer.alloc(16, 7).toString("base64")}`, /16 bytes; use at least 24/],
  ])("refuses one that is %s at start-up", (_what, secret, problem) => {
    expect(() => resolveReceivers(config.receivers, { HOOK_SECRET: secret })).toThrow(problem);
  });

  it("takes a whsec_ secret of 24 bytes or more", () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    expect(resolveReceivers(config.receivers, { HOOK_SECRET: secret }).get("hook")).toMatchObject({ secret });
  });
});

describe("Slack message from hostile span content", () => {
  it("escapes mentions, broadcasts and disguised links from an agent, keeping Vigil's own links", () => {
    const hostile = "<!channel> pay now <http://evil.example|https://vigil.internal/alerts> <@U123> & `x`";
    const a = alert({ summary: hostile, input: hostile, agentId: "bot<!here>", credentials: ["c`<!everyone>"] });
    const notification = {
      notificationId: "n1",
      createdAtMs: 0,
      receiver: "slack",
      route: "r",
      groupKey: "g",
      dedupKey: "d",
      kind: "firing" as const,
      alertIds: [a.alertId],
      newAlertIds: [a.alertId],
      groupLabels: { agent: "<!channel>" },
    };
    const message = slackMessage(notification, [a], "https://vigil.internal");
    const mrkdwnTexts: string[] = [message.text];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (typeof node === "object" && node !== null) {
        const o = node as Record<string, unknown>;
        if (o.type === "mrkdwn" && typeof o.text === "string") mrkdwnTexts.push(o.text);
        Object.values(o).forEach(collect);
      }
    };
    collect(message.blocks);
    expect(mrkdwnTexts.length).toBeGreaterThan(5);
    for (const text of mrkdwnTexts) {
      expect(text).not.toMatch(/<[!@]/);
      expect(text).not.toContain("<http://evil");
    }
    expect(mrkdwnTexts.join("\n")).toContain("&lt;!channel&gt; pay now");
    // Vigil's own console link is still a link.
    expect(mrkdwnTexts.join("\n")).toMatch(/<https:\/\/vigil\.internal\/[^|>]+\|Open the session>/);
  });
});
