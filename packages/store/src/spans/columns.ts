import type { SpanFacts } from "@vigil/facts";
import type { Span } from "@vigil/otlp";

/**
 * The span row, defined once. Every column of the spans table is one entry here: its
 * ClickHouse type, how ingest writes it and how the ledger reads it back. The CREATE
 * TABLE (spans/schema.ts), the columns a store created earlier lacks (migrations.ts), the
 * row encoder and the INSERT (spans/rows.ts), the ledger's read-back and the facts
 * readers (spans/read.ts) all come from these lists, so a new fact is one FACT_COLUMNS
 * entry beside its field in SpanFacts (a missing entry does not compile).
 */

/**
 * How a value is written in a JSONCompactEachRow line:
 * - `str`: a JSON string; `num`: a number; `bool`: true/false; `strs`: an array of strings;
 * - `id`: a string known to need no escaping (hex ids, UUIDs, validated agent ids), quoted as is;
 * - `json`: JSON text embedded as is (stored as its text, see INSERT settings);
 * - `digits`: a decimal integer as a JSON string (nanosecond and millisecond times).
 */
export type Kind = "str" | "id" | "num" | "bool" | "strs" | "json" | "digits";

/** The value ingest hands the encoder for each kind. */
export interface KindValue {
  str: string;
  id: string;
  num: number;
  bool: boolean;
  strs: readonly string[];
  json: string;
  digits: string;
}

/** What ingest knows about a request that is not in its spans, as the encoder needs it. */
export interface LineContext {
  batchId: string;
  agentId: string;
  /** Milliseconds since the epoch, as decimal digits. */
  received: string;
  requestDigest: string;
  /** The span's resource and scope attributes as OTLP/JSON, serialized once per resource and scope. */
  resourceJson: string;
  scopeJson: string;
}

/** What ingest's integrity checks found on one span. */
export interface SpanIntegrity {
  /** Credentials removed from the span before storage. */
  redactions: ReadonlyArray<{ rule: string; fingerprint: string; location: string }>;
  /** The agent the span claimed to be when that claim is not the token's agent (else ""). */
  impersonatedAgent: string;
  /**
   * An agent's step Vigil received far from the time it says it ended (backdated or
   * future-dated): stored and judged, but it trains no baseline and makes no value known.
   */
  backfill: boolean;
}

/** Where ingest takes a column's value from: the span, its facts, integrity findings and the request. */
type ValueOf<K extends Kind> = (s: Span, f: SpanFacts, g: SpanIntegrity, c: LineContext) => KindValue[K];

export interface SpanColumn<K extends Kind = Kind> {
  readonly name: string;
  /** The column's type as CREATE TABLE states it, codec and comment included. */
  readonly type: string;
  readonly kind: K;
  readonly value: ValueOf<K>;
  /** The SELECT expression that reads the column back as the value written (default: its name). */
  readonly readBack: string;
  /** Added after the first release: at the end of the line, and left out of a row's canonical line while empty (see APPENDED). */
  readonly appended: boolean;
}

function column<K extends Kind>(
  name: string,
  type: string,
  kind: K,
  value: ValueOf<K>,
  readBack = name,
  appended = false,
): SpanColumn {
  return { name, type, kind, value, readBack, appended } as SpanColumn;
}

/** The fact columns' kinds follow from the fields' types: a string, a flag or a list of strings. */
type KindOf<T> = T extends boolean ? "bool" : T extends string ? "str" : T extends readonly string[] ? "strs" : never;

interface FactColumn<T> {
  readonly name: string;
  readonly type: string;
  readonly kind: KindOf<T>;
  /** A fact added after the first release (every new one): see APPENDED. */
  readonly appended?: true;
}

/**
 * One column per security fact (see @vigil/facts), in line order. A new fact is one entry
 * here with `appended: true` (the columns test names the first release's line).
 */
export const FACT_COLUMNS: { readonly [F in keyof SpanFacts]: FactColumn<SpanFacts[F]> } = {
  sessionId: { name: "session_id", type: "String CODEC(ZSTD(1))", kind: "str" },
  claimedAgent: {
    name: "claimed_agent",
    type: "LowCardinality(String) COMMENT 'agent the span claims; agent_id (from the token) is authoritative'",
    kind: "str",
  },
  environment: { name: "environment", type: "LowCardinality(String)", kind: "str" },
  operation: { name: "operation", type: "LowCardinality(String) COMMENT 'gen_ai.operation.name'", kind: "str" },
  tool: { name: "tool", type: "LowCardinality(String)", kind: "str" },
  dbSystem: { name: "db_system", type: "LowCardinality(String)", kind: "str" },
  dbOperation: { name: "db_operation", type: "LowCardinality(String)", kind: "str" },
  dbTables: { name: "db_tables", type: "Array(LowCardinality(String)) COMMENT 'every table touched'", kind: "strs" },
  dbTablesWritten: { name: "db_tables_written", type: "Array(LowCardinality(String))", kind: "strs" },
  dbStatementKinds: { name: "db_statement_kinds", type: "Array(LowCardinality(String))", kind: "strs" },
  dbTablesApproximate: {
    name: "db_tables_approximate",
    type: "Bool COMMENT 'query read by the tokenizer, not the parser'",
    kind: "bool",
  },
  outboundHost: { name: "outbound_host", type: "LowCardinality(String)", kind: "str" },
  credentialId: { name: "credential_id", type: "LowCardinality(String)", kind: "str" },
  peerAgent: { name: "peer_agent", type: "LowCardinality(String)", kind: "str" },
  input: {
    name: "input",
    type: "String COMMENT 'the input that caused the step, redacted and truncated' CODEC(ZSTD(3))",
    kind: "str",
  },
  inputSource: { name: "input_source", type: "LowCardinality(String)", kind: "str" },
  approvalId: { name: "approval_id", type: "String CODEC(ZSTD(1))", kind: "str" },
  approvalStatus: { name: "approval_status", type: "LowCardinality(String)", kind: "str" },
  destructive: { name: "destructive", type: "Bool", kind: "bool" },
  destructiveReason: { name: "destructive_reason", type: "LowCardinality(String)", kind: "str" },
  mcpServer: {
    name: "mcp_server",
    type: "LowCardinality(String) COMMENT 'MCP server name (initialize), else its network address'",
    kind: "str",
  },
  mcpMethod: { name: "mcp_method", type: "LowCardinality(String) COMMENT 'mcp.method.name'", kind: "str" },
  dialect: {
    name: "dialect",
    type: "LowCardinality(String) COMMENT 'conventions beyond OTel that filled facts'",
    kind: "str",
  },
};

/** The facts' field names, in line order. */
export const FACT_FIELDS = Object.keys(FACT_COLUMNS) as ReadonlyArray<keyof SpanFacts>;

function factColumn(field: keyof SpanFacts): SpanColumn {
  const { name, type, kind, appended = false } = FACT_COLUMNS[field];
  return column(name, type, kind, (_s, f) => f[field] as never, name, appended);
}

const isAppended = (field: keyof SpanFacts): boolean => FACT_COLUMNS[field].appended === true;

const nanos = (name: string): string => `toString(toUnixTimestamp64Nano(${name}))`;
const JSON_TEXT = (what: string): string => `String COMMENT 'OTLP/JSON: ${what}' CODEC(ZSTD(3))`;

/**
 * The columns of the first release's line, in order (the batch id first: rows are
 * encoded before their batch is known and sealed with it in place, see sealSpanLines).
 * Never reordered or removed: the ledger's leaves are hashes of these lines.
 */
const FIRST_RELEASE: readonly SpanColumn[] = [
  column("batch_id", "UUID CODEC(ZSTD(1))", "id", (_s, _f, _g, c) => c.batchId, "toString(batch_id)"),
  column("agent_id", "LowCardinality(String)", "id", (_s, _f, _g, c) => c.agentId),
  column(
    "start_time",
    "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))",
    "digits",
    (s) => s.startTimeUnixNano,
    nanos("start_time"),
  ),
  column(
    "end_time",
    "DateTime64(9, 'UTC') CODEC(DoubleDelta, ZSTD(1))",
    "digits",
    (s) => s.endTimeUnixNano,
    nanos("end_time"),
  ),
  column("trace_id", "String CODEC(ZSTD(1))", "id", (s) => s.traceId),
  column("span_id", "String CODEC(ZSTD(1))", "id", (s) => s.spanId),
  column("parent_span_id", "String CODEC(ZSTD(1))", "id", (s) => s.parentSpanId),
  column("trace_state", "String CODEC(ZSTD(1))", "str", (s) => s.traceState),
  column("flags", "UInt32 CODEC(ZSTD(1))", "num", (s) => s.flags),
  column("name", "LowCardinality(String) CODEC(ZSTD(1))", "str", (s) => s.name),
  column(
    "kind",
    "UInt8 COMMENT 'SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer'",
    "num",
    (s) => s.kind,
  ),
  column("status_code", "UInt8 COMMENT 'StatusCode: 0 unset, 1 ok, 2 error'", "num", (s) => s.statusCode),
  column("status_message", "String CODEC(ZSTD(1))", "str", (s) => s.statusMessage),
  factColumn("sessionId"),
  column("attributes", JSON_TEXT('{"key": AnyValue, ...}'), "json", (s) => JSON.stringify(s.attributes)),
  column("dropped_attributes_count", "UInt32 CODEC(ZSTD(1))", "num", (s) => s.droppedAttributesCount),
  column("events", JSON_TEXT("[{timeUnixNano, name, attributes, droppedAttributesCount}]"), "json", (s) =>
    s.events.length === 0 ? "[]" : JSON.stringify(s.events),
  ),
  column("dropped_events_count", "UInt32 CODEC(ZSTD(1))", "num", (s) => s.droppedEventsCount),
  column(
    "links",
    JSON_TEXT("[{traceId, spanId, traceState, attributes, droppedAttributesCount, flags}]"),
    "json",
    (s) => (s.links.length === 0 ? "[]" : JSON.stringify(s.links)),
  ),
  column("dropped_links_count", "UInt32 CODEC(ZSTD(1))", "num", (s) => s.droppedLinksCount),
  column("resource_attributes", "String CODEC(ZSTD(3))", "json", (_s, _f, _g, c) => c.resourceJson),
  column("resource_dropped_attributes_count", "UInt32 CODEC(ZSTD(1))", "num", (s) => s.resource.droppedAttributesCount),
  column("resource_schema_url", "LowCardinality(String) CODEC(ZSTD(1))", "str", (s) => s.resource.schemaUrl),
  column("scope_name", "LowCardinality(String) CODEC(ZSTD(1))", "str", (s) => s.scope.name),
  column("scope_version", "LowCardinality(String) CODEC(ZSTD(1))", "str", (s) => s.scope.version),
  column("scope_attributes", "String CODEC(ZSTD(3))", "json", (_s, _f, _g, c) => c.scopeJson),
  column("scope_dropped_attributes_count", "UInt32 CODEC(ZSTD(1))", "num", (s) => s.scope.droppedAttributesCount),
  column("scope_schema_url", "LowCardinality(String) CODEC(ZSTD(1))", "str", (s) => s.scope.schemaUrl),
  column(
    "received_at",
    "DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))",
    "digits",
    (_s, _f, _g, c) => c.received,
    "toString(toUnixTimestamp64Milli(received_at))",
  ),
  column(
    "request_digest",
    "String COMMENT 'sha256 of agent and request body (an agent span), or db-audit: and a digest of source and line (a database audit record): retried requests are stored once' CODEC(ZSTD(1))",
    "id",
    (_s, _f, _g, c) => c.requestDigest,
  ),
  ...FACT_FIELDS.filter((f) => f !== "sessionId" && !isAppended(f)).map(factColumn),
  column("redacted_rules", "Array(LowCardinality(String))", "strs", (_s, _f, g) =>
    g.redactions.length === 0 ? [] : g.redactions.map((r) => r.rule),
  ),
  column("redacted_fingerprints", "Array(String)", "strs", (_s, _f, g) =>
    g.redactions.length === 0 ? [] : g.redactions.map((r) => r.fingerprint),
  ),
  column("redacted_locations", "Array(String)", "strs", (_s, _f, g) =>
    g.redactions.length === 0 ? [] : g.redactions.map((r) => r.location),
  ),
  column("impersonated_agent", "LowCardinality(String)", "str", (_s, _f, g) => g.impersonatedAgent),
  column(
    "backfill",
    "Bool COMMENT 'received far from its stated end time: trains nothing'",
    "bool",
    (_s, _f, g) => g.backfill,
  ),
];

/**
 * Columns added after the first release, at the end of the line in the order they were
 * added: the appended facts, then any other column added here. A row stored before a
 * column existed reads it back as its empty default, so a row's canonical line (what its
 * ledger leaf hashes) leaves out trailing appended values that are empty: old rows still
 * verify, and a value set where there was none, or cleared, changes the line.
 */
const APPENDED: readonly SpanColumn[] = FACT_FIELDS.filter(isAppended).map(factColumn);

/** Every column ingest writes, in line order. */
export const SPAN_COLUMNS: readonly SpanColumn[] = [...FIRST_RELEASE, ...APPENDED];

/** Stored but not written: computed by the engine from written columns. */
export const SPAN_DERIVED_COLUMNS: ReadonlyArray<{ name: string; type: string; after: string }> = [
  {
    name: "duration_ns",
    type: "UInt64 MATERIALIZED toUnixTimestamp64Nano(end_time) - toUnixTimestamp64Nano(start_time)",
    after: "end_time",
  },
];

/** Each column as CREATE TABLE and ADD COLUMN state it: `name type`. */
export function spanColumnDefinitions(): Array<{ name: string; definition: string }> {
  const out: Array<{ name: string; definition: string }> = [];
  for (const c of SPAN_COLUMNS) {
    out.push({ name: c.name, definition: `${c.name} ${c.type}` });
    for (const d of SPAN_DERIVED_COLUMNS)
      if (d.after === c.name) out.push({ name: d.name, definition: `${d.name} ${d.type}` });
  }
  return out;
}

/** The fact columns, as a SELECT list. */
export const FACT_SELECT: string = FACT_FIELDS.map((field) => FACT_COLUMNS[field].name).join(", ");

/** The facts of a row read with FACT_SELECT (JSONEachRow), as the values that were written. */
export function factsOfRow(row: Readonly<Record<string, unknown>>): SpanFacts {
  const facts: Record<string, unknown> = {};
  for (const field of FACT_FIELDS) {
    const { name, kind } = FACT_COLUMNS[field];
    const v = row[name];
    facts[field] =
      kind === "bool" ? v === true || Number(v) === 1 : kind === "strs" ? (Array.isArray(v) ? v : []) : String(v ?? "");
  }
  return facts as unknown as SpanFacts;
}
