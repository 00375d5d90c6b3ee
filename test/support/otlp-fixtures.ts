import protobuf from "protobufjs";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * An independent OTLP encoder for tests: protobufjs reflection over the published
 * message definitions. Vigil's decoder shares no code with it.
 */
const root = protobuf.parse(readFileSync(fileURLToPath(new URL("./otlp-trace.proto", import.meta.url)), "utf8")).root;
export const ExportTraceServiceRequest = root.lookupType("opentelemetry.proto.ExportTraceServiceRequest");
export const ExportTraceServiceResponse = root.lookupType("opentelemetry.proto.ExportTraceServiceResponse");
export const RpcStatus = root.lookupType("opentelemetry.proto.RpcStatus");

/** Encodes an OTLP/JSON-shaped request (hex ids, decimal int64 strings) as protobuf. */
export function encodeProtobufRequest(json: unknown): Uint8Array {
  // fromObject converts decimal int64 strings through Long, as the JSON mapping allows.
  const message = ExportTraceServiceRequest.fromObject(convertIds(json) as Record<string, unknown>);
  return ExportTraceServiceRequest.encode(message).finish();
}

export const ExportLogsServiceRequest = root.lookupType("opentelemetry.proto.ExportLogsServiceRequest");

/** Encodes an OTLP/JSON-shaped ExportLogsServiceRequest as protobuf. */
export function encodeProtobufLogsRequest(json: unknown): Uint8Array {
  return ExportLogsServiceRequest.encode(
    ExportLogsServiceRequest.fromObject(convertIds(json) as Record<string, unknown>),
  ).finish();
}

/** protobufjs wants bytes as Buffers and snake_case-free camelCase keys, which OTLP/JSON already uses. */
function convertIds(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => convertIds(v, key));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = convertIds(v, k);
    return out;
  }
  if (typeof value === "string" && ["traceId", "spanId", "parentSpanId"].includes(key))
    return Buffer.from(value, "hex");
  if (typeof value === "string" && key === "bytesValue") return Buffer.from(value, "base64");
  return value;
}

/**
 * Fixture spans start two minutes before the test file runs: inside ingest's accepted
 * window, and close enough to when they are sent to be live traffic, not backfill
 * (received more than 10 minutes from their stated end).
 */
export const FIXTURE_BASE_S = BigInt(Math.floor(Date.now() / 1000) - 120);

/** Nanoseconds since the epoch, `offset` ns after the fixture base, as a decimal string. */
export const fixtureNs = (offset: number): string => (FIXTURE_BASE_S * 1_000_000_000n + BigInt(offset)).toString();
const ns = fixtureNs;

/**
 * A request that exercises every OTLP field and every AnyValue kind, in OTLP/JSON form.
 * `startNs` offsets move it in time so several copies do not collide.
 */
export function richRequest(
  traceId = "5b8efff798038103d269b633813fc60c",
  startOffsetNs = 123_456_789,
): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: "support-bot" } },
            { key: "deployment.environment.name", value: { stringValue: "production" } },
          ],
          droppedAttributesCount: 1,
        },
        schemaUrl: "https://opentelemetry.io/schemas/1.30.0",
        scopeSpans: [
          {
            scope: {
              name: "agent-runtime",
              version: "2.1.0",
              attributes: [{ key: "scope.flag", value: { boolValue: true } }],
              droppedAttributesCount: 2,
            },
            schemaUrl: "https://opentelemetry.io/schemas/1.29.0",
            spans: [
              {
                traceId,
                spanId: "eee19b7ec3c1b174",
                parentSpanId: "eee19b7ec3c1b173",
                traceState: "vendor=value",
                flags: 257,
                name: "tool call: search_tickets",
                kind: 3,
                startTimeUnixNano: ns(startOffsetNs),
                endTimeUnixNano: ns(startOffsetNs + 987_654_321),
                attributes: [
                  { key: "session.id", value: { stringValue: "sess-42" } },
                  { key: "a.string", value: { stringValue: 'héllo "quoted" \n newline' } },
                  { key: "a.bool", value: { boolValue: false } },
                  { key: "a.int", value: { intValue: "-9223372036854775808" } },
                  { key: "a.big", value: { intValue: "9223372036854775807" } },
                  { key: "a.double", value: { doubleValue: 3.141592653589793 } },
                  { key: "a.bytes", value: { bytesValue: Buffer.from([0, 1, 2, 254, 255]).toString("base64") } },
                  {
                    key: "a.array",
                    value: {
                      arrayValue: {
                        values: [
                          { stringValue: "x" },
                          { intValue: "7" },
                          { arrayValue: { values: [{ boolValue: true }] } },
                        ],
                      },
                    },
                  },
                  {
                    key: "a.kvlist",
                    value: {
                      kvlistValue: {
                        values: [
                          { key: "inner", value: { stringValue: "v" } },
                          { key: "n", value: { doubleValue: 0.5 } },
                        ],
                      },
                    },
                  },
                  { key: "a.empty", value: {} },
                ],
                droppedAttributesCount: 3,
                events: [
                  {
                    timeUnixNano: ns(startOffsetNs + 1),
                    name: "gen_ai.user.message",
                    attributes: [{ key: "content", value: { stringValue: "delete old records" } }],
                    droppedAttributesCount: 4,
                  },
                ],
                droppedEventsCount: 5,
                links: [
                  {
                    traceId: "0af7651916cd43dd8448eb211c80319c",
                    spanId: "b7ad6b7169203331",
                    traceState: "k=v",
                    attributes: [{ key: "link.kind", value: { stringValue: "caused-by" } }],
                    droppedAttributesCount: 6,
                    flags: 1,
                  },
                ],
                droppedLinksCount: 7,
                status: { code: 2, message: "tool failed" },
              },
            ],
          },
        ],
      },
    ],
  };
}
