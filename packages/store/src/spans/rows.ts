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
  /** The agent of the token that sent the request: the only agent id ever stored. */
  agentId: string;
  /** Milliseconds since the epoch. */
  receivedAtMs: number;
  requestDigest: string;
}

/**
 * Encodes one request's spans as JSONCompactEachRow lines, without the leading
 * batch_id, which the batcher adds when it knows the batch (see `withBatchId`).
 *
 * Measured: compact JSON arrays parse ~20% faster in ClickHouse than JSONEachRow. The
 * JSON columns (attributes, events, links) are embedded as raw JSON values, which
 * ClickHouse stores as their text (input_format_json_read_objects_as_strings), instead
 * of as escaped strings: that saves a second escaping pass in Node and in the engine.
 */
export function encodeSpanRows(spans: readonly Span[], ctx: RowContext): string[] {
  const lines: string[] = new Array<string>(spans.length);
  const tail = `,"${ctx.receivedAtMs}",${JSON.stringify(ctx.requestDigest)}]`;
  const agent = JSON.stringify(ctx.agentId);
  let lastResource: Resource | undefined;
  let resourceCols = "";
  let lastScope: Scope | undefined;
  let scopeCols = "";
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i] as Span;
    if (s.resource !== lastResource) {
      lastResource = s.resource;
      resourceCols = `${JSON.stringify(s.resource.attributes)},${s.resource.droppedAttributesCount},${JSON.stringify(s.resource.schemaUrl)}`;
    }
    if (s.scope !== lastScope) {
      lastScope = s.scope;
      scopeCols = JSON.stringify([
        s.scope.name,
        s.scope.version,
        s.scope.attributes,
        s.scope.droppedAttributesCount,
        s.scope.schemaUrl,
      ]).slice(1, -1);
    }
    const middle = JSON.stringify([
      s.startTimeUnixNano,
      s.endTimeUnixNano,
      s.traceId,
      s.spanId,
      s.parentSpanId,
      s.traceState,
      s.flags,
      s.name,
      s.kind,
      s.statusCode,
      s.statusMessage,
      sessionIdOf(s.attributes),
      s.attributes,
      s.droppedAttributesCount,
      s.events,
      s.droppedEventsCount,
      s.links,
      s.droppedLinksCount,
    ]).slice(1, -1);
    lines[i] = `,${agent},${middle},${resourceCols},${scopeCols}${tail}`;
  }
  return lines;
}

/** Completes lines from `encodeSpanRows` with their batch id into one insert body. */
export function withBatchId(batchId: string, lines: readonly string[]): string {
  const head = `[${JSON.stringify(batchId)}`;
  let body = "";
  for (const line of lines) body += `${head}${line}\n`;
  return body;
}

/** The session a span belongs to, by the OpenTelemetry conventions. */
export function sessionIdOf(attributes: Attributes): string {
  const v = attributes["session.id"] ?? attributes["gen_ai.conversation.id"];
  return v !== undefined && "stringValue" in v ? v.stringValue : "";
}
