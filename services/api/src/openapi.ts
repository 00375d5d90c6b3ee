/**
 * The OpenAPI 3.1 description of the query API, served at /api/openapi.json. Written by
 * hand next to the routes; a test checks that every route the app serves is described
 * here and nothing else is. Request bodies are described by the JSON Schema of the zod
 * schemas the routes parse them with (@vigil/api-contract).
 */
import { z } from "zod";
import { REQUEST_BODIES } from "@vigil/api-contract";
type Op = { summary: string; admin?: boolean; params?: string[]; body?: string; responses?: Record<string, string> };

const q = (name: string, description: string) => ({
  name,
  in: "query",
  required: false,
  description,
  schema: { type: "string" },
});
const QUERY: Record<string, ReturnType<typeof q>> = {
  since: q("since", "ISO time or duration before now (15m, 1h, 7d)"),
  until: q("until", "ISO time or duration before now"),
  limit: q("limit", "page size"),
  cursor: q("cursor", "nextCursor of the previous page"),
  agent: q("agent", "agent id"),
  status: q("status", "pending, allowed, denied, approved or expired"),
  collapse: q("collapse", '"first-time": first-time-activity alerts as one row per agent and detector (firstTime)'),
  detector: q("detector", "detector name"),
  severity: q("severity", "info, low, medium, high, critical"),
  environment: q("environment", "deployment environment"),
  has_alerts: q("has_alerts", "true or false"),
  q: q("q", "text searched in inputs and span names"),
  receiver: q("receiver", "receiver name"),
  notification: q("notification", "notification id"),
  min_sessions: q("min_sessions", "sessions below which a use counts as rare (default 2)"),
  days: q("days", "window in days"),
  format: q("format", "yaml, sql or markdown instead of JSON"),
};

const PATHS: Record<string, Record<string, Op>> = {
  "/api/openapi.json": { get: { summary: "This document" } },
  "/api/verify": {
    get: {
      summary: "Recompute every batch against the ledger, the signed checkpoints and the witness file",
      admin: true,
    },
    post: {
      summary: "The same, also against checkpoints kept elsewhere",
      admin: true,
      body: '{"witnesses": [{"chainId": "...", "size": 42, "note": "..."}]}',
    },
  },
  "/api/ledger/key": { get: { summary: "The ledger's verifier key, to check checkpoints and proofs offline" } },
  "/api/checkpoints": { post: { summary: "Sign a checkpoint of the ledger head now", admin: true } },
  "/api/spans/{traceId}/{spanId}/proof": { get: { summary: "Inclusion proof of one span in the signed log" } },
  "/api/agents": {
    get: { summary: "Every agent declared or seen, with volume, environments and alerts of the last 24 h" },
  },
  "/api/agents/{id}": {
    get: { summary: "An agent's profile: baselines in words and numbers, tokens (names only), policy, recent alerts" },
  },
  "/api/agents/{id}/activity": {
    get: {
      summary:
        "The agent's actions in time order, each with the input that caused it and its alerts, its origin (agent or db-audit) and, where a database audit log covers it, observed: matched, unreported or discrepancy",
      params: ["since", "until", "limit", "cursor"],
    },
  },
  "/api/sessions": {
    get: {
      summary: "Sessions, newest first",
      params: ["agent", "environment", "since", "until", "has_alerts", "q", "limit", "cursor"],
    },
  },
  "/api/sessions/{id}": {
    get: {
      summary:
        "A session as a tree of steps with facts, inputs and outputs (redacted), approvals, alerts, each step's observed status, and the records the databases' audit logs kept meanwhile (database), each matched to the step that reported it or unreported",
    },
  },
  "/api/traces/{traceId}": { get: { summary: "A trace as a tree of steps" } },
  "/api/alerts": {
    get: {
      summary: "Alerts, newest raised first (since: raised since, not event time), paged by cursor",
      params: ["agent", "detector", "severity", "since", "cursor", "limit", "collapse"],
    },
  },
  "/api/alerts/{id}": { get: { summary: "One alert with its acknowledgement and delivery attempts" } },
  "/api/alerts/{id}/ack": {
    post: {
      summary: "Acknowledge an alert (its group resolves once all its alerts are)",
      admin: true,
      body: '{"note": "..."}',
    },
  },
  "/api/silences": {
    get: { summary: "Silences, with whether each is active" },
    post: {
      summary: "Create a silence",
      admin: true,
      body: '{"matchers": {"agent": ["..."]}, "duration": "2h" | "ends_at": "...", "reason": "..."}',
    },
  },
  "/api/silences/{id}": { delete: { summary: "Expire a silence now (adds a row; nothing is deleted)", admin: true } },
  "/api/deliveries": {
    get: { summary: "Delivery attempts, newest first", params: ["receiver", "notification", "limit"] },
  },
  "/api/receivers/disabled": { get: { summary: "Receivers disabled after a 410 Gone" } },
  "/api/receivers/{name}/enable": { post: { summary: "Re-enable a disabled receiver", admin: true } },
  "/api/baselines": { get: { summary: "The latest baseline snapshot of each agent", params: ["agent"] } },
  "/api/baselines/rebuild": { post: { summary: "Rebuild baselines now (200) or queue a rebuild (202)", admin: true } },
  "/api/agents/{id}/tokens": {
    post: {
      summary: "Create an ingest token for an agent (shown once; only its SHA-256 is stored)",
      admin: true,
      body: '{"name": "...", "expires": "90d", "environment": "production"}',
    },
  },
  "/api/tokens": {
    get: { summary: "Ingest tokens (config and API), without secrets", admin: true, params: ["agent"] },
  },
  "/api/tokens/{tokenId}": { delete: { summary: "Revoke a token created through the API", admin: true } },
  "/api/agents/{id}/permissions": {
    get: {
      summary:
        "What the agent used (rare uses with their sessions), the policy allowing exactly that, its diff with the declared one",
      params: ["environment", "since", "min_sessions", "format"],
    },
  },
  "/api/agents/{id}/grants": {
    post: {
      summary:
        "GRANT statements for a credential with only the observed table operations (and what current grants allow beyond)",
      params: ["format"],
      body: '{"credential": "...", "dialect": "postgresql" | "mysql" | "clickhouse", "database": "...", "current": "GRANT ..."}',
    },
  },
  "/api/agents/{id}/promotion": {
    get: { summary: "Promotion report and verdict for an agent in staging", params: ["environment", "days", "format"] },
  },
  "/api/decisions": {
    get: {
      summary: "Confirmation gate requests, newest first (pending ones wait for a person); tokens are never listed",
      params: ["status", "agent", "limit"],
    },
  },
  "/api/decisions/{id}": {
    get: { summary: "One gate request: the action as Vigil renders it, the agent's words, the answer" },
  },
  "/api/decisions/{id}/approve": {
    post: {
      summary: "Approve a pending request (approver or admin): Vigil signs a single-use token for exactly that action",
      body: '{"justification": "..."}',
    },
  },
  "/api/decisions/{id}/deny": {
    post: { summary: "Deny a pending request (approver or admin)", body: '{"justification": "..."}' },
  },
  "/api/sql": {
    post: {
      summary: "One read-only SELECT over Vigil's tables, with time, memory and row limits",
      body: '{"sql": "SELECT ..."}',
    },
  },
};

/** The JSON Schema of a route's body: what a client may send (input side: before defaults). */
function bodySchema(method: string, path: string): Record<string, unknown> {
  const schema = (REQUEST_BODIES as Record<string, z.ZodType | undefined>)[`${method} ${path}`];
  if (schema === undefined) return { type: "object" };
  const json: Record<string, unknown> = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  delete json.$schema; // the document's own dialect (OpenAPI 3.1 is JSON Schema 2020-12)
  return json;
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(PATHS)) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    paths[path] = Object.fromEntries(
      Object.entries(ops).map(([method, op]) => [
        method,
        {
          summary: op.summary,
          ...(op.admin === true ? { description: "Needs an API key with the admin role." } : {}),
          parameters: [...params, ...(op.params ?? []).map((p) => QUERY[p])],
          ...(op.body === undefined
            ? {}
            : {
                requestBody: {
                  required: true,
                  content: { "application/json": { schema: bodySchema(method, path), example: op.body } },
                },
              }),
          responses: {
            "200": { description: "OK (JSON)" },
            "400": { description: "Bad request: the message says what" },
            "401": { description: "No or unknown API key" },
            ...(op.admin === true ? { "403": { description: "The key has the reader role" } } : {}),
          },
        },
      ]),
    );
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Vigil query API",
      version: "1",
      description: "Every endpoint needs `Authorization: Bearer <API key>`.",
    },
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
    security: [{ apiKey: [] }],
    paths,
  };
}
