import protobuf from "protobufjs";
import { prng } from "../../packages/secrets/src/corpus";
import { encodeProtobufRequest, richRequest } from "../support/otlp-fixtures";

/**
 * Bad inputs for the OTLP decoders and the SQL table extractor, from a seed: real
 * payloads mutated (bit flips, deletions, insertions, truncation, wire-type and length
 * changes, duplicated segments) plus hand-shaped attacks (deep nesting, huge strings,
 * invalid UTF-8). The same seed gives the same corpus on every run.
 */
export function protobufCases(seed: number, count: number): Uint8Array[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const base = Buffer.from(encodeProtobufRequest(richRequest()));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const b = Buffer.from(base);
    let m: Buffer = b;
    switch (i % 7) {
      case 0: // bit flips
        for (let k = 1 + int(4); k > 0; k--) {
          const at = int(b.length);
          b[at] = (b[at] as number) ^ (1 << int(8));
        }
        break;
      case 1: // truncated anywhere
        m = b.subarray(0, int(b.length));
        break;
      case 2: // a byte deleted
        {
          const at = int(b.length);
          m = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
        }
        break;
      case 3: // random bytes inserted
        {
          const at = int(b.length);
          m = Buffer.concat([
            b.subarray(0, at),
            Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))),
            b.subarray(at),
          ]);
        }
        break;
      case 4: // a wire type changed (low three bits of a byte)
        {
          const at = int(b.length);
          b[at] = ((b[at] as number) & 0xf8) | int(8);
        }
        break;
      case 5: // a varint (often a length) made huge
        {
          const at = int(b.length - 5);
          b.set([0xff, 0xff, 0xff, 0xff, 0x0f], at);
        }
        break;
      default: {
        // a segment duplicated
        const from = int(b.length);
        const len = int(64);
        m = Buffer.concat([b.subarray(0, from + len), b.subarray(from, from + len), b.subarray(from + len)]);
      }
    }
    out.push(m);
  }
  return [...out, ...protobufAttacks()];
}

/** Hand-shaped protobuf attacks. */
function protobufAttacks(): Uint8Array[] {
  const withAttr = (value: unknown) => {
    const req = richRequest() as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: unknown[] }> }> }>;
    };
    req.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes.push({ key: "attack", value });
    return encodeProtobufRequest(req);
  };
  const invalidUtf8 = Buffer.from(encodeProtobufRequest(richRequest()));
  const at = invalidUtf8.indexOf(Buffer.from("support-bot"));
  if (at >= 0) invalidUtf8.set([0xc3, 0x28, 0xa0, 0xa1, 0xf0], at);
  return [
    deeplyNested(200), // far deeper than the 32 levels allowed
    withAttr({ stringValue: "x".repeat(2 * 1024 * 1024) }), // a huge string
    invalidUtf8,
    new Uint8Array(0),
    Buffer.from([0x0a]), // a field tag with nothing after it
    Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a length of 4 GB
  ];
}

export function jsonCases(seed: number, count: number): string[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const base = JSON.stringify(richRequest());
  const junk = ['"', "{", "}", "[", "]", ",", ":", "null", "1e999", "-", "\\u", "\\ud800", "true", " ", "\u0000"];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = int(base.length);
    switch (i % 5) {
      case 0:
        out.push(base.slice(0, at)); // truncated
        break;
      case 1:
        out.push(base.slice(0, at) + base.slice(at + 1 + int(16))); // characters deleted
        break;
      case 2:
        out.push(base.slice(0, at) + (junk[int(junk.length)] as string) + base.slice(at)); // junk inserted
        break;
      case 3: // a value of the wrong type
        out.push(
          base.replace(/"(startTimeUnixNano|traceId|spanId|kind|intValue|values|attributes)":/g, (m, k: string) =>
            rand() < 0.3 ? `"${k}":${JSON.stringify([{}, "x", 7, null, true, [[]]][int(6)])},"${k}_":` : m,
          ),
        );
        break;
      default: // valid JSON, odd shapes
        out.push(
          JSON.stringify([null, 1, "x", {}, [], { resourceSpans: {} }, { resourceSpans: [null, 1, "x"] }][int(7)]),
        );
    }
  }
  const deep = (d: number): string =>
    d === 0 ? '{"stringValue":"x"}' : `{"kvlistValue":{"values":[{"key":"k","value":${deep(d - 1)}}]}}`;
  const withAttr = (value: string) =>
    base.replace('"attributes":[', `"attributes":[{"key":"attack","value":${value}},`);
  out.push(withAttr(deep(200)), withAttr(`{"stringValue":"${"y".repeat(2 * 1024 * 1024)}"}`), "[".repeat(100_000), "");
  return out;
}

/** Mutated SQL texts from a list of real statements. */
export function sqlCases(seed: number, statements: readonly string[], count: number): string[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const tokens = [
    "(",
    ")",
    "'",
    '"',
    "`",
    ";",
    "--",
    "/*",
    "SELECT",
    "FROM",
    "WITH",
    "JOIN",
    ",",
    "\\",
    "$1",
    "\u0000",
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = statements[int(statements.length)] as string;
    const at = int(s.length + 1);
    out.push(
      i % 3 === 0
        ? s.slice(0, at)
        : i % 3 === 1
          ? s.slice(0, at) + (tokens[int(tokens.length)] as string) + s.slice(at)
          : s.slice(0, at) + s.slice(at + 1 + int(10)),
    );
  }
  out.push(
    "(".repeat(10_000) + "SELECT 1" + ")".repeat(10_000),
    `SELECT ${"a,".repeat(50_000)}b FROM t`,
    "'".repeat(1001),
  );
  return out;
}

/**
 * A request whose one span has an attribute nested `depth` kvlist levels deep, written
 * with protobufjs's Writer field by field (the reflection encoder refuses such depth).
 */
export function deeplyNested(depth: number): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork(); // resource_spans
  w.uint32((2 << 3) | 2).fork(); // scope_spans
  w.uint32((2 << 3) | 2).fork(); // spans
  w.uint32((1 << 3) | 2).bytes(Buffer.alloc(16, 1)); // trace_id
  w.uint32((2 << 3) | 2).bytes(Buffer.alloc(8, 2)); // span_id
  w.uint32((5 << 3) | 2).string("deep");
  w.uint32((9 << 3) | 2).fork(); // attributes: KeyValue
  w.uint32((1 << 3) | 2).string("attack");
  for (let i = 0; i < depth; i++) {
    w.uint32((2 << 3) | 2).fork(); // KeyValue.value: AnyValue
    w.uint32((6 << 3) | 2).fork(); // AnyValue.kvlist_value
    w.uint32((1 << 3) | 2).fork(); // KeyValueList.values: KeyValue
    w.uint32((1 << 3) | 2).string("k");
  }
  w.uint32((2 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string("leaf")
    .ldelim();
  for (let i = 0; i < depth; i++) w.ldelim().ldelim().ldelim();
  w.ldelim().ldelim().ldelim().ldelim(); // attribute, span, scope_spans, resource_spans
  return w.finish();
}
