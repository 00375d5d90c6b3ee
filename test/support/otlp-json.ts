/** One span for `jsonTraceRequest`: string attributes only, times in nanoseconds. */
export interface JsonSpanSpec {
  traceId: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startNs?: bigint;
  attrs: Record<string, string>;
}

/**
 * An OTLP/JSON ExportTraceServiceRequest body with the given spans (each lasting 1 µs,
 * starting now unless told), as the tests and the bench send them.
 */
export function jsonTraceRequest(spans: readonly JsonSpanSpec[], resource: Record<string, string> = {}): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  const kv = (attrs: Record<string, string>) =>
    Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } }));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: kv(resource) },
        scopeSpans: [
          {
            spans: spans.map((s) => {
              const start = s.startNs ?? now;
              return {
                traceId: s.traceId,
                spanId: s.spanId ?? "00000000000000a1",
                ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }),
                name: s.name ?? "step",
                kind: s.kind ?? 1,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + 1000n),
                attributes: kv(s.attrs),
              };
            }),
          },
        ],
      },
    ],
  });
}
