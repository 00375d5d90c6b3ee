import { describe, expect, it } from "vitest";
import { emptyFacts } from "@vigil/facts";
import { decodeTraceRequestProtobuf } from "@vigil/otlp";
import { encodeProtobufRequest, richRequest } from "../../../../test/support/otlp-fixtures";
import { leafHash } from "../ledger/merkle";
import { SPAN_COLUMNS } from "./columns";
import type { SpanColumn } from "./columns";
import { SPAN_INSERT_COLUMNS, SPAN_READ_BACK_EXPRESSIONS, encodeSpanRows, formatSpanRow, rowCodec } from "./rows";

const JSON_COLUMNS = ["attributes", "events", "links", "resource_attributes", "scope_attributes"];

/** A line's values as the store reads them back: the JSON columns are strings holding the same text. */
const readBack = (line: string): unknown[] => {
  const values = JSON.parse(line) as unknown[];
  for (const name of JSON_COLUMNS) {
    const i = SPAN_INSERT_COLUMNS.indexOf(name);
    values[i] = JSON.stringify(values[i]);
  }
  return values;
};

describe("span rows", () => {
  it("encode one line per span with a value for every column, hashed as ledger leaves", () => {
    const { spans } = decodeTraceRequestProtobuf(encodeProtobufRequest(richRequest()));
    const facts = spans.map(() => ({ ...emptyFacts(), dbTables: ["users"], destructive: true, input: 'say "hi"\n' }));
    const integrity = [
      {
        redactions: [{ rule: "jwt", fingerprint: "abc123abc123", location: "attributes.x" }],
        impersonatedAgent: "b",
        backfill: true,
      },
    ];
    const { body, leaves } = encodeSpanRows(spans, facts, integrity, {
      batchId: "018f0000-0000-7000-8000-000000000001",
      agentId: "a",
      receivedAtMs: 1764000000123,
      requestDigest: "d",
    });
    const lines = body.toString().trimEnd().split("\n");
    expect(lines).toHaveLength(spans.length);
    const values = JSON.parse(lines[0] as string) as unknown[];
    expect(values).toHaveLength(SPAN_INSERT_COLUMNS.length);
    expect(SPAN_READ_BACK_EXPRESSIONS).toHaveLength(SPAN_INSERT_COLUMNS.length);
    // The batch id is sealed into each line after encoding (lines may be encoded off the main thread).
    expect(values[SPAN_INSERT_COLUMNS.indexOf("batch_id")]).toBe("018f0000-0000-7000-8000-000000000001");
    expect(values[SPAN_INSERT_COLUMNS.indexOf("received_at")]).toBe("1764000000123");
    expect(values[SPAN_INSERT_COLUMNS.indexOf("redacted_rules")]).toEqual(["jwt"]);
    // The leaf hashes the row's canonical line: what verification recomputes from it.
    expect(leaves[0]?.equals(leafHash(formatSpanRow(readBack(lines[0] as string))))).toBe(true);
  });

  it("give the same canonical line from the values read back as from the span (what verify relies on)", () => {
    const { spans } = decodeTraceRequestProtobuf(encodeProtobufRequest(richRequest()));
    const { body, leaves } = encodeSpanRows(spans, [{ ...emptyFacts(), tool: "run_sql" }], undefined, {
      batchId: "018f0000-0000-7000-8000-00000000000b",
      agentId: "a",
      receivedAtMs: 1,
      requestDigest: "d",
    });
    const line = body.toString().trimEnd();
    const canonical = formatSpanRow(readBack(line));
    // The line as written, less trailing empty appended values (if the catalogue has any).
    expect(line.startsWith(canonical.slice(0, -1))).toBe(true);
    expect(leafHash(canonical).equals(leaves[0] as Buffer)).toBe(true);
  });

  // A later release appends a fact column; the rows stored before it read it back empty.
  const riskLabel: SpanColumn = {
    name: "risk_label",
    type: "LowCardinality(String)",
    kind: "str",
    value: (_s, f) => (f as { riskLabel?: string }).riskLabel ?? "",
    readBack: "risk_label",
    appended: true,
  };
  const later = rowCodec([...SPAN_COLUMNS, riskLabel]);
  const ctx = { batchId: "018f0000-0000-7000-8000-00000000000c", agentId: "a", receivedAtMs: 1, requestDigest: "d" };
  const { spans } = decodeTraceRequestProtobuf(encodeProtobufRequest(richRequest()));
  const first = spans.slice(0, 1);

  it("keep the leaves of rows stored before a column was appended", () => {
    const before = encodeSpanRows(first, [emptyFacts()], undefined, ctx);
    const line = before.body.toString().trimEnd();
    // Verification after the upgrade: the old row read back with the new column's default.
    const canonical = later.canonical([...readBack(line), ""]);
    expect(canonical).toBe(formatSpanRow(readBack(line)));
    expect(leafHash(canonical).equals(before.leaves[0] as Buffer)).toBe(true);
  });

  it("hash an appended value only when it is set, so setting or clearing it changes the leaf", () => {
    const before = encodeSpanRows(first, [emptyFacts()], undefined, ctx);
    const unset = encodeSpanRows(first, [emptyFacts()], undefined, ctx, later);
    expect(unset.body.toString().trimEnd()).toBe(`${before.body.toString().trimEnd().slice(0, -1)},""]`);
    expect(unset.leaves[0]?.equals(before.leaves[0] as Buffer)).toBe(true);

    const set = encodeSpanRows(first, [{ ...emptyFacts(), riskLabel: "high" } as never], undefined, ctx, later);
    const line = set.body.toString().trimEnd();
    expect(line.endsWith(',"high"]')).toBe(true);
    expect(set.leaves[0]?.equals(before.leaves[0] as Buffer)).toBe(false);
    expect(leafHash(later.canonical(readBack(line))).equals(set.leaves[0] as Buffer)).toBe(true);
    // A stored value cleared, or set where there was none, no longer matches its leaf.
    const cleared = [...readBack(line).slice(0, -1), ""];
    expect(leafHash(later.canonical(cleared)).equals(set.leaves[0] as Buffer)).toBe(false);
    const forged = [...readBack(unset.body.toString().trimEnd()).slice(0, -1), "low"];
    expect(leafHash(later.canonical(forged)).equals(unset.leaves[0] as Buffer)).toBe(false);
  });

  it("refuse an appended column of a kind whose empty value it cannot tell apart", () => {
    expect(() => rowCodec([...SPAN_COLUMNS, { ...riskLabel, kind: "json" }])).toThrow(/appended columns/);
    expect(() => rowCodec([...SPAN_COLUMNS, riskLabel, { ...riskLabel, name: "x", appended: false }])).toThrow(
      /appended columns come last/,
    );
  });
});
