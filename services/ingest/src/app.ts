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
  decodeLogBodiesJson,
  decodeLogBodiesProtobuf,
  encodeExportResponseJson,
  encodeExportResponseProtobuf,
  encodeStatusJson,
  encodeStatusProtobuf,
} from "@vigil/otlp";
import type { ExtractOptions } from "@vigil/facts";
import { LOG_DIGEST_PREFIX, sealSpanLines } from "@vigil/store";
import type { Authenticator, TokenIdentity } from "./auth";
import type { SpanBatcher } from "./batcher";
import { BodyBudget, BodyReservation, readRequestBody } from "./body";
import type { RequestDedup } from "./dedup";
import type { IngestStats } from "./stats";
import type { ApprovalVerifier } from "./gate";
import type { AuditIntake } from "./audit-intake";
import type { Admission, Encoding } from "./pipeline";
import { inlinePipeline } from "./pipeline-runner";
import type { PipelineRunner } from "./pipeline-runner";

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
  /** Where the pipeline runs (pipeline threads); default the main thread. */
  pipeline?: PipelineRunner;
  now?: () => number;
}

export const DEFAULT_BACKFILL_AFTER_MS = 10 * 60_000;
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
  const pipeline = deps.pipeline ?? inlinePipeline(deps.approvals);
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
      const receivedAtMs = now();
      let admission: Admission;
      try {
        admission = await pipeline.admit({
          body,
          signal,
          encoding,
          digest,
          receivedAtMs,
          identity,
          maxSpanAgeMs: limits.maxSpanAgeMs,
          maxFutureSkewMs: limits.maxFutureSkewMs,
          backfillAfterMs: deps.backfillAfterMs ?? DEFAULT_BACKFILL_AFTER_MS,
          extract: deps.extract ?? {},
          verifyApprovals: deps.approvals !== undefined,
          handOffSpans: deps.handOffSpans === true,
        });
      } finally {
        reservation.release();
      }
      if (admission.kind === "refused") throw new InputError(admission.message, admission.status);
      if (admission.kind !== "admitted") throw new Error(`the pipeline answered ${admission.kind}`);
      deps.stats.received(admission.received, admission.rejected);
      await storeOnce(deps, digest, admission);

      const partial =
        admission.rejected > 0
          ? { rejectedSpans: admission.rejected, errorMessage: admission.rejectionReasons.join("; ") }
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
 * Stores a request's admitted rows unless an identical request (same agent, same body)
 * was already stored or is being stored right now. Their batch id and ledger leaves are
 * sealed into the rows when the batch they join is known.
 */
async function storeOnce(
  deps: IngestDeps,
  digest: string,
  admission: Extract<Admission, { kind: "admitted" }>,
): Promise<void> {
  if (deps.dedup.isCommitted(digest)) {
    deps.stats.duplicate(admission.received - admission.rejected);
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
    deps.stats.duplicate(admission.received - admission.rejected);
    return;
  }
  const lines = admission.lines;
  if (admission.rows === 0 || lines === undefined) return;
  const spans = admission.spans;
  await deps.dedup.track(
    digest,
    deps.batcher.submit(
      admission.rows,
      (batchId) => {
        const rows = sealSpanLines(lines, batchId);
        return spans === undefined ? rows : { ...rows, spans };
      },
      digest,
    ),
  );
  deps.stats.stored(admission.rows);
  if (admission.redacted > 0) deps.stats.redacted(admission.redacted);
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
