import { inSlices } from "../query-params";
import { AUDIT_DIGEST_PREFIX, IS_AUDIT_ROW_SQL, IS_LOG_ROW_SQL } from "./origin";
import type { RowOrigin } from "./origin";
import type { ClickHouseClient } from "@clickhouse/client";
import type { SpanFacts } from "@vigil/facts";
import type { AnyValue, Span, SpanEvent, SpanLink } from "@vigil/otlp";
import { FACT_SELECT, factsOfRow } from "./columns";
import { NO_INTEGRITY_FINDINGS } from "./rows";
import type { RowContext, SpanIntegrity } from "./rows";

/** A span as stored, with its JSON columns parsed back. Timestamps are ns decimal strings. */
export interface StoredSpan {
  agentId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  durationNs: string;
  statusCode: number;
  statusMessage: string;
  sessionId: string;
  attributes: Record<string, AnyValue>;
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  resource: { attributes: Record<string, AnyValue>; droppedAttributesCount: number; schemaUrl: string };
  scope: {
    name: string;
    version: string;
    attributes: Record<string, AnyValue>;
    droppedAttributesCount: number;
    schemaUrl: string;
  };
  receivedAt: string;
  batchId: string;
  facts: SpanFacts;
  integrity: SpanIntegrity;
  /** An agent's span, or a database's audit record (see spans/origin.ts). */
  origin: RowOrigin;
  /** The span named no session; `sessionId` is its trace's (see findSession). */
  sessionFromTrace?: true;
  /** An OTLP log record the agent sent (POST /v1/logs), stored as a child of its span (see log-rows.ts). */
  logRecord?: true;
}

const SELECT_SPAN = `
SELECT agent_id, trace_id, span_id, parent_span_id, trace_state, flags, name, kind,
  toString(toUnixTimestamp64Nano(start_time)) AS start_ns, toString(toUnixTimestamp64Nano(end_time)) AS end_ns,
  toString(duration_ns) AS duration, status_code, status_message,
  attributes, dropped_attributes_count, events, dropped_events_count, links, dropped_links_count,
  resource_attributes, resource_dropped_attributes_count, resource_schema_url,
  scope_name, scope_version, scope_attributes, scope_dropped_attributes_count, scope_schema_url,
  toString(received_at) AS received, toString(batch_id) AS batch, ${FACT_SELECT},
  redacted_rules, redacted_fingerprints, redacted_locations, impersonated_agent, backfill, ${IS_AUDIT_ROW_SQL} AS is_audit,
  ${IS_LOG_ROW_SQL} AS is_log
FROM spans`;

interface SpanRow {
  is_audit?: number | boolean | string;
  is_log?: number | boolean | string;
  agent_id: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  trace_state: string;
  flags: number;
  name: string;
  kind: number;
  start_ns: string;
  end_ns: string;
  duration: string;
  status_code: number;
  status_message: string;
  session_id: string;
  attributes: string;
  dropped_attributes_count: number;
  events: string;
  dropped_events_count: number;
  links: string;
  dropped_links_count: number;
  resource_attributes: string;
  resource_dropped_attributes_count: number;
  resource_schema_url: string;
  scope_name: string;
  scope_version: string;
  scope_attributes: string;
  scope_dropped_attributes_count: number;
  scope_schema_url: string;
  received: string;
  batch: string;
  redacted_rules: string[];
  redacted_fingerprints: string[];
  redacted_locations: string[];
  impersonated_agent: string;
  backfill: boolean | number;
  /** The fact columns (FACT_SELECT). */
  readonly [column: string]: unknown;
}

function toStoredSpanFacts(r: SpanRow): Pick<StoredSpan, "facts" | "integrity"> {
  return {
    facts: factsOfRow(r),
    integrity: {
      redactions: r.redacted_rules.map((rule, i) => ({
        rule,
        fingerprint: r.redacted_fingerprints[i] ?? "",
        location: r.redacted_locations[i] ?? "",
      })),
      impersonatedAgent: r.impersonated_agent,
      backfill: Boolean(r.backfill),
    },
  };
}

function originOf(r: { is_audit?: number | boolean | string }): RowOrigin {
  return r.is_audit === true || Number(r.is_audit) === 1 ? "db-audit" : "agent";
}

function toStoredSpan(r: SpanRow): StoredSpan {
  return {
    origin: originOf(r),
    ...(r.is_log === true || Number(r.is_log) === 1 ? { logRecord: true as const } : {}),
    agentId: r.agent_id,
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    traceState: r.trace_state,
    flags: Number(r.flags),
    name: r.name,
    kind: Number(r.kind),
    startTimeUnixNano: r.start_ns,
    endTimeUnixNano: r.end_ns,
    durationNs: r.duration,
    statusCode: Number(r.status_code),
    statusMessage: r.status_message,
    sessionId: r.session_id,
    attributes: JSON.parse(r.attributes) as Record<string, AnyValue>,
    droppedAttributesCount: Number(r.dropped_attributes_count),
    events: JSON.parse(r.events) as SpanEvent[],
    droppedEventsCount: Number(r.dropped_events_count),
    links: JSON.parse(r.links) as SpanLink[],
    droppedLinksCount: Number(r.dropped_links_count),
    resource: {
      attributes: JSON.parse(r.resource_attributes) as Record<string, AnyValue>,
      droppedAttributesCount: Number(r.resource_dropped_attributes_count),
      schemaUrl: r.resource_schema_url,
    },
    scope: {
      name: r.scope_name,
      version: r.scope_version,
      attributes: JSON.parse(r.scope_attributes) as Record<string, AnyValue>,
      droppedAttributesCount: Number(r.scope_dropped_attributes_count),
      schemaUrl: r.scope_schema_url,
    },
    receivedAt: r.received,
    batchId: r.batch,
    ...toStoredSpanFacts(r),
  };
}

async function selectSpans(
  client: ClickHouseClient,
  where: string,
  params: Record<string, unknown>,
  limit: number,
): Promise<StoredSpan[]> {
  const rs = await client.query({
    query: `${SELECT_SPAN} WHERE ${where} ORDER BY start_time, span_id LIMIT {limit:UInt32}`,
    query_params: { ...params, limit },
    format: "JSONEachRow",
  });
  return (await rs.json<SpanRow>()).map(toStoredSpan);
}

/**
 * Narrows a read to the agents and time range a lookup table (filled by a materialized
 * view at insert) records for one trace or session, so the primary key does the work.
 */
function viaLookup(indexTable: string, column: string, param: string, rows?: string): string {
  const match = `${column} = {${param}:String}`;
  return `agent_id IN (SELECT agent_id FROM ${indexTable} WHERE ${match})
     AND start_time >= (SELECT min(start_time) FROM ${indexTable} WHERE ${match})
     AND start_time <= (SELECT max(end_time) FROM ${indexTable} WHERE ${match})
     AND ${rows ?? match}`;
}

/** Every span of one trace, in start order. */
export async function findTrace(client: ClickHouseClient, traceId: string, limit = 10_000): Promise<StoredSpan[]> {
  return selectSpans(client, viaLookup("span_trace_index", "trace_id", "traceId"), { traceId }, limit);
}

/**
 * Every span of one session, in start order: the spans that name it, and the spans
 * without a session of their own in the traces that belong to it (trace-sessions.ts:
 * the session set only on a root, exported after its children). Those come back with
 * the session filled in and `sessionFromTrace` set; their stored rows are unchanged.
 */
export async function findSession(client: ClickHouseClient, sessionId: string, limit = 10_000): Promise<StoredSpan[]> {
  const ofTraces = `(agent_id, trace_id) IN (
       SELECT agent_id, trace_id FROM trace_sessions WHERE session_id = {sessionId:String})`;
  const where = viaLookup(
    "span_session_index",
    "session_id",
    "sessionId",
    `(session_id = {sessionId:String} OR (session_id = '' AND ${ofTraces}))`,
  );
  const spans = await selectSpans(client, where, { sessionId }, limit);
  return spans.map((s) => (s.sessionId === "" ? { ...s, sessionId, sessionFromTrace: true } : s));
}

/** One agent's spans in [fromNs, toNs), in start order. */
export async function findAgentSpans(
  client: ClickHouseClient,
  agentId: string,
  fromNs: string,
  toNs: string,
  limit = 10_000,
): Promise<StoredSpan[]> {
  return selectSpans(
    client,
    `agent_id = {agentId:String}
     AND start_time >= fromUnixTimestamp64Nano({fromNs:Int64}, 'UTC')
     AND start_time < fromUnixTimestamp64Nano({toNs:Int64}, 'UTC')`,
    { agentId, fromNs, toNs },
    limit,
  );
}

/** What detection reads of a span: identity, time, facts and integrity findings, not the raw JSON. */
export type DetectSpan = Pick<
  StoredSpan,
  | "agentId"
  | "traceId"
  | "spanId"
  | "parentSpanId"
  | "name"
  | "kind"
  | "startTimeUnixNano"
  | "sessionId"
  | "facts"
  | "integrity"
  | "origin"
> & {
  /** When the span ended, as the agent states it (ns), and when Vigil received it (ms): Vigil's own time. */
  endTimeUnixNano: string;
  receivedAtMs: number;
};

const DETECT_COLUMNS = `agent_id, trace_id, span_id, parent_span_id, name, kind, toString(toUnixTimestamp64Nano(start_time)) AS start_ns,
              toString(toUnixTimestamp64Nano(end_time)) AS end_ns, toString(toUnixTimestamp64Milli(received_at)) AS received_ms,
              ${FACT_SELECT}, redacted_rules, redacted_fingerprints, redacted_locations, impersonated_agent, backfill, ${IS_AUDIT_ROW_SQL} AS is_audit`;

type DetectRow = SpanRow & { received_ms: string };

function toDetectSpan(r: DetectRow): DetectSpan {
  const full = toStoredSpanFacts(r);
  return {
    agentId: r.agent_id,
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    name: r.name,
    kind: Number(r.kind),
    startTimeUnixNano: r.start_ns,
    endTimeUnixNano: r.end_ns,
    receivedAtMs: Number(r.received_ms),
    sessionId: r.session_id,
    facts: full.facts,
    integrity: full.integrity,
    origin: originOf(r),
  };
}

/**
 * Rows as detection sees them, built from the values ingest is about to store instead of
 * read back: the same fields, from the same values the row encoder writes (the ledger's
 * read-back check holds the stored row to exactly those values). What an in-process
 * detection is handed once the batch is committed.
 */
export function detectSpansOf(
  spans: readonly Span[],
  facts: readonly SpanFacts[],
  integrity: readonly SpanIntegrity[] | undefined,
  ctx: Omit<RowContext, "batchId">,
): DetectSpan[] {
  const origin: RowOrigin = ctx.requestDigest.startsWith(AUDIT_DIGEST_PREFIX) ? "db-audit" : "agent";
  return spans.map((s, i) => {
    const f = facts[i] as SpanFacts;
    const g = integrity?.[i] ?? NO_INTEGRITY_FINDINGS;
    return {
      agentId: ctx.agentId,
      traceId: s.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      name: s.name,
      kind: s.kind,
      startTimeUnixNano: s.startTimeUnixNano,
      endTimeUnixNano: s.endTimeUnixNano,
      receivedAtMs: ctx.receivedAtMs,
      sessionId: f.sessionId,
      facts: { ...f },
      integrity: {
        redactions: g.redactions.map((r) => ({ ...r })),
        impersonatedAgent: g.impersonatedAgent,
        backfill: g.backfill,
      },
      origin,
    };
  });
}

/** Detection's order of a step's rows: start time, then span id (as findBatchSpans returns them). */
export function compareDetectOrder(a: DetectSpan, b: DetectSpan): number {
  const x = a.startTimeUnixNano;
  const y = b.startTimeUnixNano;
  if (x !== y) return x.length !== y.length ? x.length - y.length : x < y ? -1 : 1;
  return a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
}

/** The spans of some insert batches as detection sees them, in start order (no attribute JSON is read). */
export async function findBatchSpans(client: ClickHouseClient, batchIds: readonly string[]): Promise<DetectSpan[]> {
  if (batchIds.length === 0) return [];
  const rs = await client.query({
    query: `SELECT ${DETECT_COLUMNS} FROM spans WHERE batch_id IN {batchIds:Array(UUID)} ORDER BY start_time, span_id`,
    query_params: { batchIds },
    format: "JSONEachRow",
  });
  return (await rs.json<DetectRow>()).map(toDetectSpan);
}

/**
 * One agent's spans that named no session, in these traces, started in [fromNs, toNs]
 * and stored outside the given batches, as detection sees them: the children a late
 * root's earlier requests carried, judged before the root named their session.
 */
export async function findSessionlessTraceSpans(
  client: ClickHouseClient,
  agentId: string,
  traceIds: readonly string[],
  fromNs: string,
  toNs: string,
  exceptBatchIds: readonly string[],
): Promise<DetectSpan[]> {
  if (traceIds.length === 0) return [];
  const rows = await inSlices(traceIds, async (slice) => {
    const rs = await client.query({
      query: `SELECT ${DETECT_COLUMNS} FROM spans
              WHERE agent_id = {agentId:String}
                AND start_time >= fromUnixTimestamp64Nano({fromNs:Int64}, 'UTC')
                AND start_time <= fromUnixTimestamp64Nano({toNs:Int64}, 'UTC')
                AND trace_id IN {traceIds:Array(String)} AND session_id = ''
                AND batch_id NOT IN {exceptBatchIds:Array(UUID)} AND NOT ${IS_AUDIT_ROW_SQL}
              ORDER BY start_time, span_id LIMIT 10000`,
      query_params: { agentId, traceIds: slice, fromNs, toNs, exceptBatchIds },
      format: "JSONEachRow",
    });
    return rs.json<DetectRow>();
  });
  return rows.map(toDetectSpan);
}

/** Database audit records received since `sinceMs`, as detection sees them (to judge again after a restart). */
export async function findAuditSpansSince(client: ClickHouseClient, sinceMs: number): Promise<DetectSpan[]> {
  const rs = await client.query({
    query: `SELECT ${DETECT_COLUMNS} FROM spans
            WHERE received_at >= fromUnixTimestamp64Milli({sinceMs:Int64}, 'UTC') AND ${IS_AUDIT_ROW_SQL}
            ORDER BY received_at, span_id LIMIT 100000`,
    query_params: { sinceMs },
    format: "JSONEachRow",
  });
  return (await rs.json<DetectRow>()).map(toDetectSpan);
}

/**
 * One agent's rows of one origin in [fromNs, toNs], as detection sees them: what the
 * agent reported ("agent"), or what its databases saw ("db-audit"), to set side by side.
 */
export async function findSpansOfOrigin(
  client: ClickHouseClient,
  agentId: string,
  origin: RowOrigin,
  fromNs: string,
  toNs: string,
  limit = 50_000,
): Promise<DetectSpan[]> {
  const rs = await client.query({
    query: `SELECT ${DETECT_COLUMNS} FROM spans
            WHERE agent_id = {agentId:String}
              AND start_time >= fromUnixTimestamp64Nano({fromNs:Int64}, 'UTC')
              AND start_time <= fromUnixTimestamp64Nano({toNs:Int64}, 'UTC')
              AND ${origin === "db-audit" ? "" : "NOT "}${IS_AUDIT_ROW_SQL}
            ORDER BY start_time LIMIT {limit:UInt32}`,
    query_params: { agentId, fromNs, toNs, limit },
    format: "JSONEachRow",
  });
  return (await rs.json<DetectRow>()).map(toDetectSpan);
}

/** What a database's audit record said, beyond its facts. */
export interface AuditRecordDetails {
  source: string;
  user: string;
  database: string;
  command: string;
  statement: string;
  /** Why the database refused the statement; "" when it ran. */
  error: string;
}

/** What a database's audit record said, for alert evidence: by trace id (an audit record's trace is its own). */
export async function auditRecordDetails(
  client: ClickHouseClient,
  traceIds: readonly string[],
): Promise<Map<string, AuditRecordDetails>> {
  if (traceIds.length === 0) return new Map();
  const rs = await client.query({
    query: `SELECT trace_id,
              JSONExtractString(attributes, 'vigil.audit.source', 'stringValue') AS source,
              JSONExtractString(attributes, 'vigil.audit.user', 'stringValue') AS user,
              JSONExtractString(attributes, 'db.namespace', 'stringValue') AS database,
              JSONExtractString(attributes, 'vigil.audit.command', 'stringValue') AS command,
              JSONExtractString(attributes, 'vigil.audit.statement', 'stringValue') AS statement,
              JSONExtractString(attributes, 'vigil.audit.error', 'stringValue') AS error
            FROM spans WHERE trace_id IN {traceIds:Array(String)} AND ${IS_AUDIT_ROW_SQL}`,
    query_params: { traceIds },
    format: "JSONEachRow",
  });
  const rows = await rs.json<AuditRecordDetails & { trace_id: string }>();
  return new Map(rows.map(({ trace_id, ...rest }) => [trace_id, rest]));
}

/** Request digests stored since `sinceMs`: ingest reloads them so a retry after a restart is still stored once. */
export async function recentRequestDigests(client: ClickHouseClient, sinceMs: number): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT DISTINCT request_digest AS d FROM spans WHERE received_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')`,
    query_params: { since: sinceMs },
    format: "JSONEachRow",
  });
  return (await rs.json<{ d: string }>()).map((r) => r.d);
}

/** Number of stored spans, optionally for one agent. */
export async function countSpans(client: ClickHouseClient, agentId?: string): Promise<number> {
  const rs = await client.query({
    query:
      agentId === undefined
        ? "SELECT count() AS n FROM spans"
        : "SELECT count() AS n FROM spans WHERE agent_id = {agentId:String}",
    ...(agentId === undefined ? {} : { query_params: { agentId } }),
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ n: string | number }>();
  return Number(rows[0]?.n ?? 0);
}

/** Where a page of results ended: the next page starts after it. */
export interface SpanCursor {
  startNs: string;
  spanId: string;
}

/**
 * An agent's actions in [fromNs, toNs), in time order, a page at a time: tool calls,
 * database operations, credential uses, outbound calls, calls to other agents and
 * destructive steps (not plain model calls).
 */
export async function findAgentActions(
  client: ClickHouseClient,
  agentId: string,
  range: { fromNs: string; toNs: string; after?: SpanCursor | undefined; limit: number },
): Promise<StoredSpan[]> {
  return selectSpans(
    client,
    `agent_id = {agentId:String}
     AND start_time >= fromUnixTimestamp64Nano({fromNs:Int64}, 'UTC')
     AND start_time < fromUnixTimestamp64Nano({toNs:Int64}, 'UTC')
     AND (tool != '' OR db_operation != '' OR credential_id != '' OR outbound_host != '' OR peer_agent != '' OR destructive)
     ${range.after === undefined ? "" : "AND (start_time, span_id) > (fromUnixTimestamp64Nano({afterNs:Int64}, 'UTC'), {afterSpan:String})"}`,
    {
      agentId,
      fromNs: range.fromNs,
      toNs: range.toNs,
      ...(range.after === undefined ? {} : { afterNs: range.after.startNs, afterSpan: range.after.spanId }),
    },
    range.limit,
  );
}

/** The operations that call a model: their input is what the model was asked. */
const MODEL_CALL_OPERATIONS = ["chat", "text_completion", "generate_content"];

/** An input (prompt, tool arguments, message) that a later step may have acted on. */
export interface CausingInput {
  traceId: string;
  spanId: string;
  startNs: string;
  input: string;
  source: string;
}

/**
 * For each action, the input that caused it: the nearest input before it in its causal
 * chain (its trace, or earlier in its session), else the action's own input (its
 * arguments). What a model was asked (a model call's messages, which hold the user's
 * words and the tool results fed back) is the cause over another tool's arguments: the
 * nearest model call's input wins over a nearer tool call's. Inputs are read once for
 * all the actions' traces and sessions.
 */
export async function causingInputs(
  client: ClickHouseClient,
  agentId: string,
  actions: readonly StoredSpan[],
): Promise<Map<string, CausingInput>> {
  const out = new Map<string, CausingInput>();
  if (actions.length === 0) return out;
  const traces = [...new Set(actions.map((a) => a.traceId))];
  const sessions = [...new Set(actions.map((a) => a.sessionId).filter((s) => s !== ""))];
  const earliest = actions.reduce(
    (m, a) => (BigInt(a.startTimeUnixNano) < m ? BigInt(a.startTimeUnixNano) : m),
    BigInt(actions[0]?.startTimeUnixNano ?? "0"),
  );
  const rs = await client.query({
    query: `SELECT trace_id, span_id, session_id, toString(toUnixTimestamp64Nano(start_time)) AS start_ns, input, input_source,
              operation IN {modelCalls:Array(String)} AS model_call
            FROM spans
            WHERE agent_id = {agentId:String} AND input != ''
              AND start_time >= fromUnixTimestamp64Nano({from:Int64}, 'UTC')
              AND (trace_id IN {traces:Array(String)} OR session_id IN {sessions:Array(String)})
            ORDER BY start_time, span_id`,
    query_params: {
      agentId,
      traces,
      sessions,
      from: String(earliest - 24n * 3_600_000_000_000n),
      modelCalls: MODEL_CALL_OPERATIONS,
    },
    format: "JSONEachRow",
  });
  type Row = {
    trace_id: string;
    span_id: string;
    session_id: string;
    start_ns: string;
    input: string;
    input_source: string;
    model_call: boolean | number;
  };
  const inputs = await rs.json<Row>();
  for (const a of actions) {
    const start = BigInt(a.startTimeUnixNano);
    let nearest: Row | undefined;
    let nearestModelCall: Row | undefined;
    for (const r of inputs) {
      if (r.span_id === a.spanId) continue;
      if (r.trace_id !== a.traceId && (a.sessionId === "" || r.session_id !== a.sessionId)) continue;
      if (BigInt(r.start_ns) > start) break; // inputs are in time order
      nearest = r;
      if (Boolean(r.model_call)) nearestModelCall = r;
    }
    const best = nearestModelCall ?? nearest;
    if (best !== undefined)
      out.set(a.spanId, {
        traceId: best.trace_id,
        spanId: best.span_id,
        startNs: best.start_ns,
        input: best.input,
        source: best.input_source,
      });
    else if (a.facts.input !== "")
      out.set(a.spanId, {
        traceId: a.traceId,
        spanId: a.spanId,
        startNs: a.startTimeUnixNano,
        input: a.facts.input,
        source: a.facts.inputSource,
      });
  }
  return out;
}
