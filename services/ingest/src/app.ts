import { createHash } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import type { RequestIdVariables } from "hono/request-id";
import type { Context } from "hono";
import { InputError, UnavailableError, VigilError, bearerToken } from "@vigil/common";
import type { DigestRegistry } from "@vigil/common";
import type { Logger } from "@vigil/common";
import {
  RpcCode,
  compareDecimal,
  recordRejection,
  decodeLogBodiesJson,
  decodeLogBodiesProtobuf,
  decodeLogsRequestJson,
  decodeLogsRequestProtobuf,
  decodeTraceRequestJson,
  decodeTraceRequestProtobuf,
  LogRowIds,
  encodeExportResponseJson,
  encodeExportResponseProtobuf,
  encodeStatusJson,
  encodeStatusProtobuf,
} from "@vigil/otlp";
import type { DecodedRequest, Span } from "@vigil/otlp";
import { extractFacts, inheritMcpServers, inheritSessions, inheritSubAgents } from "@vigil/facts";
import type { ExtractOptions, SpanFacts } from "@vigil/facts";
import { redactSecrets, redactSpans } from "@vigil/secrets";
import type { SpanRedaction } from "@vigil/secrets";
import { LOG_DIGEST_PREFIX, detectSpansOf, encodeSpanRows } from "@vigil/store";
import type { SpanIntegrity } from "@vigil/store";
import type { Authenticator, TokenIdentity } from "./auth";
import type { SpanBatcher } from "./batcher";
import { BodyBudget, BodyReservation, readRequestBody } from "./body";
import type { RequestDedup } from "./dedup";
import type { IngestStats } from "./stats";
import { presentedApproval } from "./gate";
import type { ApprovalVerifier } from "./gate";
import type { AuditIntake } from "./audit-intake";

export interface IngestLimits {
  /** Largest body accepted, before and after decompression. */
  maxBodyBytes: number;
  /** Spans older than this (by start time) are rejected: they fall outside retention. */
  maxSpanAgeMs: number;
  /** Spans starting further than this in the future are rejected (clock skew allowance). */
  maxFutureSkewMs: number;
  /** Body bytes (raw and decompressed) all requests may hold at once until decoded; past it, 429. */
  maxBodyBytesInFlight: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  maxBodyBytes: 64 * 1024 * 1024,
  maxSpanAgeMs: 90 * 24 * 3600 * 1000,
  maxFutureSkewMs: 3600 * 1000,
  maxBodyBytesInFlight: 160 * 1024 * 1024,
};

export interface IngestDeps {
  tokens: Authenticator;
  batcher: SpanBatcher;
  dedup: RequestDedup;
  stats: IngestStats;
  logger: Logger;
  limits?: IngestLimits;
  /** How facts are read (known agent hosts). */
  extract?: ExtractOptions;
  /** Checks the approval tokens spans carry (the confirmation gate). */
  approvals?: ApprovalVerifier;
  /** Database audit records (POST /v1/logs with an audit source's token); unset: no audit sources. */
  audit?: { intake: AuditIntake; tokens: DigestRegistry<string> };
  /** Admin API keys (SHA-256 → key name) and the declared agents an admin may import history for. */
  importers?: { keys: DigestRegistry<string>; agent(agentId: string): TokenIdentity | undefined };
  /**
   * A step received more than this from the end time it states is backfill: judged,
   * but kept out of what detection learns (default 10 minutes).
   */
  backfillAfterMs?: number;
  /** Build each row as detection sees it too, for a detection in this process (see IngestServiceOptions). */
  handOffSpans?: boolean;
  now?: () => number;
}

type Encoding = "protobuf" | "json";

/**
 * The decoder of each signal and encoding. An agent's log records become rows whose ids
 * derive from the request's digest (see LogRowIds).
 */
const DECODERS: Record<"traces" | "logs", Record<Encoding, (body: Buffer, digest: string) => DecodedRequest>> = {
  traces: {
    protobuf: (body) => decodeTraceRequestProtobuf(body),
    json: (body) => decodeTraceRequestJson(body.toString("utf8")),
  },
  logs: {
    protobuf: (body, digest) => decodeLogsRequestProtobuf(body, new LogRowIds(digest)),
    json: (body, digest) => decodeLogsRequestJson(body.toString("utf8"), new LogRowIds(digest)),
  },
};
type Env = { Bindings: HttpBindings; Variables: RequestIdVariables };

/**
 * The OTLP/HTTP trace receiver: `POST /v1/traces`, protobuf or JSON, optionally gzip.
 *
 * Order of checks: token (401), media type (415), body (413/400/415), decode (400),
 * per-span validity (partial success). A request is answered 200 only after every span
 * it stored is committed; when the store cannot take the write, 503 with Retry-After.
 */
export function createIngestApp(deps: IngestDeps): Hono<Env> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const now = deps.now ?? Date.now;
  const bodies = new BodyBudget(limits.maxBodyBytesInFlight);
  const app = new Hono<Env>();
  // Every response carries X-Request-Id (the client's, or a new one); logs name it.
  app.use("*", requestId());

  /**
   * Decodes, checks and stores one trace or log request of `identity`; answers once
   * committed. An agent's log records become rows beside its spans (see logRecordRow):
   * the same window, dedup, redaction, facts, identity and ledger.
   */
  const receive = async (c: Context<Env>, identity: TokenIdentity, signal: "traces" | "logs"): Promise<Response> => {
    const encoding = mediaEncoding(c.req.header("content-type"));
    if (encoding === undefined) {
      deps.stats.reject("unsupported_media_type");
      return statusResponse(
        c,
        "json",
        415,
        RpcCode.INVALID_ARGUMENT,
        `unsupported Content-Type "${c.req.header("content-type") ?? ""}": use application/x-protobuf or application/json`,
      );
    }
    const reservation = new BodyReservation(bodies);
    try {
      const body = await readRequestBody(c.env.incoming, limits.maxBodyBytes, reservation);
      const hash = createHash("sha256").update(identity.agentId).update("\0").update(body).digest("hex").slice(0, 32);
      // Imported history names the administrator's key in every row (the ledger covers it);
      // log records are told apart from spans by theirs.
      const digest =
        identity.importedBy !== undefined
          ? `import:${identity.importedBy}:${hash}`
          : signal === "logs"
            ? `${LOG_DIGEST_PREFIX}${hash}`
            : hash;
      let decoded: DecodedRequest;
      try {
        decoded = DECODERS[signal][encoding](body, digest);
      } finally {
        reservation.release();
      }
      const receivedAtMs = now();
      rejectOutOfWindow(decoded, receivedAtMs, limits);
      deps.stats.received(decoded.spans.length + decoded.rejectedSpans, decoded.rejectedSpans);
      await storeOnce(deps, digest, decoded, identity, receivedAtMs);

      const partial =
        decoded.rejectedSpans > 0
          ? { rejectedSpans: decoded.rejectedSpans, errorMessage: decoded.rejectionReasons.join("; ") }
          : undefined;
      return encoding === "protobuf"
        ? c.body(toArrayBuffer(encodeExportResponseProtobuf(partial)), 200, {
            "content-type": "application/x-protobuf",
          })
        : c.body(signal === "traces" ? encodeExportResponseJson(partial) : logsResponseJson(partial), 200, {
            "content-type": "application/json",
          });
    } catch (err) {
      reservation.release();
      return errorResponse(c, encoding, err, deps);
    }
  };

  app.post("/v1/traces", async (c) => {
    const auth = deps.tokens.authenticate(c.req.header("authorization"), now());
    if (!auth.ok) {
      deps.stats.reject("unauthenticated");
      // Never the token: only why it was refused.
      deps.logger.debug("ingest refused a token", { requestId: c.get("requestId"), reason: auth.reason });
      return statusResponse(
        c,
        mediaEncoding(c.req.header("content-type")) ?? "json",
        401,
        RpcCode.UNAUTHENTICATED,
        auth.message,
      );
    }
    return receive(c, auth.identity, "traces");
  });

  /**
   * An agent's history, imported by an administrator (`?agent=<id>`, an admin API key):
   * stored like the agent's own spans, but trusted as history, so it trains baselines
   * and makes values known although its times are days old. An agent's token cannot do
   * this; what it backdates is judged and trains nothing.
   */
  app.post("/v1/import/traces", async (c) => {
    const encoding = mediaEncoding(c.req.header("content-type")) ?? "json";
    const token = bearerToken(c.req.header("authorization"));
    const admin = token === undefined ? undefined : deps.importers?.keys.lookup(token);
    if (admin === undefined) {
      deps.stats.reject("unauthenticated");
      return statusResponse(
        c,
        encoding,
        401,
        RpcCode.UNAUTHENTICATED,
        "history is imported with an admin API key: send Authorization: Bearer <admin key>",
      );
    }
    const agent = deps.importers?.agent(c.req.query("agent") ?? "");
    if (agent === undefined)
      return statusResponse(c, encoding, 400, RpcCode.INVALID_ARGUMENT, "name a declared agent: ?agent=<agent id>");
    deps.logger.info("history import", { requestId: c.get("requestId"), agent: agent.agentId, importedBy: admin });
    return receive(c, { ...agent, importedBy: admin }, "traces");
  });

  app.all("/v1/traces", (c) => c.text("use POST", 405, { allow: "POST" }));
  app.all("/v1/import/traces", (c) => c.text("use POST", 405, { allow: "POST" }));

  /**
   * OTLP/HTTP log records from a database's audit log (a collector's filelog receiver
   * forwards each line as a record's string body), with the audit source's token.
   * An agent's token is refused: what the database saw must not come from the agent.
   * Answered once every record stored is committed; unparseable lines are rejected
   * alone (partial success: ExportLogsServiceResponse has the trace response's field
   * numbers, so its protobuf bytes are the same).
   */
  app.post("/v1/logs", async (c) => {
    const encoding = mediaEncoding(c.req.header("content-type"));
    const token = bearerToken(c.req.header("authorization"));
    const sourceId = token === undefined ? undefined : deps.audit?.tokens.lookup(token);
    if (sourceId === undefined) {
      // An agent's own log records (GenAI events, message content): stored beside its spans.
      const auth = deps.tokens.authenticate(c.req.header("authorization"), now());
      if (auth.ok) return receive(c, auth.identity, "logs");
      deps.stats.reject("unauthenticated");
      return statusResponse(
        c,
        encoding ?? "json",
        401,
        RpcCode.UNAUTHENTICATED,
        "send Authorization: Bearer <agent token> for an agent's log records, or an audit source's token for a database's",
      );
    }
    if (encoding === undefined) {
      deps.stats.reject("unsupported_media_type");
      return statusResponse(c, "json", 415, RpcCode.INVALID_ARGUMENT, "use application/x-protobuf or application/json");
    }
    const reservation = new BodyReservation(bodies);
    try {
      const body = await readRequestBody(c.env.incoming, limits.maxBodyBytes, reservation);
      let decoded;
      try {
        decoded = encoding === "protobuf" ? decodeLogBodiesProtobuf(body) : decodeLogBodiesJson(body.toString("utf8"));
      } finally {
        reservation.release();
      }
      const result = await (deps.audit as NonNullable<IngestDeps["audit"]>).intake.store(
        sourceId,
        decoded.bodies,
        now(),
      );
      const rejected = result.rejected + decoded.rejectedRecords;
      const reasons = [
        ...result.reasons,
        ...(decoded.rejectedRecords > 0 ? ["log records without a string body"] : []),
      ];
      const partial = rejected > 0 ? { rejectedSpans: rejected, errorMessage: reasons.join("; ") } : undefined;
      return encoding === "protobuf"
        ? c.body(toArrayBuffer(encodeExportResponseProtobuf(partial)), 200, {
            "content-type": "application/x-protobuf",
          })
        : c.body(logsResponseJson(partial), 200, { "content-type": "application/json" });
    } catch (err) {
      reservation.release();
      return errorResponse(c, encoding, err, deps);
    }
  });
  app.all("/v1/logs", (c) => c.text("use POST", 405, { allow: "POST" }));
  return app;
}

/**
 * Stores a request's spans unless an identical request (same agent, same body) was
 * already stored or is being stored right now. Before anything is stored: credentials
 * are redacted, facts extracted, spans of an environment the token may not write are
 * rejected, and claims to be another agent are recorded.
 */
async function storeOnce(
  deps: IngestDeps,
  digest: string,
  decoded: DecodedRequest,
  identity: TokenIdentity,
  receivedAtMs: number,
): Promise<void> {
  if (deps.dedup.isCommitted(digest)) {
    deps.stats.duplicate(decoded.spans.length);
    return;
  }
  if (deps.dedup.isUnresolved(digest))
    throw new UnavailableError(
      "an earlier copy of this request may be stored and is being checked against the store; retry later",
      1,
    );
  const twin = deps.dedup.pending(digest);
  if (twin !== undefined) {
    await twin;
    deps.stats.duplicate(decoded.spans.length);
    return;
  }
  if (decoded.spans.length === 0) return;
  // Read before redaction, which rewrites the token (a JWS) and any secret in the action.
  const presented = decoded.spans.map((span) => presentedApproval(span.attributes));
  // The token itself is a bearer credential: what is stored is its decision id and verdict (facts).
  for (const [i, span] of decoded.spans.entries())
    if (presented[i] !== undefined) span.attributes["vigil.approval.token"] = { stringValue: "[vigil approval token]" };
  const redactions = redactSpans(decoded.spans);
  const facts = decoded.spans.map((span) => extractFacts(span, deps.extract ?? {}));
  facts.forEach((f, i) => redactFacts(f, (redactions[i] ??= [])));
  inheritSessions(decoded.spans, facts);
  inheritMcpServers(decoded.spans, facts);
  inheritSubAgents(decoded.spans, facts);
  if (deps.approvals !== undefined)
    for (const [i, span] of decoded.spans.entries()) {
      const f = facts[i] as SpanFacts;
      // Most spans carry no token: only a self-reported "verified" needs rewriting (no await).
      if (presented[i] === undefined) deps.approvals.markSelfReported(f);
      else
        await deps.approvals.check(presented[i], f, identity.agentId, `${span.traceId}/${span.spanId}`, receivedAtMs);
    }
  const { spans, spanFacts, integrity } = applyIdentity(decoded, facts, redactions, identity);
  if (identity.importedBy === undefined) markBackfill(spans, integrity, receivedAtMs, deps.backfillAfterMs);
  if (spans.length === 0) return;
  const agentId = identity.agentId;
  await deps.dedup.track(
    digest,
    deps.batcher.submit(
      spans.length,
      (batchId) => {
        const ctx = { batchId, agentId, receivedAtMs, requestDigest: digest };
        const rows = encodeSpanRows(spans, spanFacts, integrity, ctx);
        return deps.handOffSpans === true ? { ...rows, spans: detectSpansOf(spans, spanFacts, integrity, ctx) } : rows;
      },
      digest,
    ),
  );
  deps.stats.stored(spans.length);
  const redacted = integrity.reduce((n, g) => n + g.redactions.length, 0);
  if (redacted > 0) deps.stats.redacted(redacted);
}

/** The facts that are free text taken from the span. */
const FACT_TEXTS = [
  "claimedAgent",
  "sessionId",
  "environment",
  "operation",
  "tool",
  "dbOperation",
  "outboundHost",
  "credentialId",
  "peerAgent",
  "input",
  "inputSource",
  "approvalId",
  "destructiveReason",
] as const satisfies ReadonlyArray<keyof SpanFacts>;

/**
 * Facts are read from the redacted span, but some are decoded from it (a JSON list of
 * messages, escapes inside it), so a credential the scanner could not see in the
 * encoded text can surface in a fact, and from there in an alert. They are scanned too.
 */
function redactFacts(f: SpanFacts, found: SpanRedaction[]): void {
  const scan = (text: string, location: string): string => {
    const r = redactSecrets(text);
    for (const x of r.findings) found.push({ rule: x.rule, fingerprint: x.fingerprint, location });
    return r.text;
  };
  for (const key of FACT_TEXTS) if (f[key] !== "") f[key] = scan(f[key], `facts.${key}`);
  if (f.dbTables.length > 0) f.dbTables = f.dbTables.map((t) => scan(t, "facts.db_tables"));
  if (f.dbTablesWritten.length > 0) f.dbTablesWritten = f.dbTablesWritten.map((t) => scan(t, "facts.db_tables"));
}

/**
 * The token decides who spoke. Spans of another environment than the token's are
 * rejected (partial success); spans with no environment take the token's. A span that
 * claims to be an agent the token's agent may not claim is kept under the token's agent
 * and marked as impersonation.
 */
function applyIdentity(
  decoded: DecodedRequest,
  facts: SpanFacts[],
  redactions: SpanRedaction[][],
  identity: TokenIdentity,
): { spans: Span[]; spanFacts: SpanFacts[]; integrity: SpanIntegrity[] } {
  const spans: Span[] = [];
  const spanFacts: SpanFacts[] = [];
  const integrity: SpanIntegrity[] = [];
  decoded.spans.forEach((span, i) => {
    const f = facts[i] as SpanFacts;
    if (identity.environment !== undefined) {
      if (f.environment === "") f.environment = identity.environment;
      else if (f.environment !== identity.environment) {
        recordRejection(
          decoded,
          `spans of environment "${f.environment}" were sent with a token bound to "${identity.environment}"`,
        );
        return;
      }
    }
    if (identity.environments.size > 0 && f.environment !== "" && !identity.environments.has(f.environment)) {
      recordRejection(
        decoded,
        `spans of environment "${f.environment}" were sent by agent ${identity.agentId}, which declares only ` +
          `${[...identity.environments].join(", ")}`,
      );
      return;
    }
    spans.push(span);
    spanFacts.push(f);
    const claimed = f.claimedAgent;
    integrity.push({
      redactions: redactions[i] ?? [],
      impersonatedAgent: claimed !== "" && !identity.claims.has(claimed) ? claimed : "",
      backfill: false,
    });
  });
  return { spans, spanFacts, integrity };
}

export const DEFAULT_BACKFILL_AFTER_MS = 10 * 60_000;

/** Marks the steps whose stated end is further than `afterMs` from when they were received. */
function markBackfill(
  spans: readonly Span[],
  integrity: SpanIntegrity[],
  receivedAtMs: number,
  afterMs = DEFAULT_BACKFILL_AFTER_MS,
): void {
  const earliest = String(BigInt(receivedAtMs - afterMs) * 1_000_000n);
  const latest = String(BigInt(receivedAtMs + afterMs) * 1_000_000n);
  spans.forEach((span, i) => {
    const end = span.endTimeUnixNano;
    if (compareDecimal(end, earliest) < 0 || compareDecimal(end, latest) > 0)
      (integrity[i] as SpanIntegrity).backfill = true;
  });
}

function rejectOutOfWindow(decoded: DecodedRequest, nowMs: number, limits: IngestLimits): void {
  const oldest = String(BigInt(nowMs - limits.maxSpanAgeMs) * 1_000_000n);
  const newest = String(BigInt(nowMs + limits.maxFutureSkewMs) * 1_000_000n);
  let kept = 0;
  for (const span of decoded.spans) {
    let reason: string | undefined;
    if (compareDecimal(span.startTimeUnixNano, oldest) < 0) {
      reason = `start_time_unix_nano is more than ${Math.round(limits.maxSpanAgeMs / 86_400_000)} days in the past`;
    } else if (compareDecimal(span.startTimeUnixNano, newest) > 0) {
      reason = `start_time_unix_nano is more than ${Math.round(limits.maxFutureSkewMs / 60_000)} minutes in the future`;
    } else if (compareDecimal(span.endTimeUnixNano, newest) > 0) {
      // A span ends before it is exported; and a time past 2262 is outside DateTime64(9).
      reason = `end_time_unix_nano is more than ${Math.round(limits.maxFutureSkewMs / 60_000)} minutes in the future`;
    }
    if (reason === undefined) decoded.spans[kept++] = span;
    else recordRejection(decoded, reason);
  }
  decoded.spans.length = kept;
}

function mediaEncoding(contentType: string | undefined): Encoding | undefined {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (media === "application/x-protobuf" || media === "application/protobuf") return "protobuf";
  if (media === "application/json") return "json";
  return undefined;
}

function errorResponse(c: Context<Env>, encoding: Encoding, err: unknown, deps: IngestDeps): Response {
  if (err instanceof UnavailableError) {
    deps.stats.reject("unavailable");
    deps.logger.warn("ingest refused a request", { requestId: c.get("requestId"), reason: err.message });
    const code = err.status === 429 ? 429 : 503;
    c.header("retry-after", String(err.retryAfterSeconds));
    return statusResponse(c, encoding, code, RpcCode.UNAVAILABLE, err.message);
  }
  if (err instanceof InputError) {
    deps.stats.reject(err.status === 413 ? "too_large" : err.status === 415 ? "unsupported_media_type" : "malformed");
    return statusResponse(c, encoding, err.status, RpcCode.INVALID_ARGUMENT, err.message);
  }
  // Anything else is the store failing under us: tell the exporter to retry.
  deps.stats.reject("unavailable");
  deps.logger.error("storing spans failed", {
    requestId: c.get("requestId"),
    error: err instanceof Error ? err : String(err),
  });
  c.header("retry-after", "5");
  const message = err instanceof VigilError ? err.message : "the span store cannot take writes right now; retry later";
  return statusResponse(c, encoding, 503, RpcCode.UNAVAILABLE, message);
}

function statusResponse(
  c: Context<Env>,
  encoding: Encoding,
  httpStatus: 400 | 401 | 413 | 415 | 429 | 503 | number,
  rpcCode: number,
  message: string,
): Response {
  const status = httpStatus as 400;
  return encoding === "protobuf"
    ? c.body(toArrayBuffer(encodeStatusProtobuf(rpcCode, message)), status, {
        "content-type": "application/x-protobuf",
      })
    : c.body(encodeStatusJson(rpcCode, message), status, { "content-type": "application/json" });
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** ExportLogsServiceResponse in OTLP/JSON: its partial success counts log records. */
function logsResponseJson(partial: { rejectedSpans: number; errorMessage: string } | undefined): string {
  return partial === undefined
    ? "{}"
    : JSON.stringify({
        partialSuccess: { rejectedLogRecords: String(partial.rejectedSpans), errorMessage: partial.errorMessage },
      });
}
