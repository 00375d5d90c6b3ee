import { Hono } from "hono";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { requestId } from "hono/request-id";
import type { JobBus } from "@vigil/jobs";
import { RequestError, createLogger } from "@vigil/common";
import type { Logger } from "@vigil/common";
import type { KeyObject } from "node:crypto";
import type { VigilConfig } from "@vigil/config";
import {
  DecisionLog,
  ProofUnavailableError,
  buildSpanProof,
  countAlertsByAgentAndDetector,
  findAlerts,
  latestBaselines,
  verifierKey,
  verifyStore,
  readWitnessCheckpoints,
} from "@vigil/store";
import type { Severity } from "@vigil/store";
import type { Checkpointer, ClickHouseClient, SigningKey, StoredCheckpoint } from "@vigil/store";
import { FIRST_TIME_DETECTORS } from "@vigil/alerting";
import { apiKeyRegistry, requireAdmin, requireApiKey } from "./auth";
import type { ApiEnv } from "./auth";
import { advisorRoutes } from "./advisor-routes";
import { alertingRoutes } from "./alerting-routes";
import { consoleApp } from "./console/pages";
import { decisionRoutes, slackInteractivityRoutes } from "./decision-routes";
import { investigationRoutes } from "./investigation-routes";
import { openApiDocument } from "./openapi";
import { jsonBody, parseSince } from "./params";
import { SqlRequest, VerifyRequest } from "@vigil/api-contract";
import { SqlGate, runReadOnlySql } from "./sql";
import { tokenRoutes } from "./token-routes";
import { DEFAULT_SQL_LIMITS } from "./sql";
import type { SqlLimits } from "./sql";

export interface ApiDeps {
  client: ClickHouseClient;
  config: VigilConfig;
  /** The ledger's public key, to check checkpoint signatures. */
  ledgerKey?: { name: string; publicKey: KeyObject } | undefined;
  /** Signs approval tokens when a person approves a gate request (the confirmation gate). */
  approvalKey?: SigningKey | undefined;
  /** Present when this process also signs checkpoints (all-in-one). */
  checkpointer?: Checkpointer;
  sqlLimits?: SqlLimits;
  /** Slack's signing secret for the Approve / Deny buttons (`approvals.slack_signing_secret`, resolved). */
  slackSigningSecret?: string | undefined;
  /** The store identity reader SQL runs as (server mode: one that can only SELECT the readable tables). */
  sqlClient?: ClickHouseClient;
  /** The checkpoint witness file, checked by every verification as well as the stored checkpoints. */
  witnessFile?: string;
  /** Embedded: resolves when ingest has no write waiting (reader SQL yields to writes). */
  writesFirst?: () => Promise<void>;
  logger?: Logger;
  /** Rebuilds baselines now (in-process) or queues a rebuild (BullMQ): the job bus. */
  baselines?: BaselineRebuilder;
  /**
   * Where people's answers to gate requests are recorded (ledgered): the all-in-one's
   * ingest's. Unset, the API opens its own chain, `decisions@api-<host>`, when first needed.
   */
  decisionLog?: DecisionLog;
  /** This machine's name (Environment.hostName): the API's own decision chain is `decisions@api-<host>`. */
  hostName: string;
}

/** How the API asks for a baseline rebuild, wherever the worker runs (the job bus's side of it). */
export type BaselineRebuilder = Pick<JobBus, "requestBaselines">;

/** The largest JSON body an API route takes (SQL statements, token and silence requests). */
export const API_BODY_LIMIT = 1024 * 1024;
/** The largest body a console form takes (sign-in, acknowledgements). */
export const FORM_BODY_LIMIT = 16 * 1024;

/**
 * The query API. Health and readiness are open; everything under /api needs an API key.
 */
export function createApiApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  let opening: Promise<DecisionLog> | undefined;
  const decisionLog = (): Promise<DecisionLog> => {
    if (deps.decisionLog !== undefined) return Promise.resolve(deps.decisionLog);
    // Opened once; a failure (the store down) is not remembered, the next answer tries again.
    opening ??= DecisionLog.open(deps.client, `api-${deps.hostName}`, (err) =>
      deps.logger?.warn("a decision batch is stored but not ledgered yet", { error: String(err) }),
    ).catch((err: unknown) => {
      opening = undefined;
      throw err;
    });
    return opening;
  };
  app.use("*", requestId());
  // Every response: no framing, no sniffing, no referrer, not cached; pages may load
  // nothing from elsewhere and run no script at all (the console has none).
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      xFrameOptions: "DENY",
      referrerPolicy: "no-referrer",
      crossOriginResourcePolicy: "same-origin",
    }),
  );
  app.use("*", async (c, next) => {
    await next();
    c.header("cache-control", "no-store");
  });
  // Refusals are thrown as RequestError and answered here; an unexpected failure is
  // logged with its request id, and the caller gets the id, not the stack.
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse(); // a deliberate refusal (CSRF origin check)
    // A refusal decided by a route: its status, code and message, the API's one error shape.
    if (err instanceof RequestError) return c.json({ error: err.code, message: err.message }, err.status as 400);
    deps.logger?.error("api request failed", { requestId: c.get("requestId"), path: c.req.path, error: err });
    return c.json({ error: "internal", message: "the request failed", requestId: c.get("requestId") }, 500);
  });
  // Bodies are bounded before anything reads them (an unauthenticated 400 MB POST /login
  // once took the process from 0.44 to 2.49 GB): console forms are small, API JSON
  // modest. bodyLimit refuses a declared Content-Length at once and stops reading a
  // stream that passes the bound.
  const tooLarge = (limit: number) => (c: Context<ApiEnv>) =>
    c.json({ error: "payload_too_large", message: `the request body exceeds ${limit} bytes` }, 413);
  app.use("/api/*", bodyLimit({ maxSize: API_BODY_LIMIT, onError: tooLarge(API_BODY_LIMIT) }));
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/api/")) return next();
    return bodyLimit({ maxSize: FORM_BODY_LIMIT, onError: tooLarge(FORM_BODY_LIMIT) })(c, next);
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const ping = await deps.client.ping();
    if (!ping.success) return c.json({ ready: false, reason: "the store does not answer" }, 503);
    return c.json({ ready: true });
  });

  const api = new Hono<ApiEnv>();
  const keys = apiKeyRegistry(deps.config);
  const sqlGate = new SqlGate((deps.sqlLimits ?? DEFAULT_SQL_LIMITS).maxQueued, 1, deps.writesFirst);
  api.use("*", requireApiKey(keys));

  // Integrity: recompute every batch from the stored rows against the ledger and checkpoints.
  // Admin only: a full re-verification reads the whole store, so a reader key must not be
  // able to start one at will.
  const verify = (extra: readonly StoredCheckpoint[]) =>
    verifyStore(deps.client, deps.ledgerKey, {
      spansRetentionDays: deps.config.retention.spans,
      witnesses: [...(deps.witnessFile === undefined ? [] : readWitnessCheckpoints(deps.witnessFile)), ...extra],
    });
  api.get("/verify", requireAdmin, async (c) => c.json(await verify([])));
  // The same, also against checkpoints the caller kept elsewhere (`vigil verify --witness`).
  api.post("/verify", requireAdmin, async (c) => {
    const { witnesses } = await jsonBody(c, VerifyRequest);
    return c.json(await verify(witnesses));
  });

  // The public key (verifier key string) to check checkpoints and proofs offline.
  api.get("/ledger/key", (c) => {
    if (deps.ledgerKey === undefined) throw new RequestError(404, "not_found", "no ledger key is configured");
    return c.json({
      name: deps.ledgerKey.name,
      verifierKey: verifierKey(deps.ledgerKey.name, deps.ledgerKey.publicKey),
    });
  });

  api.post("/checkpoints", requireAdmin, async (c) => {
    if (deps.checkpointer === undefined)
      throw new RequestError(409, "unavailable", "checkpoints are signed by the ingest service");
    return c.json(await deps.checkpointer.checkpoint(), 201);
  });

  api.get("/spans/:traceId/:spanId/proof", async (c) => {
    const { traceId, spanId } = c.req.param();
    try {
      // In the all-in-one a fresh checkpoint can cover the newest batches at once.
      await deps.checkpointer?.checkpointIfGrown();
      return c.json(await buildSpanProof(deps.client, traceId.toLowerCase(), spanId.toLowerCase()));
    } catch (err) {
      if (err instanceof ProofUnavailableError) throw new RequestError(404, "not_found", err.message);
      throw err;
    }
  });

  // Alerts, newest first. Filters: agent, detector, severity, since (ISO time or 15m/1h/7d), limit.
  api.get("/alerts", async (c) => {
    const q = c.req.query();
    const severities = ["info", "low", "medium", "high", "critical"] as const;
    if (q.severity !== undefined && !severities.includes(q.severity as Severity)) {
      throw new RequestError(400, "bad_request", `severity must be one of ${severities.join(", ")}`);
    }
    const sinceMs = q.since === undefined ? undefined : parseSince(q.since, Date.now());
    if (sinceMs === null)
      throw new RequestError(400, "bad_request", "since must be an ISO time or a duration like 15m, 1h, 7d");
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new RequestError(400, "bad_request", "limit must be 1-1000");
    // `cursor` pages back: the `nextCursor` of the previous page ("<createdAtMs>:<alertId>").
    const cursor = q.cursor === undefined ? undefined : /^(\d{1,15}):([0-9a-f]{32})$/.exec(q.cursor);
    if (cursor === null)
      throw new RequestError(400, "bad_request", "cursor must be the nextCursor of the previous page");
    const raisedBefore =
      cursor === undefined ? undefined : { createdAtMs: Number(cursor[1]), alertId: cursor[2] as string };
    // Newest raised first, and `since` by when Vigil raised the alert: an agent states its
    // spans' times, so event times could hide an alert in the past or flood the top.
    // collapse=first-time: first-time-activity alerts as one row per agent and detector
    // (`firstTime`), the rest listed; a flood of novelty cannot push a rule's alert away.
    const collapse = q.collapse === "first-time";
    if (q.collapse !== undefined && !collapse)
      throw new RequestError(400, "bad_request", 'collapse takes one value: "first-time"');
    const alerts = await findAlerts(deps.client, {
      ...(q.agent === undefined ? {} : { agentId: q.agent }),
      ...(q.detector === undefined ? {} : { detector: q.detector }),
      ...(q.severity === undefined ? {} : { severity: q.severity as Severity }),
      ...(sinceMs === undefined ? {} : { raisedSinceMs: sinceMs }),
      ...(raisedBefore === undefined ? {} : { raisedBefore }),
      ...(collapse ? { excludeDetectors: FIRST_TIME_DETECTORS } : {}),
      order: "raised",
      limit,
    });
    const last = alerts.at(-1);
    return c.json({
      alerts,
      ...(collapse && raisedBefore === undefined
        ? {
            firstTime: await countAlertsByAgentAndDetector(
              deps.client,
              FIRST_TIME_DETECTORS,
              sinceMs ?? Date.now() - 7 * 86_400_000,
              q.agent,
              q.severity as Severity | undefined,
            ),
          }
        : {}),
      ...(alerts.length === limit && last !== undefined ? { nextCursor: `${last.createdAtMs}:${last.alertId}` } : {}),
    });
  });

  // The latest baseline snapshot of each agent (or one agent: ?agent=).
  api.get("/baselines", async (c) => {
    const agent = c.req.query("agent");
    return c.json({ baselines: await latestBaselines(deps.client, agent) });
  });

  // Rebuild baselines now: 200 with the result in-process, 202 when queued for the worker.
  api.post("/baselines/rebuild", requireAdmin, async (c) => {
    if (deps.baselines === undefined)
      throw new RequestError(503, "unavailable", "no worker is attached to this API process");
    let outcome: Awaited<ReturnType<BaselineRebuilder["requestBaselines"]>>;
    try {
      outcome = await deps.baselines.requestBaselines();
    } catch (err) {
      c.header("Retry-After", "5");
      throw new RequestError(503, "unavailable", `rebuild not started: ${(err as Error).message}`);
    }
    return outcome.status === "done"
      ? c.json({ status: "done", ...outcome.result }, 200)
      : c.json({ status: "queued", jobId: outcome.jobId }, 202);
  });

  // Read-only SQL for questions the endpoints do not cover (reader and admin).
  api.post("/sql", async (c) => {
    const { sql } = await jsonBody(c, SqlRequest);
    const limits = deps.sqlLimits ?? DEFAULT_SQL_LIMITS;
    const result = await sqlGate.run(c.get("caller").name, () =>
      runReadOnlySql(deps.sqlClient ?? deps.client, sql, limits),
    );
    if (!result.ok) {
      if (result.status === 429) c.header("Retry-After", "2");
      throw new RequestError(result.status, result.error, result.message);
    }
    return c.json(result);
  });

  api.route("/", alertingRoutes(deps.client));
  api.route("/", investigationRoutes(deps.client, deps.config));
  api.route("/", tokenRoutes(deps.client, deps.config));
  api.route("/", advisorRoutes(deps.client, deps.config));
  api.route(
    "/",
    decisionRoutes(deps.client, decisionLog, () => deps.approvalKey),
  );
  api.get("/openapi.json", (c) => c.json(openApiDocument()));
  app.route("/api", api);
  // The web console, on the same port, signed in with the same API keys.
  // Slack's Approve / Deny buttons: authenticated by Slack's signature, not an API key.
  app.route(
    "/",
    slackInteractivityRoutes({
      client: deps.client,
      log: decisionLog,
      key: () => deps.approvalKey,
      signingSecret: deps.slackSigningSecret,
      approvers: deps.config.approvals.slack_approvers,
      logger: deps.logger ?? createLogger("warn"),
    }),
  );
  app.route(
    "/",
    consoleApp({
      client: deps.client,
      config: deps.config,
      keys,
      ledgerKey: () => deps.ledgerKey,
      approvalKey: () => deps.approvalKey,
      decisionLog,
    }),
  );
  return app;
}
