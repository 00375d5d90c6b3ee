import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { AttributeValue, HrTime } from "@opentelemetry/api";
import { findTrace } from "@vigil/store";
import type { StoredSpan } from "@vigil/store";
import type { AnyValue } from "@vigil/otlp";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
beforeAll(async () => {
  // Through a pipeline thread (the default from three cores up; see VIGIL_INGEST_THREADS).
  h = await startVigil(undefined, { env: { VIGIL_INGEST_THREADS: "1" } });
});
afterAll(async () => {
  await h.stop();
});

const ns = (t: HrTime): string => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

/** How the OTLP exporters encode a JS attribute value. */
function otlpValue(v: AttributeValue | undefined): AnyValue {
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: (v as AttributeValue[]).map((x) => otlpValue(x)) } };
  return {};
}
function otlpAttributes(attrs: Record<string, AttributeValue | undefined>): Record<string, AnyValue> {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, otlpValue(v)]));
}

/** Emits a small agent session through a real OTel SDK and exporter; returns what the SDK saw. */
async function emitSession(exporter: SpanExporter, label: string): Promise<ReadableSpan[]> {
  const seen = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": "support-bot",
      "deployment.environment.name": "test",
      "host.cpus": 2,
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(seen)],
  });
  const tracer = provider.getTracer("vigil-e2e", "1.2.3");
  const root = tracer.startSpan(`invoke_agent ${label}`, {
    kind: SpanKind.SERVER,
    attributes: { "session.id": `sess-${label}`, "gen_ai.operation.name": "invoke_agent" },
  });
  const linked = tracer.startSpan("earlier work");
  linked.end();
  const ctx = trace.setSpan(context.active(), root);
  const child = tracer.startSpan(
    "execute_tool delete_records",
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "gen_ai.tool.name": "delete_records",
        "db.query.text": "DELETE FROM users WHERE last_login < '2020-01-01'",
        "retry.count": 3,
        score: 0.75,
        dry_run: false,
        tables: ["users", "sessions"],
        "shard.ids": [1, 2, 3],
        weights: [0.5, 1.5],
        flags: [true, false],
        "session.id": `sess-${label}`,
      },
      links: [{ context: linked.spanContext(), attributes: { "link.reason": "follows" } }],
    },
    ctx,
  );
  child.addEvent("gen_ai.user.message", { content: "clean up old records", turn: 2 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: "permission denied" });
  child.end();
  root.setStatus({ code: SpanStatusCode.OK });
  root.end();
  await provider.forceFlush();
  const finished = seen.getFinishedSpans();
  await provider.shutdown();
  return finished;
}

function expectStoredMatches(stored: StoredSpan, sdk: ReadableSpan, agentId: string): void {
  expect(stored.agentId).toBe(agentId);
  expect(stored.traceId).toBe(sdk.spanContext().traceId);
  expect(stored.spanId).toBe(sdk.spanContext().spanId);
  expect(stored.parentSpanId).toBe(sdk.parentSpanContext?.spanId ?? "");
  expect(stored.flags & 0xff).toBe(sdk.spanContext().traceFlags);
  expect(stored.name).toBe(sdk.name);
  expect(stored.kind).toBe(sdk.kind + 1);
  expect(stored.startTimeUnixNano).toBe(ns(sdk.startTime));
  expect(stored.endTimeUnixNano).toBe(ns(sdk.endTime));
  expect(stored.durationNs).toBe((BigInt(ns(sdk.endTime)) - BigInt(ns(sdk.startTime))).toString());
  expect(stored.statusCode).toBe(sdk.status.code);
  expect(stored.statusMessage).toBe(sdk.status.message ?? "");
  expect(stored.attributes).toEqual(otlpAttributes(sdk.attributes));
  expect(stored.droppedAttributesCount).toBe(sdk.droppedAttributesCount);
  expect(stored.events).toEqual(
    sdk.events.map((e) => ({
      timeUnixNano: ns(e.time),
      name: e.name,
      attributes: otlpAttributes(e.attributes ?? {}),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
  );
  expect(stored.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes }))).toEqual(
    sdk.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      attributes: otlpAttributes(l.attributes ?? {}),
    })),
  );
  expect(stored.resource.attributes).toEqual(otlpAttributes(sdk.resource.attributes));
  expect(stored.scope).toMatchObject({
    name: sdk.instrumentationScope.name,
    version: sdk.instrumentationScope.version,
  });
}

describe.each([
  [
    "http/json",
    (url: string, token: string) => new JsonExporter({ url, headers: { Authorization: `Bearer ${token}` } }),
  ],
  [
    "http/protobuf",
    (url: string, token: string) => new ProtoExporter({ url, headers: { Authorization: `Bearer ${token}` } }),
  ],
])("spans sent by the official OTel %s exporter", (label, makeExporter) => {
  it("are read back from ClickHouse field for field", async () => {
    const sdkSpans = await emitSession(
      makeExporter(h.ingestUrl, h.tokens["support-bot"] as string),
      label.replace("/", "-"),
    );
    expect(sdkSpans).toHaveLength(3);
    for (const sdk of sdkSpans) {
      const stored = (await findTrace(h.vigil.client, sdk.spanContext().traceId)).find(
        (s) => s.spanId === sdk.spanContext().spanId,
      );
      expect(stored, `span ${sdk.name} is stored`).toBeDefined();
      expectStoredMatches(stored as StoredSpan, sdk, "support-bot");
    }
  });
});
