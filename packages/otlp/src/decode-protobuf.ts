import protobuf from "protobufjs/minimal.js";
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
import { emptyLogRecord, logRecordRow } from "./log-rows";
import type { LogRecordFields, LogRowIds } from "./log-rows";
import { MAX_VALUE_DEPTH, decodeBudget, invalidSpanReason, recordRejection } from "./validate";

type Reader = protobuf.Reader;

// Wire types (protobuf encoding spec).
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/**
 * Decodes an OTLP `ExportTraceServiceRequest` in protobuf straight into spans.
 *
 * protobufjs supplies the wire-format primitives (varints, UTF-8, skipping unknown
 * fields); the message walk is written here so every field lands in its final shape in
 * one pass, with ids as hex and 64-bit numbers as exact decimal strings (protobufjs'
 * generated code would allocate Long objects and intermediate messages first).
 *
 * @throws InputError (400) when the bytes are not a valid message.
 */
export function decodeTraceRequestProtobuf(body: Uint8Array): DecodedRequest {
  return decodeRequest(body, "ExportTraceServiceRequest", (r, end, resource, scope, out) => {
    const span = readSpan(r, end, resource, scope);
    const reason = invalidSpanReason(span);
    if (reason === undefined) out.spans.push(span);
    else recordRejection(out, reason);
  });
}

/**
 * Decodes an agent's OTLP `ExportLogsServiceRequest` in protobuf into stored rows (see
 * logRecordRow), ids taken from `ids`. ResourceLogs and ScopeLogs number their fields as
 * ResourceSpans and ScopeSpans do, so one walk serves both.
 *
 * @throws InputError (400) when the bytes are not a valid message.
 */
export function decodeLogsRequestProtobuf(body: Uint8Array, ids: LogRowIds): DecodedRequest {
  return decodeRequest(body, "ExportLogsServiceRequest", (r, end, resource, scope, out) => {
    const row = logRecordRow(readLogRecord(r, end), ids.take(), resource, scope);
    const reason = typeof row === "string" ? row : invalidSpanReason(row);
    if (reason === undefined) out.spans.push(row as Span);
    else recordRejection(out, reason);
  });
}

/** Reads one item (a span, a log record) of a resource and scope into `out`. */
type ItemReader = (r: Reader, end: number, resource: Resource, scope: Scope, out: DecodedRequest) => void;

function decodeRequest(body: Uint8Array, message: string, readItem: ItemReader): DecodedRequest {
  // Always a Buffer, so protobufjs picks its BufferReader and strings decode natively.
  const reader = protobuf.Reader.create(
    Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  );
  const out: DecodedRequest = { spans: [], rejectedSpans: 0, rejectionReasons: [] };
  decodeBudget.reset();
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1) {
        expectWire(tag, LEN);
        readResourceItems(reader, reader.uint32() + reader.pos, out, readItem);
      } else skip(reader, tag);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`malformed protobuf ${message}: ${(err as Error).message}`, 400, err);
  }
  return out;
}

function readResourceItems(r: Reader, end: number, out: DecodedRequest, readItem: ItemReader): void {
  const resource: Resource = { attributes: newAttributes(), droppedAttributesCount: 0, schemaUrl: "" };
  // Scope spans are collected first because resource and schema_url may follow them.
  const scopeEnds: Array<[number, number]> = [];
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        readResource(r, r.uint32() + r.pos, resource);
        break;
      case 2: {
        expectWire(tag, LEN);
        const len = r.uint32();
        scopeEnds.push([r.pos, r.pos + len]);
        r.skip(len);
        break;
      }
      case 3:
        expectWire(tag, LEN);
        resource.schemaUrl = r.string();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  const resume = r.pos;
  for (const [start, scopeEnd] of scopeEnds) {
    r.pos = start;
    readScopeItems(r, scopeEnd, resource, out, readItem);
  }
  r.pos = resume;
}

function readResource(r: Reader, end: number, resource: Resource): void {
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        readKeyValueInto(r, r.uint32() + r.pos, resource.attributes, 0);
        break;
      case 2:
        expectWire(tag, VARINT);
        resource.droppedAttributesCount = r.uint32();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
}

function readScopeItems(r: Reader, end: number, resource: Resource, out: DecodedRequest, readItem: ItemReader): void {
  const scope: Scope = { name: "", version: "", attributes: newAttributes(), droppedAttributesCount: 0, schemaUrl: "" };
  const spanStarts: Array<[number, number]> = []; // spans or log records
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        readScope(r, r.uint32() + r.pos, scope);
        break;
      case 2: {
        expectWire(tag, LEN);
        const len = r.uint32();
        spanStarts.push([r.pos, r.pos + len]);
        r.skip(len);
        break;
      }
      case 3:
        expectWire(tag, LEN);
        scope.schemaUrl = r.string();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  for (const [start, itemEnd] of spanStarts) {
    r.pos = start;
    readItem(r, itemEnd, resource, scope, out);
  }
  r.pos = end;
}

function readScope(r: Reader, end: number, scope: Scope): void {
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        scope.name = r.string();
        break;
      case 2:
        expectWire(tag, LEN);
        scope.version = r.string();
        break;
      case 3:
        expectWire(tag, LEN);
        readKeyValueInto(r, r.uint32() + r.pos, scope.attributes, 0);
        break;
      case 4:
        expectWire(tag, VARINT);
        scope.droppedAttributesCount = r.uint32();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
}

function readSpan(r: Reader, end: number, resource: Resource, scope: Scope): Span {
  decodeBudget.spend();
  const span: Span = {
    traceId: "",
    spanId: "",
    parentSpanId: "",
    traceState: "",
    flags: 0,
    name: "",
    kind: 0,
    startTimeUnixNano: "0",
    endTimeUnixNano: "0",
    attributes: newAttributes(),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    statusCode: 0,
    statusMessage: "",
    resource,
    scope,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        span.traceId = readHex(r);
        break;
      case 2:
        expectWire(tag, LEN);
        span.spanId = readHex(r);
        break;
      case 3:
        expectWire(tag, LEN);
        span.traceState = r.string();
        break;
      case 4:
        expectWire(tag, LEN);
        span.parentSpanId = readHex(r);
        break;
      case 5:
        expectWire(tag, LEN);
        span.name = r.string();
        break;
      case 6:
        expectWire(tag, VARINT);
        span.kind = r.int32();
        break;
      case 7:
        expectWire(tag, I64);
        span.startTimeUnixNano = readFixed64(r);
        break;
      case 8:
        expectWire(tag, I64);
        span.endTimeUnixNano = readFixed64(r);
        break;
      case 9:
        expectWire(tag, LEN);
        readKeyValueInto(r, r.uint32() + r.pos, span.attributes, 0);
        break;
      case 10:
        expectWire(tag, VARINT);
        span.droppedAttributesCount = r.uint32();
        break;
      case 11:
        expectWire(tag, LEN);
        span.events.push(readEvent(r, r.uint32() + r.pos));
        break;
      case 12:
        expectWire(tag, VARINT);
        span.droppedEventsCount = r.uint32();
        break;
      case 13:
        expectWire(tag, LEN);
        span.links.push(readLink(r, r.uint32() + r.pos));
        break;
      case 14:
        expectWire(tag, VARINT);
        span.droppedLinksCount = r.uint32();
        break;
      case 15:
        expectWire(tag, LEN);
        readStatus(r, r.uint32() + r.pos, span);
        break;
      case 16:
        expectWire(tag, I32);
        span.flags = r.fixed32();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return span;
}

function readLogRecord(r: Reader, end: number): LogRecordFields {
  decodeBudget.spend();
  const record = emptyLogRecord();
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, I64);
        record.timeUnixNano = readFixed64(r);
        break;
      case 2:
        expectWire(tag, VARINT);
        record.severityNumber = r.int32();
        break;
      case 3:
        expectWire(tag, LEN);
        record.severityText = r.string();
        break;
      case 5:
        expectWire(tag, LEN);
        record.body = readAnyValue(r, r.uint32() + r.pos, 0);
        break;
      case 6:
        expectWire(tag, LEN);
        readKeyValueInto(r, r.uint32() + r.pos, record.attributes, 0);
        break;
      case 7:
        expectWire(tag, VARINT);
        record.droppedAttributesCount = r.uint32();
        break;
      case 8:
        expectWire(tag, I32);
        record.flags = r.fixed32();
        break;
      case 9:
        expectWire(tag, LEN);
        record.traceId = readHex(r);
        break;
      case 10:
        expectWire(tag, LEN);
        record.spanId = readHex(r);
        break;
      case 11:
        expectWire(tag, I64);
        record.observedTimeUnixNano = readFixed64(r);
        break;
      case 12:
        expectWire(tag, LEN);
        record.eventName = r.string();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return record;
}

function readEvent(r: Reader, end: number): SpanEvent {
  decodeBudget.spend();
  const event: SpanEvent = { timeUnixNano: "0", name: "", attributes: newAttributes(), droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, I64);
        event.timeUnixNano = readFixed64(r);
        break;
      case 2:
        expectWire(tag, LEN);
        event.name = r.string();
        break;
      case 3:
        expectWire(tag, LEN);
        readKeyValueInto(r, r.uint32() + r.pos, event.attributes, 0);
        break;
      case 4:
        expectWire(tag, VARINT);
        event.droppedAttributesCount = r.uint32();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return event;
}

function readLink(r: Reader, end: number): SpanLink {
  decodeBudget.spend();
  const link: SpanLink = {
    traceId: "",
    spanId: "",
    traceState: "",
    attributes: newAttributes(),
    droppedAttributesCount: 0,
    flags: 0,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        link.traceId = readHex(r);
        break;
      case 2:
        expectWire(tag, LEN);
        link.spanId = readHex(r);
        break;
      case 3:
        expectWire(tag, LEN);
        link.traceState = r.string();
        break;
      case 4:
        expectWire(tag, LEN);
        readKeyValueInto(r, r.uint32() + r.pos, link.attributes, 0);
        break;
      case 5:
        expectWire(tag, VARINT);
        link.droppedAttributesCount = r.uint32();
        break;
      case 6:
        expectWire(tag, I32);
        link.flags = r.fixed32();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return link;
}

function readStatus(r: Reader, end: number, span: Span): void {
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 2:
        expectWire(tag, LEN);
        span.statusMessage = r.string();
        break;
      case 3:
        expectWire(tag, VARINT);
        span.statusCode = r.int32();
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
}

function readKeyValueInto(r: Reader, end: number, into: Attributes, depth: number): void {
  const kv = readKeyValue(r, end, depth);
  into[kv.key] = kv.value;
}

function readKeyValue(r: Reader, end: number, depth: number): KeyValue {
  let key = "";
  let value: AnyValue = {};
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        key = readKey(r);
        break;
      case 2:
        expectWire(tag, LEN);
        value = readAnyValue(r, r.uint32() + r.pos, depth);
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return { key, value };
}

/**
 * Attribute keys repeat in every span ("session.id", "gen_ai.tool.name", ...). Keys are
 * interned by their bytes: a hit skips UTF-8 decoding and allocates nothing, which
 * measurably cuts decode time and garbage. The cache is bounded; keys past the bound
 * are decoded normally, so hostile key churn costs nothing extra.
 */
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<number, { bytes: Uint8Array; key: string }>();

function readKey(r: Reader): string {
  const len = r.uint32();
  const start = r.pos;
  r.skip(len); // bounds-checked: throws past the end of the body
  const end = r.pos;
  const buf = r.buf as Buffer;
  let h = 0x811c9dc5 ^ len;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 16777619);
  const hit = keyCache.get(h);
  if (hit !== undefined && hit.bytes.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (hit.bytes[i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit.key;
  }
  const key = buf.toString("utf8", start, end);
  // A copy, not a view: a view would keep the whole request body alive in the cache.
  if (hit === undefined && keyCache.size < KEY_CACHE_LIMIT)
    keyCache.set(h, { bytes: Uint8Array.prototype.slice.call(buf, start, end), key });
  return key;
}

function readAnyValue(r: Reader, end: number, depth: number): AnyValue {
  decodeBudget.spend();
  if (depth > MAX_VALUE_DEPTH)
    throw new InputError(`attribute values are nested deeper than ${MAX_VALUE_DEPTH} levels`);
  let value: AnyValue = {};
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN);
        value = { stringValue: r.string() };
        break;
      case 2:
        expectWire(tag, VARINT);
        value = { boolValue: r.bool() };
        break;
      case 3: {
        expectWire(tag, VARINT);
        const n = r.int64();
        value = { intValue: typeof n === "number" ? String(n) : n.toString() };
        break;
      }
      case 4: {
        expectWire(tag, I64);
        const d = r.double();
        value = { doubleValue: Number.isFinite(d) ? d : (String(d) as "NaN" | "Infinity" | "-Infinity") };
        break;
      }
      case 5: {
        expectWire(tag, LEN);
        const arrEnd = r.uint32() + r.pos;
        const values: AnyValue[] = [];
        while (r.pos < arrEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) {
            expectWire(t, LEN);
            values.push(readAnyValue(r, r.uint32() + r.pos, depth + 1));
          } else skip(r, t);
        }
        checkEnd(r, arrEnd);
        value = { arrayValue: { values } };
        break;
      }
      case 6: {
        expectWire(tag, LEN);
        const listEnd = r.uint32() + r.pos;
        const values: KeyValue[] = [];
        while (r.pos < listEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) {
            expectWire(t, LEN);
            values.push(readKeyValue(r, r.uint32() + r.pos, depth + 1));
          } else skip(r, t);
        }
        checkEnd(r, listEnd);
        value = { kvlistValue: { values } };
        break;
      }
      case 7:
        expectWire(tag, LEN);
        value = { bytesValue: readBase64(r) };
        break;
      default:
        skip(r, tag);
    }
  }
  checkEnd(r, end);
  return value;
}

function readHex(r: Reader): string {
  const len = r.uint32();
  const start = r.pos;
  r.skip(len);
  return (r.buf as Buffer).toString("hex", start, start + len);
}

function readBase64(r: Reader): string {
  const len = r.uint32();
  const start = r.pos;
  r.skip(len);
  return (r.buf as Buffer).toString("base64", start, start + len);
}

/**
 * fixed64 as an exact decimal string. Nanosecond timestamps (~1.7e18) exceed 2^53, so
 * the high word goes through BigInt rather than a double.
 */
function readFixed64(r: Reader): string {
  const lo = r.fixed32();
  const hi = r.fixed32();
  if (hi === 0) return String(lo);
  if (hi < 0x200000) return String(hi * 4294967296 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function expectWire(tag: number, wire: number): void {
  if ((tag & 7) !== wire) throw new InputError(`field ${tag >>> 3} has wire type ${tag & 7}, expected ${wire}`);
}

function skip(r: Reader, tag: number): void {
  r.skipType(tag & 7, 0, tag >>> 3);
}

function checkEnd(r: Reader, end: number): void {
  if (r.pos !== end) throw new InputError("a length-delimited field overruns its parent message");
}
