import { createHash } from "node:crypto";
import { newAttributes } from "./model";
import type { AnyValue, Attributes, Resource, Scope, Span } from "./model";

/** The fields of one OTLP LogRecord, as the decoders read them. */
export interface LogRecordFields {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: AnyValue | undefined;
  attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
  traceId: string;
  spanId: string;
  eventName: string;
}

const SPAN_KIND_INTERNAL = 1;

/**
 * Ids for the rows of one log request, derived from the request's digest and each
 * record's position: the same request sent twice gives the same rows (dedup keeps one),
 * and no two records share a row id.
 */
export class LogRowIds {
  private next = 0;

  constructor(private readonly seed: string) {}

  /** 48 hex: a span id (16), then a trace id (32) for a record outside any trace. */
  take(): string {
    return createHash("sha256").update(`${this.seed}:${this.next++}`).digest("hex").slice(0, 48);
  }
}

/**
 * An agent's log record as a stored row: a zero-length child of the span it was emitted
 * in (its trace and span ids), named by its event name, with the record's attributes,
 * and one span event that carries its body (a map's entries, or `body`) and severity. OpenTelemetry's
 * event model makes a span event and an event log record the same thing, so the GenAI
 * events that instrumentations send as logs (`gen_ai.user.message`, `gen_ai.tool.message`,
 * `gen_ai.client.inference.operation.details`) are read by the same fact extraction as
 * the span events of libraries that attach them to spans. A record outside any trace
 * gets a trace of its own. Returns the reason when the record cannot be stored.
 */
export function logRecordRow(record: LogRecordFields, rowId: string, resource: Resource, scope: Scope): Span | string {
  if (record.traceId !== "" && record.traceId.length !== 32) return "a log record's trace_id must be empty or 16 bytes";
  if (record.spanId !== "" && (record.spanId.length !== 16 || record.traceId === ""))
    return "a log record's span_id must be empty or 8 bytes, with a trace_id";
  const time = record.timeUnixNano !== "0" ? record.timeUnixNano : record.observedTimeUnixNano;
  if (time === "0") return "a log record needs time_unix_nano or observed_time_unix_nano";
  const eventName = record.eventName || eventNameAttribute(record.attributes);
  const eventAttributes = newAttributes();
  const body = record.body;
  if (body !== undefined && "kvlistValue" in body)
    for (const kv of body.kvlistValue.values) eventAttributes[kv.key] = kv.value;
  else if (body !== undefined && Object.keys(body).length > 0) eventAttributes.body = body;
  if (record.severityText !== "") eventAttributes["log.severity_text"] ??= { stringValue: record.severityText };
  if (record.severityNumber !== 0)
    eventAttributes["log.severity_number"] ??= { intValue: String(record.severityNumber) };
  return {
    traceId: record.traceId || rowId.slice(16, 48),
    spanId: rowId.slice(0, 16),
    parentSpanId: record.spanId,
    traceState: "",
    flags: record.flags,
    name: eventName || "log record",
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: time,
    endTimeUnixNano: time,
    attributes: record.attributes,
    droppedAttributesCount: record.droppedAttributesCount,
    events: [{ timeUnixNano: time, name: eventName || "log", attributes: eventAttributes, droppedAttributesCount: 0 }],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    statusCode: 0,
    statusMessage: "",
    resource,
    scope,
  };
}

/** The event name SDKs before LogRecord.event_name put in attributes. */
function eventNameAttribute(attributes: Attributes): string {
  const v = attributes["event.name"];
  return v !== undefined && "stringValue" in v ? v.stringValue : "";
}

export function emptyLogRecord(): LogRecordFields {
  return {
    timeUnixNano: "0",
    observedTimeUnixNano: "0",
    severityNumber: 0,
    severityText: "",
    body: undefined,
    attributes: newAttributes(),
    droppedAttributesCount: 0,
    flags: 0,
    traceId: "",
    spanId: "",
    eventName: "",
  };
}
