import { createHmac, timingSafeEqual } from "node:crypto";
import { RequestError } from "@vigil/common";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { signApprovalToken } from "@vigil/approvals";
import type { Logger } from "@vigil/common";
import { findDecision, listDecisions } from "@vigil/store";
import type { ClickHouseClient, Decision, DecisionLog, DecisionStatus, SigningKey } from "@vigil/store";
import { DecisionAnswer } from "@vigil/api-contract";
import { requireApprover } from "./auth";
import { jsonBody } from "./params";
import type { ApiEnv } from "./auth";

/** What the API shows of a decision: everything but the token, which is the agent's alone. */
export function decisionJson(d: Decision): Record<string, unknown> {
  const rest: Partial<Decision> = { ...d };
  delete rest.token;
  return {
    ...rest,
    requestedAt: new Date(d.requestedAtMs).toISOString(),
    expiresAt: new Date(d.expiresAtMs).toISOString(),
    decidedAt: d.decidedAtMs === 0 ? null : new Date(d.decidedAtMs).toISOString(),
  };
}

export type DecideOutcome = { ok: true; decision: Decision } | { ok: false; status: 404 | 409; message: string };

/**
 * A person's answer to a pending request: stored as the decision's answer, and for an
 * approval with a token signed by Vigil, bound to the agent, session and exact action,
 * valid until the request would have expired. The first answer is final: a request
 * already answered (or expired) is not changed.
 */
export async function decideRequest(
  client: ClickHouseClient,
  log: () => Promise<DecisionLog>,
  key: SigningKey | undefined,
  decisionId: string,
  verdict: "approved" | "denied",
  actor: string,
  justification: string,
  nowMs = Date.now(),
): Promise<DecideOutcome> {
  const d = /^[0-9a-f-]{36}$/.test(decisionId) ? await findDecision(client, decisionId, nowMs) : undefined;
  if (d === undefined) return { ok: false, status: 404, message: `no decision ${decisionId}` };
  if (d.status !== "pending")
    return {
      ok: false,
      status: 409,
      message: `decision ${decisionId} is already ${d.status}; the first answer is final`,
    };
  if (verdict === "approved" && key === undefined)
    return { ok: false, status: 409, message: "no approval signing key is configured, so no approval can be issued" };
  const token =
    verdict === "approved" && key !== undefined
      ? await signApprovalToken(
          {
            agentId: d.agentId,
            sessionId: d.sessionId,
            actionDigest: d.actionDigest,
            decisionId: d.decisionId,
            expiresAtMs: d.expiresAtMs,
          },
          key.privateKey,
          nowMs,
        )
      : "";
  await (
    await log()
  ).write([
    {
      decisionId: d.decisionId,
      event: verdict,
      atMs: nowMs,
      agentId: d.agentId,
      sessionId: d.sessionId,
      traceId: d.traceId,
      actionKind: d.actionKind,
      actionDigest: d.actionDigest,
      rendering: d.rendering,
      description: d.description,
      facts: JSON.stringify(d.facts),
      reasons: d.reasons,
      actor,
      justification: justification.slice(0, 2000),
      expiresAtMs: d.expiresAtMs,
      token,
    },
  ]);
  // Two people answering at once: whoever's row is first in the store decided.
  const after = await findDecision(client, decisionId, nowMs);
  if (after === undefined || after.decidedBy !== actor || after.status !== verdict)
    return { ok: false, status: 409, message: `decision ${decisionId} was answered by someone else first` };
  return { ok: true, decision: after };
}

const STATUSES = new Set<DecisionStatus>(["pending", "allowed", "denied", "approved", "expired"]);

/** The approval requests, for the console, the CLI and scripts; deciding needs approver or admin. */
export function decisionRoutes(
  client: ClickHouseClient,
  log: () => Promise<DecisionLog>,
  key: () => SigningKey | undefined,
): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();
  api.get("/decisions", async (c) => {
    const status = c.req.query("status");
    if (status !== undefined && !STATUSES.has(status as DecisionStatus))
      throw new RequestError(400, "bad_request", `status must be one of ${[...STATUSES].join(", ")}`);
    const agent = c.req.query("agent");
    const limit = Math.min(500, Math.max(1, Number(c.req.query("limit") ?? "100") || 100));
    const list = await listDecisions(client, {
      ...(status === undefined ? {} : { status: status as DecisionStatus }),
      ...(agent === undefined ? {} : { agentId: agent }),
      limit,
    });
    return c.json({ decisions: list.map(decisionJson) });
  });
  api.get("/decisions/:id", async (c) => {
    const d = await findDecision(client, c.req.param("id"));
    if (d === undefined) throw new RequestError(404, "not_found", `no decision ${c.req.param("id")}`);
    return c.json(decisionJson(d));
  });
  for (const [path, verdict] of [
    ["/decisions/:id/approve", "approved"],
    ["/decisions/:id/deny", "denied"],
  ] as const) {
    api.post(path, requireApprover, async (c) => {
      const { justification } = await jsonBody(c, DecisionAnswer, { empty: { justification: "" } });
      const outcome = await decideRequest(
        client,
        log,
        key(),
        c.req.param("id"),
        verdict,
        c.get("caller").name,
        justification,
      );
      if (!outcome.ok)
        throw new RequestError(outcome.status, outcome.status === 404 ? "not_found" : "conflict", outcome.message);
      return c.json(decisionJson(outcome.decision));
    });
  }
  return api;
}

/** Slack's request signature: v0=hex(HMAC-SHA256(signing secret, "v0:{timestamp}:{body}")), within 5 minutes. */
export function slackSignatureValid(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string,
  nowMs = Date.now(),
): boolean {
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Slack interactivity (api.slack.com/interactivity/handling): the Approve and Deny
 * buttons of an approval request post here. Every request must carry a valid Slack
 * signature made with the app's signing secret and a fresh timestamp; the approver is
 * the Slack user who clicked (limited to `approvals.slack_approvers` when set).
 */
export function slackInteractivityRoutes(deps: {
  client: ClickHouseClient;
  log: () => Promise<DecisionLog>;
  key: () => SigningKey | undefined;
  signingSecret: string | undefined;
  approvers: readonly string[];
  logger: Logger;
}): Hono {
  const app = new Hono();
  app.post(
    "/slack/interactivity",
    bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("payload too large", 413) }),
    async (c) => {
      if (deps.signingSecret === undefined) return c.text("Slack interactivity is not configured", 404);
      const raw = await c.req.text();
      if (
        !slackSignatureValid(
          deps.signingSecret,
          c.req.header("x-slack-request-timestamp"),
          c.req.header("x-slack-signature"),
          raw,
        )
      )
        return c.text("invalid Slack signature or stale timestamp", 401);
      let payload: {
        type?: string;
        user?: { id?: string; username?: string; name?: string };
        actions?: Array<{ action_id?: string; value?: string }>;
        response_url?: string;
      };
      try {
        payload = JSON.parse(new URLSearchParams(raw).get("payload") ?? "") as typeof payload;
      } catch {
        return c.text("no interactivity payload", 400);
      }
      const action = payload.actions?.[0];
      const userId = payload.user?.id ?? "";
      if (payload.type !== "block_actions" || action === undefined) return c.text("ignored", 200);
      if (deps.approvers.length > 0 && !deps.approvers.includes(userId))
        return c.json({ response_type: "ephemeral", text: "You are not one of the approvers Vigil accepts." });
      const verdict =
        action.action_id === "vigil_approve" ? "approved" : action.action_id === "vigil_deny" ? "denied" : undefined;
      if (verdict === undefined) return c.text("ignored", 200);
      const actor = `slack:${payload.user?.username ?? payload.user?.name ?? userId} (${userId})`;
      const outcome = await decideRequest(
        deps.client,
        deps.log,
        deps.key(),
        action.value ?? "",
        verdict,
        actor,
        `${verdict === "approved" ? "Approved" : "Denied"} in Slack`,
      );
      deps.logger.info("slack decision", { decisionId: action.value, verdict, actor, ok: outcome.ok });
      const text = outcome.ok
        ? `${verdict === "approved" ? "Approved" : "Denied"} by ${actor}: ${outcome.decision.rendering}`
        : outcome.message;
      return c.json({ replace_original: outcome.ok, text });
    },
  );
  return app;
}
