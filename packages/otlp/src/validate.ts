import { InputError } from "@vigil/common";
import type { DecodedRequest, Span } from "./model";

/**
 * The deepest AnyValue nesting (arrays in arrays, kvlists in kvlists) we accept. Deeper
 * payloads are hostile or broken; refusing them keeps the decoders off the stack limit.
 */
export const MAX_VALUE_DEPTH = 32;

/**
 * The most spans, events, links and attribute values one request may decode to. A
 * decoded value takes far more memory than its encoding (a 2-byte attribute in
 * protobuf becomes objects of about 100 bytes), so a gzip body under 1 MiB grew the
 * process by 1.4 GB. An exporter's batch of 8,192 spans with 50 attributes each is
 * under half of this.
 */
export const MAX_DECODED_ITEMS = 1_000_000;

/**
 * Counts what one decode builds. Decoding is synchronous, so one counter, reset at the
 * start of each decode, serves every request.
 */
export const decodeBudget = {
  left: MAX_DECODED_ITEMS,
  reset(): void {
    this.left = MAX_DECODED_ITEMS;
  },
  spend(): void {
    if (--this.left < 0)
      throw new InputError(
        `the request holds more than ${MAX_DECODED_ITEMS} spans, events, links and attribute values; send smaller batches`,
        413,
      );
  },
};

/** Counts a rejected span and keeps one message per distinct reason. */
export function recordRejection(out: DecodedRequest, reason: string): void {
  out.rejectedSpans++;
  if (!out.rejectionReasons.includes(reason)) out.rejectionReasons.push(reason);
}

const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * Checks one span against the OTLP rules that make it storable. Returns the reason it
 * is invalid, or undefined. Timestamps arrive as decimal strings without leading zeros,
 * so comparing length first and then text orders them numerically.
 */
export function invalidSpanReason(span: Span): string | undefined {
  if (span.traceId.length !== 32 || span.traceId === ZERO_TRACE) return "trace_id must be 16 bytes and not all zero";
  if (span.spanId.length !== 16 || span.spanId === ZERO_SPAN) return "span_id must be 8 bytes and not all zero";
  if (span.parentSpanId !== "" && span.parentSpanId.length !== 16) return "parent_span_id must be empty or 8 bytes";
  if (span.startTimeUnixNano === "0") return "start_time_unix_nano is missing";
  if (compareDecimal(span.endTimeUnixNano, span.startTimeUnixNano) < 0)
    return "end_time_unix_nano is before start_time_unix_nano";
  for (const link of span.links) {
    if (link.traceId.length !== 32 || link.spanId.length !== 16)
      return "a link's trace_id or span_id has the wrong length";
  }
  return undefined;
}

/** Compares two non-negative decimal strings without leading zeros. */
export function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
