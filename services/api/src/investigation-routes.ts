import { Hono } from "hono";
import { RequestError } from "@vigil/common";
import type { VigilConfig } from "@vigil/config";
import {
  acksOf,
  alertsByIds,
  causingInputs,
  findAgentActions,
  findAlerts,
  deliveriesOfAlert,
  findSession,
  findTrace,
  latestBaselines,
  listAgentSummaries,
  listSessions,
} from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import type { ApiEnv } from "./auth";
import { bad, decodeCursor, encodeCursor, ns, rangeOf } from "./params";
import { observedStatus, sessionDatabaseSide } from "./reported-vs-observed";
import { alertBrief, alertsBySpan, describeBaseline, isoOfNs, stepTree, stepView } from "./views";

/** Agents, their activity with the inputs that caused it, sessions, traces, single alerts. */
export function investigationRoutes(client: ClickHouseClient, config: VigilConfig): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();
  const declared = new Map(config.agents.map((a) => [a.id, a]));

  api.get("/agents", async (c) => {
    const seen = await listAgentSummaries(client);
    const ids = [...new Set([...declared.keys(), ...seen.map((s) => s.agentId)])].sort();
    return c.json({
      agents: ids.map((id) => {
        const envs = seen.filter((s) => s.agentId === id);
        return {
          id,
          declared: declared.has(id),
          spans: envs.reduce((a, e) => a + e.spans, 0),
          alerts24h: envs.reduce((a, e) => a + e.alerts24h, 0),
          lastSeen:
            envs.length === 0
              ? null
              : isoOfNs(
                  envs
                    .map((e) => e.lastSeenNs)
                    .sort()
                    .at(-1) as string,
                ),
          environments: envs.map((e) => ({
            environment: e.environment,
            spans: e.spans,
            firstSeen: isoOfNs(e.firstSeenNs),
            lastSeen: isoOfNs(e.lastSeenNs),
            alerts24h: e.alerts24h,
          })),
        };
      }),
    });
  });

  api.get("/agents/:id", async (c) => {
    const id = c.req.param("id");
    const [baselines, alerts] = await Promise.all([
      latestBaselines(client, id),
      findAlerts(client, { agentId: id, limit: 20 }),
    ]);
    const agent = declared.get(id);
    if (agent === undefined && baselines.length === 0 && alerts.length === 0)
      throw new RequestError(404, "not_found", `no agent ${id} is declared or has sent spans`);
    return c.json({
      id,
      declared: agent !== undefined,
      timezone: agent?.timezone ?? "UTC",
      policy: agent?.policy ?? null,
      tokens: (agent?.tokens ?? []).map((t) => ({
        name: t.name ?? null,
        expires: t.expires ?? null,
        environment: t.environment ?? null,
      })),
      baselines: baselines.map((b) => ({ ...b, description: describeBaseline(b) })),
      recentAlerts: alerts,
    });
  });

  // What the agent did, in time order, each action with the input that caused it and its alerts.
  api.get("/agents/:id/activity", async (c) => {
    const agentId = c.req.param("id");
    const q = c.req.query();
    const range = rangeOf(q, { since: "1h", limit: 200, maxLimit: 1000 });
    if (typeof range === "string") return bad(c, range);
    const cursor = decodeCursor(q.cursor, ["startNs", "spanId"]);
    if (cursor === null) return bad(c, "cursor is not one this API returned");
    const actions = await findAgentActions(client, agentId, {
      fromNs: ns(range.fromMs),
      toNs: ns(range.toMs),
      after: cursor === undefined ? undefined : { startNs: cursor.startNs as string, spanId: cursor.spanId as string },
      limit: range.limit + 1,
    });
    const page = actions.slice(0, range.limit);
    const [causes, alerts] = await Promise.all([
      causingInputs(client, agentId, page),
      page.length === 0 ? [] : findAlerts(client, { agentId, sinceMs: range.fromMs - 1, limit: 1000 }),
    ]);
    const bySpan = alertsBySpan(alerts);
    const observed = await observedStatus(client, config, agentId, page);
    const last = page.at(-1);
    return c.json({
      agentId,
      since: new Date(range.fromMs).toISOString(),
      actions: page.map((s) => ({
        ...stepView(s, false),
        origin: s.origin,
        observed: observed.get(s.spanId) ?? null,
        cause: causes.get(s.spanId) ?? null,
        alerts: (bySpan.get(s.spanId) ?? []).map(alertBrief),
      })),
      nextCursor:
        actions.length > range.limit && last !== undefined
          ? encodeCursor({ startNs: last.startTimeUnixNano, spanId: last.spanId })
          : null,
    });
  });

  api.get("/sessions", async (c) => {
    const q = c.req.query();
    const range = rangeOf(q, { since: "24h", limit: 50, maxLimit: 500 });
    if (typeof range === "string") return bad(c, range);
    if (q.has_alerts !== undefined && q.has_alerts !== "true" && q.has_alerts !== "false")
      return bad(c, "has_alerts must be true or false");
    const cursor = decodeCursor(q.cursor, ["startNs", "sessionId"]);
    if (cursor === null) return bad(c, "cursor is not one this API returned");
    const rows = await listSessions(client, {
      agentId: q.agent,
      environment: q.environment,
      fromNs: ns(range.fromMs),
      toNs: ns(range.toMs),
      hasAlerts: q.has_alerts === undefined ? undefined : q.has_alerts === "true",
      text: q.q === undefined || q.q.trim() === "" ? undefined : q.q.trim(),
      before:
        cursor === undefined ? undefined : { startNs: cursor.startNs as string, sessionId: cursor.sessionId as string },
      limit: range.limit + 1,
    });
    const page = rows.slice(0, range.limit);
    const last = page.at(-1);
    return c.json({
      sessions: page.map((s) => ({ ...s, start: isoOfNs(s.startNs), end: isoOfNs(s.endNs) })),
      nextCursor:
        rows.length > range.limit && last !== undefined
          ? encodeCursor({ startNs: last.startNs, sessionId: last.sessionId })
          : null,
    });
  });

  // A session as a tree of steps with facts, inputs and outputs (redacted), approvals and alerts.
  api.get("/sessions/:id", async (c) => {
    const id = c.req.param("id");
    // Session ids are the agents' to choose, so another agent can send steps under the
    // same id: every step names its agent, a shared id is marked, and ?agent= scopes it.
    const only = c.req.query("agent");
    const all = await findSession(client, id);
    const spans = only === undefined ? all : all.filter((s) => s.agentId === only);
    if (spans.length === 0) throw new RequestError(404, "not_found", `no session ${id}`);
    const agents = [...new Set(spans.map((s) => s.agentId))];
    const sharedBy = [...new Set(all.map((s) => s.agentId))].sort();
    const alerts = (await Promise.all(agents.map((a) => findAlerts(client, { agentId: a, limit: 1000 }))))
      .flat()
      .filter((a) => a.sessionId === id);
    const startNs = spans[0]?.startTimeUnixNano as string;
    const endNs = spans
      .map((s) => s.endTimeUnixNano)
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .at(-1) as string;
    // What the databases logged under each agent's users while the session ran, beside its steps.
    const database = await sessionDatabaseSide(client, config, spans);
    return c.json({
      sessionId: id,
      agents,
      ...(sharedBy.length > 1
        ? {
            sharedByAgents: sharedBy,
            note: `${sharedBy.length} agents sent steps under this session id; each step names its agent (scope with ?agent=)`,
          }
        : {}),
      start: isoOfNs(startNs),
      end: isoOfNs(endNs),
      spans: spans.length,
      approvals: spans
        .filter((s) => s.facts.approvalStatus !== "")
        .map((s) => ({
          agentId: s.agentId,
          spanId: s.spanId,
          approvalId: s.facts.approvalId,
          status: s.facts.approvalStatus,
          // Only a token Vigil signed, checked at ingest, is an approval; the rest is what the agent said.
          verified: s.facts.approvalStatus === "verified",
          at: isoOfNs(s.startTimeUnixNano),
        })),
      alerts,
      steps: stepTree(spans, alertsBySpan(alerts), database.observed),
      // Records of concurrent sessions of the same database user fall in the same time: a
      // matched record names the step (and session) that reported it.
      database: database.records,
    });
  });

  api.get("/traces/:traceId", async (c) => {
    const traceId = c.req.param("traceId").toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(traceId)) return bad(c, "a trace id is 32 hex characters");
    const spans = await findTrace(client, traceId);
    if (spans.length === 0) throw new RequestError(404, "not_found", `no trace ${traceId}`);
    return c.json({ traceId, spans: spans.length, steps: stepTree(spans, new Map()) });
  });

  api.get("/alerts/:id", async (c) => {
    const id = c.req.param("id");
    const [alert] = await alertsByIds(client, [id]);
    if (alert === undefined) throw new RequestError(404, "not_found", `no alert ${id}`);
    const [acks, deliveries] = await Promise.all([acksOf(client, [id]), deliveriesOfAlert(client, id)]);
    return c.json({ alert, acknowledged: acks.get(id) ?? null, deliveries });
  });

  return api;
}
