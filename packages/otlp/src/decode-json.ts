import { InputError } from "@vigil/common";
import { newAttributes } from "./model";
import type {
  AnyValue,
  Attributes,
  DecodedRequest,
  KeyValue,
  Resource,
  Scope,
  Span,
  SpanEvent,
  SpanLink,
} from "./model";
import { logRecordRow } from "./log-rows";
import type { LogRecordFields, LogRowIds } from "./log-rows";
import { MAX_VALUE_DEPTH, decodeBudget, invalidSpanReason, recordRejection } from "./validate";

/** A field of one span has the wrong JSON type: that span is rejected, the rest kept. */
class SpanFieldError extends Error {}

type Json = Record<string, unknown>;

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/**
 * The OTLP 64-bit fields may be JSON numbers (the specification allows numbers or
 * strings), but JSON.parse turns a number above 2^53 into the nearest double: every
 * current nanosecond timestamp would lose its last digits. Their digits are quoted
 * before parsing, so they decode exactly. Only keys match: inside a JSON string every
 * quote is escaped, so `"startTimeUnixNano":` cannot occur there.
 */
const INT64_NUMBER =
  /"(startTimeUnixNano|endTimeUnixNano|timeUnixNano|observedTimeUnixNano|intValue)"(\s*):(\s*)(-?\d+)(?=\s*[,}\]])/g;
function quoteInt64Numbers(body: string): string {
  return body.replace(INT64_NUMBER, '"$1"$2:$3"$4"');
}

/**
 * Decodes an OTLP/JSON `ExportTraceServiceRequest` as the OTLP specification defines
 * it: lowerCamelCase keys, trace and span ids as hex (not base64), 64-bit integers as
 * strings or numbers, enums as integers (names are accepted too), unknown keys ignored.
 *
 * A span with a field of the wrong type is rejected on its own (partial success); a
 * body that is not JSON or not shaped like the request is a 400.
 */
export function decodeTraceRequestJson(body: string): DecodedRequest {
  return decodeJsonRequest(body, TRACES, (raw, resource, scope) => readSpan(raw, resource, scope));
}

/**
 * Decodes an agent's OTLP/JSON `ExportLogsServiceRequest` into stored rows (see
 * logRecordRow), ids taken from `ids`; the same rules as for traces.
 */
export function decodeLogsRequestJson(body: string, ids: LogRowIds): DecodedRequest {
  return decodeJsonRequest(body, LOGS, (raw, resource, scope) => {
    const row = logRecordRow(readLogRecord(raw), ids.take(), resource, scope);
    if (typeof row === "string") throw new SpanFieldError(row);
    return row;
  });
}

/** The key names of one OTLP signal's request. */
interface Signal {
  message: string;
  resources: string;
  scopes: string;
  items: string;
}
const TRACES: Signal = {
  message: "ExportTraceServiceRequest",
  resources: "resourceSpans",
  scopes: "scopeSpans",
  items: "spans",
};
const LOGS: Signal = {
  message: "ExportLogsServiceRequest",
  resources: "resourceLogs",
  scopes: "scopeLogs",
  items: "logRecords",
};

function decodeJsonRequest(
  body: string,
  signal: Signal,
  readItem: (raw: unknown, resource: Resource, scope: Scope) => Span,
): DecodedRequest {
  let root: unknown;
  try {
    root = JSON.parse(quoteInt64Numbers(body));
  } catch (err) {
    throw new InputError(`malformed JSON ${signal.message}: ${(err as Error).message}`, 400, err);
  }
  if (!isObject(root)) throw new InputError(`${signal.message} must be a JSON object`);
  const out: DecodedRequest = { spans: [], rejectedSpans: 0, rejectionReasons: [] };
  decodeBudget.reset();
  for (const rs of list(root[signal.resources], signal.resources)) {
    if (!isObject(rs)) throw new InputError(`each ${signal.resources} entry must be an object`);
    const res = isObject(rs.resource) ? rs.resource : {};
    const resource: Resource = {
      attributes: structural(() => attributes(res.attributes, 0)),
      droppedAttributesCount: structural(() => uint(res.droppedAttributesCount)),
      schemaUrl: structural(() => str(rs.schemaUrl)),
    };
    for (const ss of list(rs[signal.scopes], signal.scopes)) {
      if (!isObject(ss)) throw new InputError(`each ${signal.scopes} entry must be an object`);
      const sc = isObject(ss.scope) ? ss.scope : {};
      const scope: Scope = structural(() => ({
        name: str(sc.name),
        version: str(sc.version),
        attributes: attributes(sc.attributes, 0),
        droppedAttributesCount: uint(sc.droppedAttributesCount),
        schemaUrl: str(ss.schemaUrl),
      }));
      for (const raw of list(ss[signal.items], signal.items)) {
        let span: Span;
        try {
          span = readItem(raw, resource, scope);
        } catch (err) {
          if (err instanceof SpanFieldError) {
            recordRejection(out, err.message);
            continue;
          }
          throw err;
        }
        const reason = invalidSpanReason(span);
        if (reason === undefined) out.spans.push(span);
        else recordRejection(out, reason);
      }
    }
  }
  return out;
}

/** Resource and scope errors affect every span under them, so they fail the request. */
function structural<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpanFieldError) throw new InputError(`invalid resource or scope: ${err.message}`);
    throw err;
  }
}

function readSpan(raw: unknown, resource: Resource, scope: Scope): Span {
  decodeBudget.spend();
  if (!isObject(raw)) throw new SpanFieldError("a span must be a JSON object");
  const status = isObject(raw.status) ? raw.status : {};
  return {
    traceId: hexId(raw.traceId, "traceId"),
    spanId: hexId(raw.spanId, "spanId"),
    parentSpanId: hexId(raw.parentSpanId, "parentSpanId"),
    traceState: str(raw.traceState),
    flags: uint(raw.flags),
    name: str(raw.name),
    kind: enumValue(raw.kind, SPAN_KINDS, "kind"),
    startTimeUnixNano: u64(raw.startTimeUnixNano, "startTimeUnixNano"),
    endTimeUnixNano: u64(raw.endTimeUnixNano, "endTimeUnixNano"),
    attributes: attributes(raw.attributes, 0),
    droppedAttributesCount: uint(raw.droppedAttributesCount),
    events: optionalList(raw.events, "events").map(readEvent),
    droppedEventsCount: uint(raw.droppedEventsCount),
    links: optionalList(raw.links, "links").map(readLink),
    droppedLinksCount: uint(raw.droppedLinksCount),
    statusCode: enumValue(status.code, STATUS_CODES, "status.code"),
    statusMessage: str(status.message),
    resource,
    scope,
  };
}

const SEVERITY_NUMBERS: Record<string, number> = Object.fromEntries(
  ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].flatMap((level, i) =>
    ["", "2", "3", "4"].map((n, j) => [`SEVERITY_NUMBER_${level}${n}`, i * 4 + j + 1]),
  ),
);
SEVERITY_NUMBERS.SEVERITY_NUMBER_UNSPECIFIED = 0;

function readLogRecord(raw: unknown): LogRecordFields {
  decodeBudget.spend();
  if (!isObject(raw)) throw new SpanFieldError("a log record must be a JSON object");
  return {
    timeUnixNano: u64(raw.timeUnixNano, "timeUnixNano"),
    observedTimeUnixNano: u64(raw.observedTimeUnixNano, "observedTimeUnixNano"),
    severityNumber: enumValue(raw.severityNumber, SEVERITY_NUMBERS, "severityNumber"),
    severityText: str(raw.severityText),
    body: raw.body === undefined || raw.body === null ? undefined : anyValue(raw.body, 0),
    attributes: attributes(raw.attributes, 0),
    droppedAttributesCount: uint(raw.droppedAttributesCount),
    flags: uint(raw.flags),
    traceId: hexId(raw.traceId, "traceId"),
    spanId: hexId(raw.spanId, "spanId"),
    eventName: str(raw.eventName),
  };
}

function readEvent(raw: unknown): SpanEvent {
  decodeBudget.spend();
  if (!isObject(raw)) throw new SpanFieldError("an event must be a JSON object");
  return {
    timeUnixNano: u64(raw.timeUnixNano, "event timeUnixNano"),
    name: str(raw.name),
    attributes: attributes(raw.attributes, 0),
    droppedAttributesCount: uint(raw.droppedAttributesCount),
  };
}

function readLink(raw: unknown): SpanLink {
  decodeBudget.spend();
  if (!isObject(raw)) throw new SpanFieldError("a link must be a JSON object");
  return {
    traceId: hexId(raw.traceId, "link traceId"),
    spanId: hexId(raw.spanId, "link spanId"),
    traceState: str(raw.traceState),
    attributes: attributes(raw.attributes, 0),
    droppedAttributesCount: uint(raw.droppedAttributesCount),
    flags: uint(raw.flags),
  };
}

function attributes(raw: unknown, depth: number): Attributes {
  const out = newAttributes();
  for (const kv of optionalList(raw, "attributes")) {
    const { key, value } = keyValue(kv, depth);
    out[key] = value;
  }
  return out;
}

function keyValue(raw: unknown, depth: number): KeyValue {
  if (!isObject(raw)) throw new SpanFieldError("an attribute must be a JSON object with key and value");
  return { key: str(raw.key), value: anyValue(raw.value, depth) };
}

function anyValue(raw: unknown, depth: number): AnyValue {
  decodeBudget.spend();
  if (depth > MAX_VALUE_DEPTH)
    throw new InputError(`attribute values are nested deeper than ${MAX_VALUE_DEPTH} levels`);
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw new SpanFieldError("an attribute value must be an AnyValue object");
  if (raw.stringValue !== undefined)
    return { stringValue: wellFormed(strict<string>(raw.stringValue, "string", "stringValue")) };
  if (raw.boolValue !== undefined) return { boolValue: strict(raw.boolValue, "boolean", "boolValue") };
  if (raw.intValue !== undefined) return { intValue: i64(raw.intValue) };
  if (raw.doubleValue !== undefined) return { doubleValue: double(raw.doubleValue) };
  if (raw.bytesValue !== undefined) return { bytesValue: base64(raw.bytesValue) };
  if (raw.arrayValue !== undefined) {
    const arr = isObject(raw.arrayValue) ? raw.arrayValue : {};
    return { arrayValue: { values: optionalList(arr.values, "arrayValue.values").map((v) => anyValue(v, depth + 1)) } };
  }
  if (raw.kvlistValue !== undefined) {
    const kvl = isObject(raw.kvlistValue) ? raw.kvlistValue : {};
    return {
      kvlistValue: { values: optionalList(kvl.values, "kvlistValue.values").map((v) => keyValue(v, depth + 1)) },
    };
  }
  return {};
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function list(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InputError(`${what} must be an array`);
  return v;
}

function optionalList(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SpanFieldError(`${what} must be an array`);
  return v;
}

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new SpanFieldError(`expected a string, got ${typeof v}`);
  return wellFormed(v);
}

/**
 * JSON's `\uD800` escapes can spell a lone UTF-16 surrogate, which no UTF-8 column
 * can hold: ClickHouse refuses the whole INSERT that carries one, and with it every
 * other agent's rows in the same group commit. Such a string fails its span here.
 * (Protobuf strings cannot carry one: invalid UTF-8 decodes to U+FFFD.)
 */
function wellFormed(v: string): string {
  if (!v.isWellFormed()) throw new SpanFieldError("a string holds a lone UTF-16 surrogate (not valid Unicode)");
  return v;
}

function strict<T>(v: unknown, type: "string" | "boolean", what: string): T {
  if (typeof v !== type) throw new SpanFieldError(`${what} must be a ${type}`);
  return v as T;
}

function uint(v: unknown): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new SpanFieldError(`expected an unsigned 32-bit integer, got ${JSON.stringify(v)}`);
  }
  return n;
}

function enumValue(v: unknown, names: Record<string, number>, what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "string" && v in names) return names[v] ?? 0;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 256) return v;
  throw new SpanFieldError(`${what} must be an enum integer, got ${JSON.stringify(v)}`);
}

const HEX = /^[0-9a-fA-F]*$/;

function hexId(v: unknown, what: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string" || !HEX.test(v)) throw new SpanFieldError(`${what} must be a hex string`);
  return v.toLowerCase();
}

const UNSIGNED = /^\d+$/;
const SIGNED = /^-?\d+$/;

/** fixed64 as a decimal string without leading zeros; JSON numbers are accepted too. */
function u64(v: unknown, what: string): string {
  if (v === undefined || v === null) return "0";
  const s = typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
  if (typeof s !== "string" || !UNSIGNED.test(s) || BigInt(s) > 0xffffffffffffffffn) {
    throw new SpanFieldError(`${what} must be an unsigned 64-bit integer, as a string or a number`);
  }
  return s.length > 1 && s[0] === "0" ? BigInt(s).toString() : s;
}

function i64(v: unknown): string {
  const s = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof s !== "string" || !SIGNED.test(s)) throw new SpanFieldError("intValue must be a 64-bit integer");
  const n = BigInt(s);
  if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new SpanFieldError("intValue is out of the int64 range");
  return n.toString();
}

function double(v: unknown): number | "NaN" | "Infinity" | "-Infinity" {
  if (typeof v === "number") return v;
  if (v === "NaN" || v === "Infinity" || v === "-Infinity") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  throw new SpanFieldError("doubleValue must be a number");
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64(v: unknown): string {
  if (typeof v !== "string" || !BASE64.test(v)) throw new SpanFieldError("bytesValue must be base64");
  return Buffer.from(v, "base64").toString("base64");
}
