import { ATTR_VIGIL_APPROVAL_TOKEN } from "@vigil/common/attributes";
import { actionDigestOf } from "@vigil/approvals/action";
import { InputError } from "@vigil/common";
import { extractFacts, inheritMcpServers, inheritSessions, inheritSubAgents } from "@vigil/facts";
import type { ExtractOptions, SpanFacts } from "@vigil/facts";
import {
  LogRowIds,
  compareDecimal,
  decodeLogsRequestJson,
  decodeLogsRequestProtobuf,
  decodeTraceRequestJson,
  decodeTraceRequestProtobuf,
  recordRejection,
} from "@vigil/otlp";
import type { Attributes, DecodedRequest, Span } from "@vigil/otlp";
import { redactSecrets, redactSpans } from "@vigil/secrets";
import type { SpanRedaction } from "@vigil/secrets";
import { detectSpansOf, encodeSpanLines } from "@vigil/store/engine-free";
import type { DetectSpan, SpanIntegrity } from "@vigil/store/engine-free";

/**
 * Ingest's pipeline: what happens to one request's body between the HTTP receiver and
 * the group commit, as one function of its inputs. Decode, the time window, approval
 * tokens taken out, redaction, facts, what a trace's spans inherit from each other,
 * identity (environment and claims), backfill, and the rows encoded for the store (their
 * batch id and ledger leaves are sealed when the batch is known, `sealSpanLines`).
 *
 * It holds no state and touches no store, so it runs on the main thread or on one of
 * ingest's pipeline threads alike (pipeline-runner.ts). The one step with state, the
 * single use of approval tokens, stays on the main thread: a request carrying a token
 * is handed back from a thread and admitted there with the verifier.
 */

export type Encoding = "protobuf" | "json";
export type Signal = "traces" | "logs";

/** Who sent the request, as the pipeline needs it (from the token). */
export interface PipelineIdentity {
  agentId: string;
  /** The only environment the token may write, when bound. */
  environment: string | undefined;
  /** Agent names the agent's spans may claim without it being impersonation. */
  claims: ReadonlySet<string>;
  /** The environments the agent declares (empty: any). */
  environments: ReadonlySet<string>;
  /** History an administrator imports (the admin key's name): never backfill. */
  importedBy?: string;
}

export interface AdmitInput {
  body: Uint8Array;
  signal: Signal;
  encoding: Encoding;
  /** The request digest (agent and body): stored in every row, and what log rows' ids derive from. */
  digest: string;
  receivedAtMs: number;
  identity: PipelineIdentity;
  /** Spans starting more than this before `receivedAtMs`, or after it, are rejected. */
  maxSpanAgeMs: number;
  maxFutureSkewMs: number;
  /** A step received further than this from the end time it states is backfill. */
  backfillAfterMs: number;
  extract: ExtractOptions;
  /** Approval tokens are verified (by the main thread's verifier). */
  verifyApprovals: boolean;
  /** Build each row as detection sees it too (a detection in this process). */
  handOffSpans: boolean;
}

/** Checks approval tokens against what was used before: state, so the main thread's. */
export interface ApprovalCheck {
  check(presented: PresentedApproval, facts: SpanFacts, agentId: string, spanKey: string, atMs: number): Promise<void>;
}

export type Admission =
  | {
      kind: "admitted";
      /** Spans (or log records) in the request. */
      received: number;
      /** Of them, rejected (partial success), and why. */
      rejected: number;
      rejectionReasons: string[];
      /** Rows to store, encoded but not sealed (`sealSpanLines`); undefined when none. */
      rows: number;
      lines: Buffer | undefined;
      /** Credentials redacted across the stored rows. */
      redacted: number;
      spans?: DetectSpan[];
    }
  /** The request carries approval tokens and no verifier was given: admit it where the verifier is. */
  | { kind: "needs-approvals" }
  /** The body is not a valid request: answered with this status (400, 413, 415). */
  | { kind: "refused"; status: number; message: string };

/**
 * The decoder of each signal and encoding. An agent's log records become rows whose ids
 * derive from the request's digest (see LogRowIds).
 */
const DECODERS: Record<Signal, Record<Encoding, (body: Buffer, digest: string) => DecodedRequest>> = {
  traces: {
    protobuf: (body) => decodeTraceRequestProtobuf(body),
    json: (body) => decodeTraceRequestJson(body.toString("utf8")),
  },
  logs: {
    protobuf: (body, digest) => decodeLogsRequestProtobuf(body, new LogRowIds(digest)),
    json: (body, digest) => decodeLogsRequestJson(body.toString("utf8"), new LogRowIds(digest)),
  },
};

export async function admit(input: AdmitInput, approvals?: ApprovalCheck): Promise<Admission> {
  const body = Buffer.isBuffer(input.body)
    ? input.body
    : Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
  let decoded: DecodedRequest;
  try {
    decoded = DECODERS[input.signal][input.encoding](body, input.digest);
  } catch (err) {
    if (err instanceof InputError) return { kind: "refused", status: err.status, message: err.message };
    throw err;
  }
  rejectOutOfWindow(decoded, input);
  const received = decoded.spans.length + decoded.rejectedSpans;
  const admitted = (rows: number, lines: Buffer | undefined, redacted: number, spans?: DetectSpan[]): Admission => ({
    kind: "admitted",
    received,
    rejected: decoded.rejectedSpans,
    rejectionReasons: decoded.rejectionReasons,
    rows,
    lines,
    redacted,
    ...(spans === undefined ? {} : { spans }),
  });
  if (decoded.spans.length === 0) return admitted(0, undefined, 0);

  // Read before redaction, which rewrites the token (a JWS) and any secret in the action.
  const presented = decoded.spans.map((span) => presentedApproval(span.attributes));
  if (input.verifyApprovals && approvals === undefined && presented.some((p) => p !== undefined))
    return { kind: "needs-approvals" };
  // The token itself is a bearer credential: what is stored is its decision id and verdict (facts).
  for (const [i, span] of decoded.spans.entries())
    if (presented[i] !== undefined)
      span.attributes[ATTR_VIGIL_APPROVAL_TOKEN] = { stringValue: "[vigil approval token]" };
  const redactions = redactSpans(decoded.spans);
  const facts = decoded.spans.map((span) => extractFacts(span, input.extract));
  facts.forEach((f, i) => redactFacts(f, (redactions[i] ??= [])));
  inheritSessions(decoded.spans, facts);
  inheritMcpServers(decoded.spans, facts);
  inheritSubAgents(decoded.spans, facts);
  if (input.verifyApprovals)
    for (const [i, span] of decoded.spans.entries()) {
      const token = presented[i];
      const f = facts[i] as SpanFacts;
      if (token === undefined) markSelfReported(f);
      else
        await (approvals as ApprovalCheck).check(
          token,
          f,
          input.identity.agentId,
          `${span.traceId}/${span.spanId}`,
          input.receivedAtMs,
        );
    }
  const { spans, spanFacts, integrity } = applyIdentity(decoded, facts, redactions, input.identity);
  if (input.identity.importedBy === undefined) markBackfill(spans, integrity, input);
  if (spans.length === 0) return admitted(0, undefined, 0);
  const ctx = { agentId: input.identity.agentId, receivedAtMs: input.receivedAtMs, requestDigest: input.digest };
  const lines = encodeSpanLines(spans, spanFacts, integrity, ctx);
  const redacted = integrity.reduce((n, g) => n + g.redactions.length, 0);
  return admitted(
    spans.length,
    lines,
    redacted,
    input.handOffSpans ? detectSpansOf(spans, spanFacts, integrity, ctx) : undefined,
  );
}

export interface PresentedApproval {
  token: string;
  actionDigest: string;
}

/** The approval token a span carries, with the digest of its action, or undefined. */
export function presentedApproval(attributes: Attributes): PresentedApproval | undefined {
  const raw = attributes[ATTR_VIGIL_APPROVAL_TOKEN];
  if (raw === undefined) return undefined;
  return { token: "stringValue" in raw ? raw.stringValue : "", actionDigest: actionDigestOf(attributes) };
}

/** A span without a token that reports "verified" itself: recorded as self-reported. */
export function markSelfReported(facts: SpanFacts): void {
  if (facts.approvalStatus !== "" && facts.approvalStatus.toLowerCase().startsWith("verified"))
    facts.approvalStatus = "unverified:self-reported";
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
  identity: PipelineIdentity,
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

/** Marks the steps whose stated end is further than `backfillAfterMs` from when they were received. */
function markBackfill(spans: readonly Span[], integrity: SpanIntegrity[], input: AdmitInput): void {
  const earliest = String(BigInt(input.receivedAtMs - input.backfillAfterMs) * 1_000_000n);
  const latest = String(BigInt(input.receivedAtMs + input.backfillAfterMs) * 1_000_000n);
  spans.forEach((span, i) => {
    const end = span.endTimeUnixNano;
    if (compareDecimal(end, earliest) < 0 || compareDecimal(end, latest) > 0)
      (integrity[i] as SpanIntegrity).backfill = true;
  });
}

function rejectOutOfWindow(decoded: DecodedRequest, input: AdmitInput): void {
  const oldest = String(BigInt(input.receivedAtMs - input.maxSpanAgeMs) * 1_000_000n);
  const newest = String(BigInt(input.receivedAtMs + input.maxFutureSkewMs) * 1_000_000n);
  let kept = 0;
  for (const span of decoded.spans) {
    let reason: string | undefined;
    if (compareDecimal(span.startTimeUnixNano, oldest) < 0) {
      reason = `start_time_unix_nano is more than ${Math.round(input.maxSpanAgeMs / 86_400_000)} days in the past`;
    } else if (compareDecimal(span.startTimeUnixNano, newest) > 0) {
      reason = `start_time_unix_nano is more than ${Math.round(input.maxFutureSkewMs / 60_000)} minutes in the future`;
    } else if (compareDecimal(span.endTimeUnixNano, newest) > 0) {
      // A span ends before it is exported; and a time past 2262 is outside DateTime64(9).
      reason = `end_time_unix_nano is more than ${Math.round(input.maxFutureSkewMs / 60_000)} minutes in the future`;
    }
    if (reason === undefined) decoded.spans[kept++] = span;
    else recordRejection(decoded, reason);
  }
  decoded.spans.length = kept;
}
