import { describe, expect, it } from "vitest";
import { emptyFacts } from "@vigil/facts";
import { decodeTraceRequestProtobuf } from "@vigil/otlp";
import { encodeProtobufRequest, richRequest } from "../../../../test/support/otlp-fixtures";
import { leafHash } from "../ledger/merkle";
import { SPAN_INSERT_COLUMNS, SPAN_READ_BACK_EXPRESSIONS, encodeSpanRows, formatSpanRow } from "./rows";

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
    expect(leaves[0]?.equals(leafHash(lines[0] as string))).toBe(true);
  });

  it("give the same canonical line from the values read back as from the span (what verify relies on)", () => {
    const { spans } = decodeTraceRequestProtobuf(encodeProtobufRequest(richRequest()));
    const { body } = encodeSpanRows(spans, [emptyFacts()], undefined, {
      batchId: "018f0000-0000-7000-8000-00000000000b",
      agentId: "a",
      receivedAtMs: 1,
      requestDigest: "d",
    });
    const line = body.toString().trimEnd();
    // Read back, the JSON columns are strings holding the same text.
    const values = JSON.parse(line) as unknown[];
    for (const name of ["attributes", "events", "links", "resource_attributes", "scope_attributes"]) {
      const i = SPAN_INSERT_COLUMNS.indexOf(name);
      values[i] = JSON.stringify(values[i]);
    }
    expect(formatSpanRow(values)).toBe(line);
  });
});
