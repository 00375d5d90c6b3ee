/**
 * The decoded form of an OTLP ExportTraceServiceRequest, shared by the protobuf and JSON
 * decoders. Values keep the OTLP/JSON shape (hex ids, int64 and fixed64 as decimal
 * strings, AnyValue as `{ stringValue }`, `{ intValue }`, ...) so that nothing is lost
 * and the stored JSON is what any OTLP reader already knows.
 */

/** One OTLP AnyValue, in its OTLP/JSON shape. An unset value is `{}`. */
export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | "NaN" | "Infinity" | "-Infinity" }
  | { bytesValue: string }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | Record<string, never>;

export interface KeyValue {
  key: string;
  value: AnyValue;
}

/**
 * Attributes keyed by name. OTLP requires unique keys; when a sender repeats one, the
 * last value wins. Objects are created with a null prototype so a key such as
 * `__proto__` is stored like any other.
 */
export type Attributes = Record<string, AnyValue>;

export interface Resource {
  attributes: Attributes;
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface Scope {
  name: string;
  version: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  schemaUrl: string;
}

export interface SpanEvent {
  timeUnixNano: string;
  name: string;
  attributes: Attributes;
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  /** StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  /** Shared by every span of the same ResourceSpans / ScopeSpans. */
  resource: Resource;
  scope: Scope;
}

/** What a decoder returns: the valid spans, and why the others were rejected. */
export interface DecodedRequest {
  spans: Span[];
  rejectedSpans: number;
  /** One message per distinct reason, for partial_success.error_message. */
  rejectionReasons: string[];
}

/** Creates an empty attribute map that has no prototype keys. */
export function newAttributes(): Attributes {
  return Object.create(null) as Attributes;
}
