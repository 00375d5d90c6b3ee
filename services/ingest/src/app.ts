import { createHash } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { Context } from "hono";
import { InputError, UnavailableError, VigilError } from "@vigil/common";
import type { Logger } from "@vigil/common";
import {
  RpcCode,
  compareDecimal,
  decodeTraceRequestJson,
  decodeTraceRequestProtobuf,
  encodeExportResponseJson,
  encodeExportResponseProtobuf,
  encodeStatusJson,
  encodeStatusProtobuf,
} from "@vigil/otlp";
import type { DecodedRequest } from "@vigil/otlp";
import { extractFacts, inheritSessions } from "@vigil/facts";
import type { ExtractOptions } from "@vigil/facts";
import { encodeSpanRows } from "@vigil/store";
import type { TokenRegistry } from "./auth";
import type { SpanBatcher } from "./batcher";
import { readRequestBody } from "./body";
import type { RequestDedup } from "./dedup";
import type { IngestStats } from "./stats";

export interface IngestLimits {
  /** Largest body accepted, before and after decompression. */
  maxBodyBytes: number;
  /** Spans older than this (by start time) are rejected: they fall outside retention. */
  maxSpanAgeMs: number;
  /** Spans starting further than this in the future are rejected (clock skew allowance). */
  maxFutureSkewMs: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  maxBodyBytes: 64 * 1024 * 1024,
  maxSpanAgeMs: 90 * 24 * 3600 * 1000,
  maxFutureSkewMs: 3600 * 1000,
};

export interface IngestDeps {
  tokens: TokenRegistry;
  batcher: SpanBatcher;
  dedup: RequestDedup;
  stats: IngestStats;
  logger: Logger;
  limits?: IngestLimits;
  /** How facts are read (known agent hosts). */
  extract?: ExtractOptions;
  now?: () => number;
}

type Encoding = "protobuf" | "json";
type Env = { Bindings: HttpBindings };

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
  const app = new Hono<Env>();

  app.post("/v1/traces", async (c) => {
    const encoding = mediaEncoding(c.req.header("content-type"));
    const agentId = deps.tokens.authenticate(c.req.header("authorization"));
    if (agentId === undefined) {
      deps.stats.reject("unauthenticated");
      return statusResponse(c, encoding ?? "json", 401, RpcCode.UNAUTHENTICATED, "missing or unknown bearer token");
    }
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
    try {
      const body = await readRequestBody(c.env.incoming, limits.maxBodyBytes);
      const decoded =
        encoding === "protobuf" ? decodeTraceRequestProtobuf(body) : decodeTraceRequestJson(body.toString("utf8"));
      const receivedAtMs = now();
      rejectOutOfWindow(decoded, receivedAtMs, limits);
      deps.stats.received(decoded.spans.length + decoded.rejectedSpans, decoded.rejectedSpans);

      const digest = createHash("sha256").update(agentId).update("\0").update(body).digest("hex").slice(0, 32);
      await storeOnce(deps, digest, decoded, agentId, receivedAtMs);

      const partial =
        decoded.rejectedSpans > 0
          ? { rejectedSpans: decoded.rejectedSpans, errorMessage: decoded.rejectionReasons.join("; ") }
          : undefined;
      return encoding === "protobuf"
        ? c.body(toArrayBuffer(encodeExportResponseProtobuf(partial)), 200, {
            "content-type": "application/x-protobuf",
          })
        : c.body(encodeExportResponseJson(partial), 200, { "content-type": "application/json" });
    } catch (err) {
      return errorResponse(c, encoding, err, deps);
    }
  });

  app.all("/v1/traces", (c) => c.text("use POST", 405, { allow: "POST" }));
  return app;
}

/**
 * Stores a request's spans unless an identical request (same agent, same body) was
 * already stored or is being stored right now.
 */
async function storeOnce(
  deps: IngestDeps,
  digest: string,
  decoded: DecodedRequest,
  agentId: string,
  receivedAtMs: number,
): Promise<void> {
  if (deps.dedup.isCommitted(digest)) {
    deps.stats.duplicate(decoded.spans.length);
    return;
  }
  const twin = deps.dedup.pending(digest);
  if (twin !== undefined) {
    await twin;
    deps.stats.duplicate(decoded.spans.length);
    return;
  }
  if (decoded.spans.length === 0) return;
  const rows = decoded.spans.length;
  const facts = decoded.spans.map((span) => extractFacts(span, deps.extract ?? {}));
  inheritSessions(decoded.spans, facts);
  await deps.dedup.track(
    digest,
    deps.batcher.submit(rows, (batchId) =>
      encodeSpanRows(decoded.spans, facts, { batchId, agentId, receivedAtMs, requestDigest: digest }),
    ),
  );
  deps.stats.stored(rows);
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
    }
    if (reason === undefined) decoded.spans[kept++] = span;
    else {
      decoded.rejectedSpans++;
      if (!decoded.rejectionReasons.includes(reason)) decoded.rejectionReasons.push(reason);
    }
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
    deps.logger.warn("ingest refused a request", { reason: err.message });
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
  deps.logger.error("storing spans failed", { error: err instanceof Error ? err : String(err) });
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
