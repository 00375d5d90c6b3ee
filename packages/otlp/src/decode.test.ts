import { describe, expect, it } from "vitest";
import { InputError } from "@vigil/common";
import {
  encodeProtobufLogsRequest,
  encodeProtobufRequest,
  fixtureNs,
  richRequest,
} from "../../../test/support/otlp-fixtures";
import { decodeLogsRequestJson, decodeTraceRequestJson } from "./decode-json";
import { decodeLogsRequestProtobuf, decodeTraceRequestProtobuf } from "./decode-protobuf";
import { LogRowIds } from "./log-rows";
import type { DecodedRequest, Span } from "./model";

/** Spans without the shared resource/scope references, for deep comparison. */
function plain(decoded: DecodedRequest): unknown {
  return JSON.parse(JSON.stringify(decoded));
}

describe("OTLP decoders", () => {
  it("decode protobuf and JSON encodings of the same request to the same spans", () => {
    const json = richRequest();
    const fromProto = decodeTraceRequestProtobuf(encodeProtobufRequest(json));
    const fromJson = decodeTraceRequestJson(JSON.stringify(json));
    expect(fromProto.rejectedSpans).toBe(0);
    expect(plain(fromProto)).toEqual(plain(fromJson));
  });

  it("keeps every field and AnyValue kind exactly", () => {
    const { spans } = decodeTraceRequestProtobuf(encodeProtobufRequest(richRequest()));
    const span = spans[0] as Span;
    expect(span.traceId).toBe("5b8efff798038103d269b633813fc60c");
    expect(span.parentSpanId).toBe("eee19b7ec3c1b173");
    expect(span.flags).toBe(257);
    expect(span.kind).toBe(3);
    expect(span.startTimeUnixNano).toBe(fixtureNs(123_456_789));
    expect(span.endTimeUnixNano).toBe(fixtureNs(1_111_111_110));
    expect(span.attributes["a.int"]).toEqual({ intValue: "-9223372036854775808" });
    expect(span.attributes["a.big"]).toEqual({ intValue: "9223372036854775807" });
    expect(span.attributes["a.double"]).toEqual({ doubleValue: 3.141592653589793 });
    expect(span.attributes["a.bytes"]).toEqual({ bytesValue: "AAEC/v8=" });
    expect(span.attributes["a.array"]).toEqual({
      arrayValue: {
        values: [{ stringValue: "x" }, { intValue: "7" }, { arrayValue: { values: [{ boolValue: true }] } }],
      },
    });
    expect(span.attributes["a.kvlist"]).toEqual({
      kvlistValue: {
        values: [
          { key: "inner", value: { stringValue: "v" } },
          { key: "n", value: { doubleValue: 0.5 } },
        ],
      },
    });
    expect(span.attributes["a.empty"]).toEqual({});
    expect(span.events[0]).toEqual({
      timeUnixNano: fixtureNs(123_456_790),
      name: "gen_ai.user.message",
      attributes: { content: { stringValue: "delete old records" } },
      droppedAttributesCount: 4,
    });
    expect(span.links[0]?.flags).toBe(1);
    expect([span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount]).toEqual([3, 5, 7]);
    expect([span.statusCode, span.statusMessage]).toEqual([2, "tool failed"]);
    expect(span.resource.schemaUrl).toBe("https://opentelemetry.io/schemas/1.30.0");
    expect(span.scope).toMatchObject({ name: "agent-runtime", version: "2.1.0", droppedAttributesCount: 2 });
  });

  it("ignores unknown protobuf fields at any level", () => {
    const bytes = encodeProtobufRequest(richRequest());
    // Field 99, varint 1, appended to the top-level message.
    const withUnknown = Buffer.concat([Buffer.from(bytes), Buffer.from([0x98, 0x06, 0x01])]);
    expect(plain(decodeTraceRequestProtobuf(withUnknown))).toEqual(plain(decodeTraceRequestProtobuf(bytes)));
  });

  it("accepts JSON int64 as numbers, enums as names, and ignores unknown keys", () => {
    const req = richRequest() as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
    };
    const span = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    span.kind = "SPAN_KIND_CLIENT";
    span.startTimeUnixNano = 1_764_000_000_000_000;
    span.endTimeUnixNano = "1764000000000000001";
    span.somethingNew = { nested: true };
    const decoded = decodeTraceRequestJson(JSON.stringify(req));
    expect(decoded.spans[0]).toMatchObject({
      kind: 3,
      startTimeUnixNano: "1764000000000000",
      endTimeUnixNano: "1764000000000000001",
    });
  });

  it("keeps JSON number int64 values above 2^53 exact (current nanosecond times), and leaves strings alone", () => {
    // As the OTLP project's own example request writes them: bare numbers.
    const body = `{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"I'm a server span",
      "startTimeUnixNano": 1544712660000000001, "endTimeUnixNano":1544712661000000009, "kind":2,
      "attributes":[{"key":"my.count","value":{"intValue": 9007199254740993}},
        {"key":"note","value":{"stringValue":"\\"startTimeUnixNano\\": 1"}}],
      "events":[{"timeUnixNano":1544712660500000007,"name":"e"}]}]}]}]}`;
    const [span] = decodeTraceRequestJson(body).spans;
    expect(span).toMatchObject({
      startTimeUnixNano: "1544712660000000001",
      endTimeUnixNano: "1544712661000000009",
      events: [{ timeUnixNano: "1544712660500000007" }],
    });
    expect(span?.attributes["my.count"]).toEqual({ intValue: "9007199254740993" });
    // Inside a string the key's quotes are escaped in the JSON, so the text is kept as sent.
    expect(span?.attributes.note).toEqual({ stringValue: '"startTimeUnixNano": 1' });
  });

  it("rejects invalid spans individually and keeps the valid ones", () => {
    const good = richRequest();
    const bad = richRequest("00000000000000000000000000000000");
    const badTime = richRequest("11111111111111111111111111111111");
    const badSpan = (
      badTime as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> }
    ).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    badSpan.endTimeUnixNano = "1";
    const merged = {
      resourceSpans: [good, bad, badTime].flatMap((r) => (r as { resourceSpans: unknown[] }).resourceSpans),
    };
    for (const decoded of [
      decodeTraceRequestJson(JSON.stringify(merged)),
      decodeTraceRequestProtobuf(encodeProtobufRequest(merged)),
    ]) {
      expect(decoded.spans).toHaveLength(1);
      expect(decoded.rejectedSpans).toBe(2);
      expect(decoded.rejectionReasons).toEqual([
        "trace_id must be 16 bytes and not all zero",
        "end_time_unix_nano is before start_time_unix_nano",
      ]);
    }
  });

  it("rejects a JSON span whose fields have the wrong types, keeping the rest", () => {
    const req = richRequest() as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
    const spans = req.resourceSpans[0]!.scopeSpans[0]!.spans;
    spans.push({ ...(spans[0] as object), spanId: "zz-not-hex" }, { ...(spans[0] as object), attributes: "nope" });
    const decoded = decodeTraceRequestJson(JSON.stringify(req));
    expect(decoded.spans).toHaveLength(1);
    expect(decoded.rejectedSpans).toBe(2);
  });

  it("rejects a JSON span holding a lone UTF-16 surrogate (which no store column can hold), keeping paired ones", () => {
    const req = richRequest() as { resourceSpans: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
    const spans = req.resourceSpans[0]!.scopeSpans[0]!.spans;
    const base = spans[0] as Record<string, unknown>;
    const attr = (v: string) => [{ key: "tool.input", value: { stringValue: v } }];
    spans.push(
      { ...base, spanId: "00000000000000c1", name: "lone \ud800" },
      { ...base, spanId: "00000000000000c2", attributes: attr("trailing \udfff") },
      { ...base, spanId: "00000000000000c3", attributes: attr("paired \ud83d\ude00") },
    );
    // Written with escapes, as an agent would, so JSON.stringify does not touch them.
    const body = JSON.stringify(req).replaceAll("\\\\u", "\\u");
    const decoded = decodeTraceRequestJson(body);
    expect(decoded.spans.map((s) => s.spanId)).toEqual([base.spanId, "00000000000000c3"]);
    expect(decoded.rejectionReasons).toEqual(["a string holds a lone UTF-16 surrogate (not valid Unicode)"]);
    // Protobuf cannot carry one: protobufjs writes a lone surrogate as the bytes ED A0 80,
    // which are not UTF-8 and decode to U+FFFD.
    const pb = richRequest() as typeof req;
    (pb.resourceSpans[0]!.scopeSpans[0]!.spans[0] as Record<string, unknown>).name = "lone \ud800";
    const fromProtobuf = decodeTraceRequestProtobuf(encodeProtobufRequest(pb)).spans[0]?.name;
    expect(fromProtobuf).toBe("lone \ufffd\ufffd\ufffd");
  });

  it("refuses bodies that cannot be parsed with a 400 InputError", () => {
    const bytes = encodeProtobufRequest(richRequest());
    const cases: Array<() => unknown> = [
      () => decodeTraceRequestProtobuf(bytes.subarray(0, bytes.length - 7)),
      () => decodeTraceRequestProtobuf(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])),
      () => decodeTraceRequestProtobuf(Buffer.from([0x0f])),
      () => decodeTraceRequestJson("{not json"),
      () => decodeTraceRequestJson("[]"),
      () => decodeTraceRequestJson('{"resourceSpans": 5}'),
    ];
    for (const run of cases) {
      let caught: unknown;
      try {
        run();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as InputError).status).toBe(400);
    }
  });

  it("refuses attribute values nested deeper than the limit", () => {
    let value: Record<string, unknown> = { stringValue: "leaf" };
    for (let i = 0; i < 40; i++) value = { arrayValue: { values: [value] } };
    const req = richRequest() as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: unknown[] }> }> }>;
    };
    req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push({ key: "deep", value });
    expect(() => decodeTraceRequestJson(JSON.stringify(req))).toThrow(/nested deeper/);
    expect(() => decodeTraceRequestProtobuf(encodeProtobufRequest(req))).toThrow(/nested deeper/);
  });

  it("keeps non-finite doubles as their OTLP/JSON strings", () => {
    const req = richRequest() as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: unknown[] }> }> }>;
    };
    req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push({ key: "nan", value: { doubleValue: "NaN" } });
    const fromJson = decodeTraceRequestJson(JSON.stringify(req));
    expect(fromJson.spans[0]?.attributes.nan).toEqual({ doubleValue: "NaN" });
    const proto = JSON.parse(JSON.stringify(req)) as typeof req;
    (proto.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.at(-1) as { value: unknown }).value = {
      doubleValue: Number.NaN,
    };
    expect(decodeTraceRequestProtobuf(encodeProtobufRequest(proto)).spans[0]?.attributes.nan).toEqual({
      doubleValue: "NaN",
    });
  });

  it("decodes attribute keys exactly, including when the key cache is full or keys are not ASCII", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `key.${i}.${"é".repeat(i % 3)}`);
    const req = richRequest() as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: unknown[] }> }> }>;
    };
    req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes = keys.map((key, i) => ({
      key,
      value: { intValue: String(i) },
    }));
    const bytes = encodeProtobufRequest(req);
    for (let round = 0; round < 2; round++) {
      const attrs = decodeTraceRequestProtobuf(bytes).spans[0]!.attributes;
      expect(Object.keys(attrs)).toEqual(keys);
      expect(attrs["key.4998."]).toEqual({ intValue: "4998" });
      expect(attrs["key.4999.é"]).toEqual({ intValue: "4999" });
    }
  });
});

describe("OTLP log decoders (an agent's log records as rows)", () => {
  const request = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "log-bot" } }] },
        scopeLogs: [
          {
            scope: { name: "@opentelemetry/instrumentation-openai", version: "0.10.0" },
            logRecords: [
              {
                timeUnixNano: fixtureNs(5),
                observedTimeUnixNano: fixtureNs(6),
                severityNumber: 9,
                severityText: "INFO",
                traceId: "5b8efff798038103d269b633813fc60c",
                spanId: "eee19b7ec3c1b173",
                attributes: [{ key: "event.name", value: { stringValue: "gen_ai.tool.message" } }],
                body: {
                  kvlistValue: {
                    values: [
                      { key: "id", value: { stringValue: "call_1" } },
                      { key: "content", value: { stringValue: "the note" } },
                    ],
                  },
                },
              },
              { observedTimeUnixNano: fixtureNs(7), body: { stringValue: "a plain log line" } },
            ],
          },
        ],
      },
    ],
  };

  it("decode protobuf and JSON to the same rows: a child of the record's span, its body on one event", () => {
    const fromProto = decodeLogsRequestProtobuf(encodeProtobufLogsRequest(request), new LogRowIds("seed"));
    const fromJson = decodeLogsRequestJson(JSON.stringify(request), new LogRowIds("seed"));
    expect(plain(fromProto)).toEqual(plain(fromJson));
    const [tool, plainLine] = fromJson.spans as [Span, Span];
    expect(tool).toMatchObject({
      traceId: "5b8efff798038103d269b633813fc60c",
      parentSpanId: "eee19b7ec3c1b173",
      name: "gen_ai.tool.message",
      kind: 1,
      startTimeUnixNano: fixtureNs(5),
      endTimeUnixNano: fixtureNs(5),
    });
    expect(tool.events[0]?.attributes).toEqual({
      id: { stringValue: "call_1" },
      content: { stringValue: "the note" },
      "log.severity_text": { stringValue: "INFO" },
      "log.severity_number": { intValue: "9" },
    });
    // Outside any trace: a trace of its own, timed by when it was observed.
    expect(plainLine).toMatchObject({ parentSpanId: "", name: "log record", startTimeUnixNano: fixtureNs(7) });
    expect(plainLine.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(plainLine.events[0]?.attributes.body).toEqual({ stringValue: "a plain log line" });
  });

  it("derives row ids from the request: the same request gives the same ids, another request others", () => {
    const ids = (seed: string) =>
      decodeLogsRequestJson(JSON.stringify(request), new LogRowIds(seed)).spans.map((s) => s.spanId);
    expect(ids("a")).toEqual(ids("a"));
    expect(ids("a")).not.toEqual(ids("b"));
    expect(new Set(ids("a")).size).toBe(2);
  });

  it("rejects a record without any time, or with a span id but no trace id, alone", () => {
    const bad = structuredClone(request);
    const records = bad.resourceLogs[0]?.scopeLogs[0]?.logRecords as Array<Record<string, unknown>>;
    records.push({ body: { stringValue: "no time" } }, { timeUnixNano: fixtureNs(8), spanId: "eee19b7ec3c1b173" });
    const decoded = decodeLogsRequestJson(JSON.stringify(bad), new LogRowIds("seed"));
    expect(decoded.spans).toHaveLength(2);
    expect(decoded.rejectedSpans).toBe(2);
    expect(decoded.rejectionReasons).toEqual([
      "a log record needs time_unix_nano or observed_time_unix_nano",
      "a log record's span_id must be empty or 8 bytes, with a trace_id",
    ]);
  });
});
