import { ATTR_VIGIL_APPROVAL_TOKEN } from "@vigil/common/attributes";
import { randomUUID } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import {
  actionDigestOf,
  actionAttributes,
  actionFacts,
  decide,
  renderAction,
  verifyApprovalToken,
} from "@vigil/approvals";
import type { Action, KnownActivity } from "@vigil/approvals";
import type { Logger } from "@vigil/common";
import type { VigilConfig } from "@vigil/config";
import type { SpanFacts } from "@vigil/facts";
import { redactSecrets } from "@vigil/secrets";
import { findDecision, seenPairs } from "@vigil/store";
import type { ClickHouseClient, Decision, DecisionLog, DecisionRow } from "@vigil/store";
import type { Authenticator, TokenIdentity } from "./auth";
import { markSelfReported } from "./pipeline";
import type { ApprovalCheck, PresentedApproval } from "./pipeline";

const ActionSchema = z.union([
  z.strictObject({
    db: z.strictObject({
      system: z.string().min(1).max(64),
      statement: z.string().min(1).max(100_000),
      credential_id: z.string().min(1).max(200).optional(),
    }),
  }),
  z.strictObject({ tool: z.strictObject({ name: z.string().min(1).max(200), arguments: z.unknown().optional() }) }),
  z.strictObject({
    http: z.strictObject({
      method: z.string().regex(/^[A-Za-z]{3,10}$/),
      url: z.url({ protocol: /^https?$/ }).max(8192),
      credential_id: z.string().min(1).max(200).optional(),
    }),
  }),
]);

const RequestSchema = z.strictObject({
  /** The agent's own words: what it is about to do and why. */
  description: z.string().min(1).max(4000),
  session_id: z.string().max(256).default(""),
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  action: ActionSchema,
});

function toAction(a: z.infer<typeof ActionSchema>): Action {
  if ("db" in a)
    return {
      kind: "db",
      system: a.db.system,
      statement: a.db.statement,
      ...(a.db.credential_id === undefined ? {} : { credentialId: a.db.credential_id }),
    };
  if ("tool" in a) return { kind: "tool", name: a.tool.name, arguments: a.tool.arguments ?? {} };
  return {
    kind: "http",
    method: a.http.method.toUpperCase(),
    url: a.http.url,
    ...(a.http.credential_id === undefined ? {} : { credentialId: a.http.credential_id }),
  };
}

export interface GateDeps {
  tokens: Authenticator;
  client: ClickHouseClient;
  config: VigilConfig;
  logger: Logger;
  /** Called with every request that waits for a human (Slack, the console's list). */
  onPending?: (decision: Decision) => void;
  /** The ledgered decision trail this process writes to. */
  log: DecisionLog;
  /** Where Vigil's own answers are recorded (group commit, into `log`); default one per app. */
  writer?: DecisionWriter;
  now?: () => number;
}

/**
 * Whether the agent used this host, ran this operation on these tables and used this
 * credential (toward this host) before, in any environment.
 */
async function knownActivity(client: ClickHouseClient, agentId: string, facts: SpanFacts): Promise<KnownActivity> {
  const { outboundHost: host, credentialId: credential } = facts;
  const pairs: Array<[string, string]> = [
    ...(host === "" ? [] : [["host", host] as [string, string]]),
    ...facts.dbTablesWritten.map((t) => ["table_operation", `${t}:${facts.dbOperation}`] as [string, string]),
    ...(credential === "" ? [] : [["credential", credential] as [string, string]]),
    ...(credential === "" || host === "" ? [] : [["credential_host", `${credential}@${host}`] as [string, string]]),
  ];
  const seen = await seenPairs(client, agentId, undefined, pairs);
  const values = (dimension: string) =>
    new Set([...seen].filter(([key]) => key.startsWith(`${dimension}\n`)).map(([, v]) => v.value));
  return {
    hosts: values("host"),
    tableOperations: values("table_operation"),
    credentials: values("credential"),
    credentialHosts: values("credential_host"),
  };
}

/** The triggers judged against the agent's history: only these need it read. */
const HISTORY_TRIGGERS = new Set(["new_host_write", "new_table_write", "new_credential_use"]);

/** What the agent gets back: the answer, why, and for an approval the token to attach. */
function answer(d: Decision, nowMs: number): Record<string, unknown> {
  return {
    decision_id: d.decisionId,
    decision: d.status === "allowed" || d.status === "approved" ? "allow" : d.status === "pending" ? "pending" : "deny",
    status: d.status,
    reasons: d.reasons,
    rendering: d.rendering,
    expires_at: new Date(d.expiresAtMs).toISOString(),
    ...(d.decidedBy === "" ? {} : { decided_by: d.decidedBy, justification: d.justification }),
    ...(d.token === "" ? {} : { approval_token: d.token, attach_as: ATTR_VIGIL_APPROVAL_TOKEN }),
    ...(d.status === "pending" ? { retry_after_ms: Math.min(5000, Math.max(0, d.expiresAtMs - nowMs)) } : {}),
  };
}

/**
 * The confirmation gate on the ingest listener, authenticated by the agent's token:
 * `POST /v1/decisions` asks before acting and is answered at once (allow, deny, or
 * pending with a request id); `GET /v1/decisions/{id}?wait=<s>` waits for a human's
 * answer (long poll, at most 30 s per call) and hands over the signed approval token.
 * An agent sees only its own requests.
 */
export function createGateApp(deps: GateDeps): Hono {
  const now = deps.now ?? Date.now;
  const agents = new Map(deps.config.agents.map((a) => [a.id, a]));
  const app = new Hono();
  const writer = deps.writer ?? new DecisionWriter(deps.log, deps.logger);
  const authenticate = (header: string | undefined): TokenIdentity | undefined => {
    const auth = deps.tokens.authenticate(header, now());
    return auth.ok ? auth.identity : undefined;
  };
  const unauthorized = {
    error: "unauthorized",
    message: "send the agent's ingest token: Authorization: Bearer <token>",
  };

  app.post(
    "/v1/decisions",
    bodyLimit({
      maxSize: 256 * 1024,
      onError: (c) => c.json({ error: "payload_too_large", message: "a decision request is at most 256 KiB" }, 413),
    }),
    async (c) => {
      const identity = authenticate(c.req.header("authorization"));
      if (identity === undefined) return c.json(unauthorized, 401);
      const parsed = RequestSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success)
        return c.json(
          {
            error: "bad_request",
            message: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
          },
          400,
        );
      const req = parsed.data;
      const action = toAction(req.action);
      const nowMs = now();
      const agent = agents.get(identity.agentId);
      const facts: SpanFacts = actionFacts(action, req.session_id);
      if (identity.environment !== undefined) facts.environment = identity.environment;
      // Triggers judged against the agent's history read it (one small aggregate query).
      const historyNeeded = agent?.approvals.require.some((r) => HISTORY_TRIGGERS.has(r));
      const known = historyNeeded === true ? await knownActivity(deps.client, identity.agentId, facts) : undefined;
      const verdict = decide(action, facts, agent, nowMs, known);
      const decisionId = randomUUID();
      const timeoutMs = (agent?.approvals.timeout_minutes ?? 15) * 60_000;
      const rendering = redactSecrets(renderAction(action, facts, req.session_id)).text;
      const row = {
        decisionId,
        atMs: nowMs,
        agentId: identity.agentId,
        sessionId: req.session_id,
        traceId: req.trace_id ?? "",
        actionKind: action.kind,
        actionDigest: actionDigestOf(actionAttributes(action, req.session_id)),
        rendering,
        description: redactSecrets(req.description).text,
        facts: redactSecrets(JSON.stringify(facts)).text,
        reasons: verdict.reasons,
        actor: "vigil",
        justification: "",
        expiresAtMs: nowMs + timeoutMs,
        token: "",
      };
      deps.logger.info("gate decision", {
        decisionId,
        agentId: identity.agentId,
        decision: verdict.decision,
        action: action.kind,
      });
      const decision: Decision = {
        ...row,
        facts: facts as unknown as Record<string, unknown>,
        requestedAtMs: nowMs,
        status: verdict.decision === "pending" ? "pending" : verdict.decision === "allow" ? "allowed" : "denied",
        decidedBy: verdict.decision === "pending" ? "" : "vigil",
        decidedAtMs: verdict.decision === "pending" ? 0 : nowMs,
      };
      if (verdict.decision !== "pending") {
        // Vigil's own answers are recorded behind the answer (in groups), so asking costs
        // the agent no store round trip; a pending request is stored before it is answered.
        writer.push({ ...row, event: "requested" }, { ...row, event: decision.status as "allowed", atMs: nowMs + 1 });
        return c.json(answer(decision, nowMs), 200);
      }
      await deps.log.write([{ ...row, event: "requested" }]);
      deps.onPending?.(decision);
      return c.json(answer(decision, nowMs), 202);
    },
  );

  app.get("/v1/decisions/:id", async (c) => {
    const identity = authenticate(c.req.header("authorization"));
    if (identity === undefined) return c.json(unauthorized, 401);
    const id = c.req.param("id");
    const waitS = Math.min(30, Math.max(0, Number(c.req.query("wait") ?? "0") || 0));
    const deadline = now() + waitS * 1000;
    for (;;) {
      const d = /^[0-9a-f-]{36}$/.test(id) ? await findDecision(deps.client, id, now()) : undefined;
      // Another agent's request is as unknown as a missing one.
      if (d === undefined || d.agentId !== identity.agentId)
        return c.json({ error: "not_found", message: `no decision ${id} for this agent` }, 404);
      if (d.status !== "pending" || now() >= deadline) return c.json(answer(d, now()));
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(10, deadline - now()))));
    }
  });

  app.all("/v1/decisions", (c) => c.text("use POST", 405, { allow: "POST" }));
  return app;
}

/**
 * Records Vigil's own gate answers in groups: one INSERT per interval for all answers
 * given meanwhile, retried until stored (held in memory up to a bound, then the oldest
 * are dropped with a warning: the gate keeps answering while the store is down).
 */
export class DecisionWriter {
  private queue: DecisionRow[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly log: DecisionLog,
    private readonly logger: Logger,
    intervalMs = 100,
    private readonly maxQueued = 100_000,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  push(...rows: DecisionRow[]): void {
    this.queue.push(...rows);
    if (this.queue.length > this.maxQueued) {
      const dropped = this.queue.length - this.maxQueued;
      this.queue.splice(0, dropped);
      this.logger.warn("gate answers not recorded: the store has not taken them for too long", { dropped });
    }
  }

  /** Stores what is queued (waits for a flush already under way first). */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      while (this.queue.length > 0) {
        const rows = this.queue;
        this.queue = [];
        try {
          await this.log.write(rows);
        } catch (err) {
          this.queue = [...rows, ...this.queue];
          this.logger.warn("gate answers not recorded yet; retrying", { rows: rows.length, error: String(err) });
          return;
        }
      }
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/**
 * Checks the approval tokens spans carry and records the result as the span's approval
 * facts: `verified` only for a token Vigil signed for this agent, session and exact
 * action, unexpired when the span arrived and not used before; anything else is kept as
 * `unverified:<why>`. A span that reports "verified" itself is marked self-reported.
 */
export class ApprovalVerifier implements ApprovalCheck {
  /** Decision ids already used: on which span, and until when that matters. */
  private readonly used = new Map<string, { span: string; until: number }>();

  /** @param key the public key, read when first needed (it may appear after ingest starts). */
  constructor(private readonly key: () => KeyObject | undefined) {}

  /** Marks decision ids used before this process started (read back from the store). */
  seed(uses: ReadonlyArray<{ decisionId: string; span: string }>, nowMs: number): void {
    for (const u of uses) this.used.set(u.decisionId, { span: u.span, until: nowMs + 24 * 3600_000 });
  }

  /**
   * @param presented the token a span carried and the digest of the action it runs, read
   *   from the span before redaction (which would rewrite both)
   * @param spanKey the span's trace and span id: the same span sent again (an exporter's
   *   retry) is the same use, another span with the same token is a replay
   */
  async check(
    presented: PresentedApproval | undefined,
    facts: SpanFacts,
    agentId: string,
    spanKey: string,
    atMs: number,
  ): Promise<void> {
    if (presented === undefined) {
      markSelfReported(facts);
      return;
    }
    const key = this.key();
    if (key === undefined) {
      facts.approvalStatus = "unverified:no approval key is configured";
      return;
    }
    const result = await verifyApprovalToken(presented.token, key, {
      agentId,
      sessionId: facts.sessionId,
      actionDigest: presented.actionDigest,
      atMs,
    });
    facts.approvalId = /^[0-9a-f-]{36}$/.test(result.decisionId) ? result.decisionId : "";
    if (!result.ok) {
      facts.approvalStatus = `unverified:${result.reason}`;
      return;
    }
    for (const [id, use] of this.used) if (use.until < atMs) this.used.delete(id);
    const earlier = this.used.get(result.decisionId);
    if (earlier !== undefined && earlier.span !== spanKey) {
      facts.approvalStatus = "unverified:already used";
      return;
    }
    this.used.set(result.decisionId, { span: spanKey, until: atMs + 24 * 3600_000 });
    facts.approvalStatus = "verified";
  }
}
