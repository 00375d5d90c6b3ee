import type { Attributes, Resource, Scope, Span } from "@vigil/otlp";

/**
 * The columns ingest writes, in the order of each JSONCompactEachRow line. Defined once:
 * the row encoder below and the INSERT statement both read it.
 */
export const SPAN_INSERT_COLUMNS = [
  "batch_id",
  "agent_id",
  "start_time",
  "end_time",
  "trace_id",
  "span_id",
  "parent_span_id",
  "trace_state",
  "flags",
  "name",
  "kind",
  "status_code",
  "status_message",
  "session_id",
  "attributes",
  "dropped_attributes_count",
  "events",
  "dropped_events_count",
  "links",
  "dropped_links_count",
  "resource_attributes",
  "resource_dropped_attributes_count",
  "resource_schema_url",
  "scope_name",
  "scope_version",
  "scope_attributes",
  "scope_dropped_attributes_count",
  "scope_schema_url",
  "received_at",
  "request_digest",
] as const;

/** What ingest knows about a request that is not in its spans. */
export interface RowContext {
  /** The insert batch the rows go into (the ledger's unit). */
  batchId: string;
  /** The agent of the token that sent the request: the only agent id ever stored. */
  agentId: string;
  /** Milliseconds since the epoch. */
  receivedAtMs: number;
  requestDigest: string;
}

/**
 * Encodes spans as JSONCompactEachRow text, one line per span, in the column order of
 * SPAN_INSERT_COLUMNS. This is the hot path of ingest, so each line is written in one
 * template: ids and timestamps are hex and digits (checked by the decoders) and go in
 * without escaping; every free-text value goes through JSON.stringify.
 *
 * Measured: compact JSON arrays parse ~20% faster in ClickHouse than JSONEachRow. The
 * JSON columns (attributes, events, links) are embedded as raw JSON values, which
 * ClickHouse stores as their text (input_format_json_read_objects_as_strings), instead
 * of as escaped strings: that saves a second escaping pass in Node and in the engine.
 */
export function encodeSpanRows(spans: readonly Span[], ctx: RowContext): string {
  const head = `[${JSON.stringify(ctx.batchId)},${JSON.stringify(ctx.agentId)},"`;
  const tail = `,"${ctx.receivedAtMs}",${JSON.stringify(ctx.requestDigest)}]\n`;
  let lastResource: Resource | undefined;
  let resourceCols = "";
  let lastScope: Scope | undefined;
  let scopeCols = "";
  let out = "";
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i] as Span;
    if (s.resource !== lastResource) {
      lastResource = s.resource;
      const r = s.resource;
      resourceCols = `${JSON.stringify(r.attributes)},${r.droppedAttributesCount},${JSON.stringify(r.schemaUrl)}`;
    }
    if (s.scope !== lastScope) {
      lastScope = s.scope;
      const c = s.scope;
      scopeCols = `${JSON.stringify(c.name)},${JSON.stringify(c.version)},${JSON.stringify(c.attributes)},${c.droppedAttributesCount},${JSON.stringify(c.schemaUrl)}`;
    }
    out +=
      `${head}${s.startTimeUnixNano}","${s.endTimeUnixNano}","${s.traceId}","${s.spanId}","${s.parentSpanId}",` +
      `${JSON.stringify(s.traceState)},${s.flags},${JSON.stringify(s.name)},${s.kind},${s.statusCode},` +
      `${JSON.stringify(s.statusMessage)},${JSON.stringify(sessionIdOf(s.attributes))},${JSON.stringify(s.attributes)},` +
      `${s.droppedAttributesCount},${s.events.length === 0 ? "[]" : JSON.stringify(s.events)},${s.droppedEventsCount},` +
      `${s.links.length === 0 ? "[]" : JSON.stringify(s.links)},${s.droppedLinksCount},${resourceCols},${scopeCols}${tail}`;
  }
  return out;
}

/** The session a span belongs to, by the OpenTelemetry conventions. */
export function sessionIdOf(attributes: Attributes): string {
  const v = attributes["session.id"] ?? attributes["gen_ai.conversation.id"];
  return v !== undefined && "stringValue" in v ? v.stringValue : "";
}
