import type { SpanFacts } from "@vigil/facts";
import type { Resource, Scope, Span } from "@vigil/otlp";

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
  "claimed_agent",
  "environment",
  "operation",
  "tool",
  "db_system",
  "db_operation",
  "db_tables",
  "db_tables_written",
  "db_statement_kinds",
  "db_tables_approximate",
  "outbound_host",
  "credential_id",
  "peer_agent",
  "input",
  "input_source",
  "approval_id",
  "approval_status",
  "destructive",
  "destructive_reason",
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
export function encodeSpanRows(spans: readonly Span[], facts: readonly SpanFacts[], ctx: RowContext): string {
  const head = `[${JSON.stringify(ctx.batchId)},${JSON.stringify(ctx.agentId)},"`;
  const received = `,"${ctx.receivedAtMs}",${JSON.stringify(ctx.requestDigest)},`;
  let lastResource: Resource | undefined;
  let resourceCols = "";
  let lastScope: Scope | undefined;
  let scopeCols = "";
  let out = "";
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i] as Span;
    const f = facts[i] as SpanFacts;
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
      `${JSON.stringify(s.statusMessage)},${JSON.stringify(f.sessionId)},${JSON.stringify(s.attributes)},` +
      `${s.droppedAttributesCount},${s.events.length === 0 ? "[]" : JSON.stringify(s.events)},${s.droppedEventsCount},` +
      `${s.links.length === 0 ? "[]" : JSON.stringify(s.links)},${s.droppedLinksCount},${resourceCols},${scopeCols}${received}` +
      `${JSON.stringify(f.claimedAgent)},${JSON.stringify(f.environment)},${JSON.stringify(f.operation)},${JSON.stringify(f.tool)},` +
      `${JSON.stringify(f.dbSystem)},${JSON.stringify(f.dbOperation)},${JSON.stringify(f.dbTables)},${JSON.stringify(f.dbTablesWritten)},` +
      `${JSON.stringify(f.dbStatementKinds)},${f.dbTablesApproximate},${JSON.stringify(f.outboundHost)},${JSON.stringify(f.credentialId)},` +
      `${JSON.stringify(f.peerAgent)},${JSON.stringify(f.input)},${JSON.stringify(f.inputSource)},${JSON.stringify(f.approvalId)},` +
      `${JSON.stringify(f.approvalStatus)},${f.destructive},${JSON.stringify(f.destructiveReason)}]\n`;
  }
  return out;
}
