import { encodeProtobufRequest } from "../test/support/otlp-fixtures";

/** The trace id pattern the template uses; the load generator overwrites it per request. */
export const TEMPLATE_TRACE_PREFIX = "feedfacecafebeef";

/**
 * The session id pattern: 8 hex characters the load generator overwrites per request, so
 * sessions come and go as an agent's do (17 sessions of about 30 steps in each request)
 * instead of a few sessions that grow for as long as the benchmark runs.
 */
export const TEMPLATE_SESSION_MARK = "5e55feed";

const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];

/**
 * One OTLP protobuf request of `spans` agent spans, each with 20 attributes of realistic
 * sizes (ids, tool names, SQL text, URLs, short prompts), as an agent SDK would send.
 * Every span's trace id starts with TEMPLATE_TRACE_PREFIX so a sender can make each
 * request unique by rewriting those bytes in place.
 */
export function templateRequest(spans: number, startNs: bigint): Uint8Array {
  return encodeProtobufRequest(templateObject(spans, startNs));
}

/** The same request as OTLP/JSON text (hex ids), for the JSON rows of the bench. */
export function templateRequestJson(spans: number, startNs: bigint): string {
  return JSON.stringify(templateObject(spans, startNs));
}

function templateObject(spans: number, startNs: bigint): Record<string, unknown> {
  const list = [];
  for (let i = 0; i < spans; i++) {
    const w = words[i % words.length] as string;
    const start = startNs + BigInt(i) * 1_000_000n;
    const attributes: Record<string, string | number | boolean> = {
      "session.id": `sess-${TEMPLATE_SESSION_MARK}-${(i % 17).toString(16)}-4f2a9c1e`,
      "gen_ai.operation.name": i % 3 === 0 ? "execute_tool" : "chat",
      "gen_ai.agent.name": "support-bot",
      "gen_ai.tool.name": `lookup_${w}`,
      "gen_ai.request.model": "claude-sonnet-4-5",
      "gen_ai.usage.input_tokens": 1200 + i,
      "gen_ai.usage.output_tokens": 310 + (i % 50),
      "db.system.name": "postgresql",
      "db.operation.name": "SELECT",
      "db.collection.name": `${w}_records`,
      "db.query.text": `SELECT id, status, updated_at FROM ${w}_records WHERE customer_id = $1 AND status = 'open' ORDER BY updated_at DESC LIMIT 50`,
      "server.address": `${w}.internal.example.com`,
      "server.port": 5432,
      "url.full": `https://api.example.com/v2/customers/${1000 + i}/tickets?state=open&page=2`,
      "http.request.method": "GET",
      "http.response.status_code": 200,
      "vigil.credential.id": `cred-${w}-ro`,
      "gen_ai.prompt": `Customer ${1000 + i} asks why ticket #${5000 + i} is still open after the ${w} migration; summarise the history.`,
      "deployment.environment.name": "production",
      retry: i % 5 === 0,
    };
    list.push({
      traceId: `${TEMPLATE_TRACE_PREFIX}${(i % 65536).toString(16).padStart(16, "0")}`,
      spanId: (i + 1).toString(16).padStart(16, "0"),
      parentSpanId: i % 4 === 0 ? "" : i.toString(16).padStart(16, "0"),
      name: `execute_tool lookup_${w}`,
      kind: 3,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + 4_500_000n).toString(),
      attributes: Object.entries(attributes).map(([key, v]) => ({
        key,
        value:
          typeof v === "string"
            ? { stringValue: v }
            : typeof v === "boolean"
              ? { boolValue: v }
              : { intValue: String(v) },
      })),
      status: { code: 1 },
    });
  }
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: "support-bot" } },
            { key: "service.version", value: { stringValue: "1.4.2" } },
            { key: "deployment.environment.name", value: { stringValue: "production" } },
          ],
        },
        scopeSpans: [{ scope: { name: "@vigil/agent-sdk", version: "0.1.0" }, spans: list }],
      },
    ],
  };
}

/**
 * Where each span's start and end time (fixed64, little-endian) sit in a protobuf
 * template made with `startNs`, and each one's offset from `startNs`: a sender rewrites
 * them so that span times follow the clock, as an agent's do.
 */
export function timeOffsets(body: Uint8Array, spans: number, startNs: bigint): Array<{ at: number; deltaNs: bigint }> {
  const found: Array<{ at: number; deltaNs: bigint }> = [];
  for (let i = 0; i < spans; i++) {
    for (const deltaNs of [BigInt(i) * 1_000_000n, BigInt(i) * 1_000_000n + 4_500_000n]) {
      const needle = Buffer.alloc(8);
      needle.writeBigUInt64LE(startNs + deltaNs);
      const at = offsetsOf(body, needle)[0];
      if (at === undefined) throw new Error(`span ${i}: time not found in the template`);
      found.push({ at, deltaNs });
    }
  }
  return found;
}

/** Byte offsets of every templated session id mark (ASCII) in a request. */
export function sessionMarkOffsets(body: Uint8Array): number[] {
  return offsetsOf(body, Buffer.from(TEMPLATE_SESSION_MARK, "ascii"));
}

/** Byte offsets of every templated trace id prefix in a request. */
export function traceIdOffsets(body: Uint8Array): number[] {
  return offsetsOf(body, Buffer.from(TEMPLATE_TRACE_PREFIX, "hex"));
}

function offsetsOf(body: Uint8Array, needle: Buffer): number[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const offsets: number[] = [];
  for (let at = buf.indexOf(needle); at !== -1; at = buf.indexOf(needle, at + 1)) offsets.push(at);
  return offsets;
}
