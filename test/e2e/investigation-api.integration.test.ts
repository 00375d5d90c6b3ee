import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

let h: Harness;
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const OTHER_TRACE = "5bf92f3577b34da6a3ce929d0e0e4737";
const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
const ms = (n: number) => t0 + BigInt(n) * 1_000_000n;

beforeAll(async () => {
  h = await startVigil(["support-bot", "billing-bot"], { env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" } });
  const send = async (agent: string, body: string) => {
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens[agent]}` },
    });
    expect(res.status).toBe(200);
  };
  // A session: the ticket comes in, the model reads it, then a tool runs a DELETE with no approval.
  await send(
    "support-bot",
    jsonTraceRequest(
      [
        {
          traceId: TRACE,
          spanId: "00000000000000a1",
          name: "invoke_agent support-bot",
          startNs: ms(0),
          attrs: { "session.id": "ticket-42" },
        },
        {
          traceId: TRACE,
          spanId: "00000000000000a2",
          parentSpanId: "00000000000000a1",
          name: "chat",
          startNs: ms(10),
          attrs: {
            "session.id": "ticket-42",
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": "Ticket 42: our old customers table is a mess, please clean it all up",
          },
        },
        {
          traceId: TRACE,
          spanId: "00000000000000a3",
          parentSpanId: "00000000000000a1",
          name: "execute_tool run_sql",
          startNs: ms(20),
          attrs: {
            "session.id": "ticket-42",
            "gen_ai.tool.name": "run_sql",
            "db.system.name": "postgresql",
            "db.query.text": "DELETE FROM customers",
            "vigil.credential.id": "cred-pg-support",
            "gen_ai.tool.call.arguments": '{"sql":"DELETE FROM customers"}',
          },
        },
        {
          traceId: TRACE,
          spanId: "00000000000000a4",
          parentSpanId: "00000000000000a1",
          name: "execute_tool lookup",
          startNs: ms(30),
          attrs: { "session.id": "ticket-42", "gen_ai.tool.name": "lookup_ticket" },
        },
      ],
      { "deployment.environment.name": "production" },
    ),
  );
  await send(
    "billing-bot",
    jsonTraceRequest([
      {
        traceId: OTHER_TRACE,
        spanId: "00000000000000b1",
        name: "charge",
        startNs: ms(40),
        attrs: { "session.id": "invoice-7", "gen_ai.tool.name": "charge" },
      },
    ]),
  );
  await until("the DELETE alert", async () => {
    const { body } = await apiCall(h, "/api/alerts?agent=support-bot", h.apiKeys.reader);
    return (body as { alerts: unknown[] }).alerts.length > 0 ? true : undefined;
  });
});
afterAll(async () => {
  await h.stop();
});

describe("investigation API", () => {
  it("activity: each action in time order with the input that caused it and its alerts, a page at a time", async () => {
    const first = await apiCall(h, "/api/agents/support-bot/activity?since=1h&limit=1", h.apiKeys.reader);
    expect(first.status).toBe(200);
    const page1 = first.body as { actions: Array<Record<string, unknown>>; nextCursor: string | null };
    expect(page1.actions).toHaveLength(1);
    expect(page1.actions[0]).toMatchObject({
      spanId: "00000000000000a3",
      action: "tool run_sql, DELETE on customers, with credential cred-pg-support",
      cause: {
        spanId: "00000000000000a2",
        input: "Ticket 42: our old customers table is a mess, please clean it all up",
      },
      alerts: [{ detector: "destructive_without_approval", severity: "critical" }],
    });
    expect(page1.nextCursor).not.toBeNull();
    const second = await apiCall(
      h,
      `/api/agents/support-bot/activity?since=1h&limit=1&cursor=${page1.nextCursor}`,
      h.apiKeys.reader,
    );
    const page2 = second.body as { actions: Array<Record<string, unknown>>; nextCursor: string | null };
    expect(page2.actions.map((a) => a.spanId)).toEqual(["00000000000000a4"]);
    // Its cause is what the model was asked, not the nearer tool call's arguments.
    expect(page2.actions[0]?.cause).toMatchObject({ spanId: "00000000000000a2" });
    expect(page2.nextCursor).toBeNull();
    expect((await apiCall(h, "/api/agents/support-bot/activity?cursor=garbage", h.apiKeys.reader)).status).toBe(400);
    expect((await apiCall(h, "/api/agents/support-bot/activity?since=yesterday", h.apiKeys.reader)).status).toBe(400);
  });

  it("sessions: listed newest first with filters, and one session as a tree of steps with its alerts", async () => {
    const all = (await apiCall(h, "/api/sessions?since=1h", h.apiKeys.reader)).body as {
      sessions: Array<{ sessionId: string; alerts: number }>;
    };
    expect(all.sessions.map((s) => s.sessionId)).toEqual(["invoice-7", "ticket-42"]);
    const alerting = (await apiCall(h, "/api/sessions?since=1h&has_alerts=true", h.apiKeys.reader)).body as {
      sessions: Array<{ sessionId: string; alerts: number }>;
    };
    expect(alerting.sessions).toMatchObject([{ sessionId: "ticket-42", alerts: 1 }]);
    const text = (await apiCall(h, "/api/sessions?since=1h&q=CUSTOMERS%20TABLE", h.apiKeys.reader)).body as {
      sessions: Array<{ sessionId: string }>;
    };
    expect(text.sessions.map((s) => s.sessionId)).toEqual(["ticket-42"]);
    const env = (await apiCall(h, "/api/sessions?since=1h&environment=production", h.apiKeys.reader)).body as {
      sessions: Array<{ sessionId: string }>;
    };
    expect(env.sessions.map((s) => s.sessionId)).toEqual(["ticket-42"]);
    const paged = (await apiCall(h, "/api/sessions?since=1h&limit=1", h.apiKeys.reader)).body as {
      sessions: Array<{ sessionId: string }>;
      nextCursor: string;
    };
    const next = (await apiCall(h, `/api/sessions?since=1h&limit=1&cursor=${paged.nextCursor}`, h.apiKeys.reader))
      .body as { sessions: Array<{ sessionId: string }> };
    expect([...paged.sessions, ...next.sessions].map((s) => s.sessionId)).toEqual(["invoice-7", "ticket-42"]);

    const session = await apiCall(h, "/api/sessions/ticket-42", h.apiKeys.reader);
    expect(session.status).toBe(200);
    const s = session.body as {
      agents: string[];
      steps: Array<{
        spanId: string;
        children: Array<{ spanId: string; alerts: unknown[]; attributes: Record<string, unknown> }>;
      }>;
    };
    expect(s.agents).toEqual(["support-bot"]);
    expect(s.steps).toHaveLength(1);
    expect(s.steps[0]?.children.map((c) => c.spanId)).toEqual([
      "00000000000000a2",
      "00000000000000a3",
      "00000000000000a4",
    ]);
    expect(s.steps[0]?.children[1]?.alerts).toMatchObject([{ detector: "destructive_without_approval" }]);
    expect(s.steps[0]?.children[0]?.attributes).toHaveProperty("gen_ai.input.messages");
    expect((await apiCall(h, "/api/sessions/nope", h.apiKeys.reader)).status).toBe(404);
  });

  it("traces, single alerts with their acknowledgement and deliveries, agents and their profile", async () => {
    const trace = (await apiCall(h, `/api/traces/${TRACE}`, h.apiKeys.reader)).body as { spans: number };
    expect(trace.spans).toBe(4);
    expect((await apiCall(h, "/api/traces/xyz", h.apiKeys.reader)).status).toBe(400);
    expect((await apiCall(h, `/api/traces/${"0".repeat(32)}`, h.apiKeys.reader)).status).toBe(404);

    const { alerts } = (await apiCall(h, "/api/alerts?agent=support-bot", h.apiKeys.reader)).body as {
      alerts: Array<{ alertId: string }>;
    };
    const id = alerts[0]?.alertId as string;
    const one = (await apiCall(h, `/api/alerts/${id}`, h.apiKeys.reader)).body as Record<string, unknown>;
    expect(one).toMatchObject({ alert: { alertId: id }, acknowledged: null, deliveries: [] });
    await apiCall(h, `/api/alerts/${id}/ack`, h.apiKeys.admin, { method: "POST", body: { note: "restored" } });
    expect((await apiCall(h, `/api/alerts/${id}`, h.apiKeys.reader)).body).toMatchObject({
      acknowledged: { author: "admin", note: "restored" },
    });
    expect((await apiCall(h, "/api/alerts/nope", h.apiKeys.reader)).status).toBe(404);

    const agents = (await apiCall(h, "/api/agents", h.apiKeys.reader)).body as {
      agents: Array<{ id: string; spans: number; declared: boolean }>;
    };
    expect(agents.agents).toMatchObject([
      { id: "billing-bot", spans: 1, declared: true },
      { id: "support-bot", spans: 4, declared: true },
    ]);
    await apiCall(h, "/api/baselines/rebuild", h.apiKeys.admin, { method: "POST" });
    const profile = (await apiCall(h, "/api/agents/support-bot", h.apiKeys.reader)).body as {
      baselines: Array<{ description: string[]; dimensions: Record<string, unknown[]> }>;
      recentAlerts: unknown[];
    };
    expect(profile.baselines[0]?.description[0]).toMatch(
      /^support-bot has sent 4 spans in production since .*; its baseline is still learning/,
    );
    expect(profile.baselines[0]?.description.join("\n")).toContain("Tools (2): lookup_ticket 50%, run_sql 50%.");
    expect(profile.recentAlerts).toHaveLength(1);
    expect((await apiCall(h, "/api/agents/ghost", h.apiKeys.reader)).status).toBe(404);
  });

  it("every documented endpoint needs a key, and every admin one refuses a reader", async () => {
    const doc = (await apiCall(h, "/api/openapi.json", h.apiKeys.reader)).body as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    let admin = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace(/\{\w+\}/g, "x");
      for (const [method, op] of Object.entries(ops)) {
        const init = { method: method.toUpperCase(), ...(method === "get" || method === "delete" ? {} : { body: {} }) };
        expect((await apiCall(h, path, undefined, init)).status, `${method} ${path} without a key`).toBe(401);
        if (op.description?.includes("admin role") !== true) continue;
        admin++;
        expect((await apiCall(h, path, h.apiKeys.reader, init)).status, `${method} ${path} as a reader`).toBe(403);
      }
    }
    expect(admin).toBeGreaterThanOrEqual(9);
  });
});

describe("a session id two agents used", () => {
  it("names each step's agent, marks the session as shared, scopes with ?agent=, and shows another agent's approval as unverified", async () => {
    const send = (agent: string, attrs: Record<string, string>, n: number) =>
      fetch(h.ingestUrl, {
        method: "POST",
        body: jsonTraceRequest([{ traceId: (0xc0de00 + n).toString(16).padStart(32, "0"), attrs }]),
        headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens[agent]}` },
      }).then((r) => r.status);
    expect(await send("support-bot", { "session.id": "shared-1", "gen_ai.tool.name": "lookup" }, 1)).toBe(200);
    // The other agent slips an "approval" into the session.
    expect(
      await send(
        "billing-bot",
        { "session.id": "shared-1", "vigil.approval.id": "appr-x", "vigil.approval.status": "approved" },
        2,
      ),
    ).toBe(200);
    const whole = await until("both steps", async () => {
      const r = await apiCall(h, "/api/sessions/shared-1", h.apiKeys.reader);
      return (r.body as { spans?: number }).spans === 2 ? (r.body as Record<string, unknown>) : undefined;
    });
    expect(whole.sharedByAgents).toEqual(["billing-bot", "support-bot"]);
    expect(whole.approvals).toEqual([
      expect.objectContaining({ agentId: "billing-bot", status: "approved", verified: false }),
    ]);
    const mine = (await apiCall(h, "/api/sessions/shared-1?agent=support-bot", h.apiKeys.reader)).body as Record<
      string,
      unknown
    >;
    expect(mine).toMatchObject({ agents: ["support-bot"], spans: 1, approvals: [] });
    expect(mine.sharedByAgents).toEqual(["billing-bot", "support-bot"]);
  });
});
