import { describe, expect, it } from "vitest";
import { InputError } from "@vigil/common";
import { initSqlParser, sqlTables } from "@vigil/facts";
import { decodeTraceRequestJson, decodeTraceRequestProtobuf } from "@vigil/otlp";
import { SQL_CORPUS } from "../../packages/facts/src/sql/corpus";
import { deeplyNested, jsonCases, protobufCases, sqlCases } from "./mutate";

/**
 * The fixed-seed fuzz corpus run in `npm test` (`npm run fuzz` runs longer, random
 * seeds): every bad input ends in a result (spans, some maybe rejected) or a 400 or 413
 * InputError; never another error, never a crash.
 */
function outcome(run: () => { spans: unknown[] }): "decoded" | "refused" {
  try {
    run();
    return "decoded";
  } catch (err) {
    if (err instanceof InputError && (err.status === 400 || err.status === 413)) return "refused";
    throw err;
  }
}

describe("decoder fuzzing (fixed seed)", () => {
  it("protobuf: 2,100 mutated requests and the attacks each decode or are refused with a 400", () => {
    const cases = protobufCases(20261124, 2100);
    const counts = { decoded: 0, refused: 0 };
    for (const body of cases) counts[outcome(() => decodeTraceRequestProtobuf(body))]++;
    expect(counts.decoded + counts.refused).toBe(cases.length);
    expect(counts.refused).toBeGreaterThan(100); // the mutations do reach the error paths
    expect(counts.decoded).toBeGreaterThan(100); // and many still decode (with rejections)
  });

  it("refuses attribute values nested deeper than allowed, in both encodings, naming the limit", () => {
    expect(() => decodeTraceRequestProtobuf(deeplyNested(200))).toThrow(/nested deeper than 32 levels/);
    // Five levels are fine: the span is read (and, having no timestamps, rejected by partial success).
    const shallow = decodeTraceRequestProtobuf(deeplyNested(5));
    expect(shallow.spans.length + shallow.rejectedSpans).toBe(1);
  });

  it("JSON: 1,500 mutated requests and the attacks each decode or are refused with a 400", () => {
    const cases = jsonCases(20261124, 1500);
    const counts = { decoded: 0, refused: 0 };
    for (const body of cases) counts[outcome(() => decodeTraceRequestJson(body))]++;
    expect(counts.decoded + counts.refused).toBe(cases.length);
    expect(counts.refused).toBeGreaterThan(100);
  });

  it("SQL tables: 1,500 mutated statements never throw (the tokenizer takes what the parser cannot)", async () => {
    await initSqlParser();
    for (const text of sqlCases(
      20261124,
      SQL_CORPUS.map((c) => c.sql),
      1500,
    )) {
      const t = sqlTables(text, "postgresql");
      expect(Array.isArray(t.tables)).toBe(true);
    }
  });
});
