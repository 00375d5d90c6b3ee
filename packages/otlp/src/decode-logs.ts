import protobuf from "protobufjs/minimal.js";
import { InputError } from "@vigil/common";

/**
 * The string bodies of the log records in an OTLP `ExportLogsServiceRequest`: what an
 * OpenTelemetry Collector's filelog receiver forwards, one log line per record. Only
 * the bodies are read (Vigil's audit sources parse the line itself, whose fields are
 * the database's own); a record whose body is not a string is counted as rejected.
 */
export interface DecodedLogBodies {
  bodies: string[];
  rejectedRecords: number;
}

const LEN = 2;

/** @throws InputError (400) when the bytes are not a valid message. */
export function decodeLogBodiesProtobuf(body: Uint8Array): DecodedLogBodies {
  const r = protobuf.Reader.create(
    Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
  );
  const out: DecodedLogBodies = { bodies: [], rejectedRecords: 0 };
  // ExportLogsServiceRequest.resource_logs = 1 → ResourceLogs.scope_logs = 2 →
  // ScopeLogs.log_records = 2 → LogRecord.body = 5 → AnyValue.string_value = 1.
  const walk = (end: number, path: readonly number[], onLeaf: (end: number) => void): void => {
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === path[0] && (tag & 7) === LEN) {
        const len = r.uint32();
        const inner = r.pos + len;
        if (inner > end) throw new Error("a field runs past its message");
        if (path.length === 1) onLeaf(inner);
        else walk(inner, path.slice(1), onLeaf);
        r.pos = inner;
      } else r.skipType(tag & 7, 0, tag >>> 3);
    }
  };
  try {
    walk(r.len, [1, 2, 2], (recordEnd) => {
      let text: string | undefined;
      walk(recordEnd, [5], (valueEnd) => {
        while (r.pos < valueEnd) {
          const tag = r.uint32();
          if (tag === ((1 << 3) | LEN)) text = r.string();
          else r.skipType(tag & 7, 0, tag >>> 3);
        }
      });
      if (text === undefined) out.rejectedRecords++;
      else out.bodies.push(text);
    });
  } catch (err) {
    throw new InputError(`malformed protobuf ExportLogsServiceRequest: ${(err as Error).message}`, 400, err);
  }
  return out;
}

/** @throws InputError (400) when the text is not an ExportLogsServiceRequest in OTLP/JSON. */
export function decodeLogBodiesJson(text: string): DecodedLogBodies {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError("malformed JSON ExportLogsServiceRequest: not JSON", 400);
  }
  const out: DecodedLogBodies = { bodies: [], rejectedRecords: 0 };
  const list = (v: unknown, field: string): unknown[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new InputError(`malformed JSON ExportLogsServiceRequest: ${field} is not a list`, 400);
    return v;
  };
  const obj = (v: unknown): Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  for (const rl of list(obj(parsed).resourceLogs, "resourceLogs"))
    for (const sl of list(obj(rl).scopeLogs, "scopeLogs"))
      for (const record of list(obj(sl).logRecords, "logRecords")) {
        const value = obj(obj(record).body).stringValue;
        if (typeof value === "string") out.bodies.push(value);
        else out.rejectedRecords++;
      }
  return out;
}
