import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyFacts } from "@vigil/facts";
import { decodeTraceRequestProtobuf } from "@vigil/otlp";
import { encodeProtobufRequest, richRequest } from "../../../../test/support/otlp-fixtures";
import { openStoreClient } from "../client";
import { runMigrations } from "../migrations";
import { FACT_COLUMNS, FACT_FIELDS, SPAN_COLUMNS, spanColumnDefinitions } from "./columns";
import { findTrace } from "./read";
import { encodeSpanRows } from "./rows";
import { insertSpanBatch } from "./write";

/**
 * The span catalogue is the spans table: the store's columns are the catalogue's, a
 * store that lacks a column the catalogue gained gets it at the next migration run, and
 * every fact written is read back as the same value.
 */
const dir = mkdtempSync(join(tmpdir(), "vigil-columns-"));
const client = openStoreClient({ mode: "embedded", dataDir: dir });
beforeAll(async () => {
  await runMigrations(client);
});
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

const storedColumns = async (): Promise<Array<{ name: string; type: string }>> => {
  const rs = await client.query({
    query:
      "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'spans' ORDER BY position",
    format: "JSONEachRow",
  });
  return rs.json();
};

describe("the span column catalogue", () => {
  it("is the spans table the migrations create, column for column", async () => {
    const columns = await storedColumns();
    expect(columns.map((c) => c.name)).toEqual(spanColumnDefinitions().map((c) => c.name));
    const typeOf = new Map(columns.map((c) => [c.name, c.type]));
    expect(typeOf.get("db_tables")).toBe("Array(LowCardinality(String))");
    expect(typeOf.get("destructive")).toBe("Bool");
  });

  it("keeps the first release's line as it was: leaves of stored rows are hashes of it", () => {
    // A new column is appended (FACT_COLUMNS entry with `appended: true`): never inserted here.
    expect(SPAN_COLUMNS.filter((c) => !c.appended).map((c) => c.name)).toEqual(
      [
        "batch_id agent_id start_time end_time trace_id span_id parent_span_id trace_state flags name kind",
        "status_code status_message session_id attributes dropped_attributes_count events dropped_events_count links",
        "dropped_links_count resource_attributes resource_dropped_attributes_count resource_schema_url scope_name",
        "scope_version scope_attributes scope_dropped_attributes_count scope_schema_url received_at request_digest",
        "claimed_agent environment operation tool db_system db_operation db_tables db_tables_written db_statement_kinds",
        "db_tables_approximate outbound_host credential_id peer_agent input input_source approval_id approval_status",
        "destructive destructive_reason mcp_server mcp_method dialect redacted_rules redacted_fingerprints",
        "redacted_locations impersonated_agent backfill",
      ]
        .join(" ")
        .split(" "),
    );
  });

  it("names one column per fact, and writes every fact", () => {
    expect([...FACT_FIELDS].sort()).toEqual(Object.keys(emptyFacts()).sort());
    const names = new Set(SPAN_COLUMNS.map((c) => c.name));
    for (const field of FACT_FIELDS) expect(names.has(FACT_COLUMNS[field].name)).toBe(true);
  });

  it("gives a store created before a column was added that column, and keeps its rows", async () => {
    const { spans } = decodeTraceRequestProtobuf(encodeProtobufRequest(richRequest()));
    const facts = spans.map(() => ({
      ...emptyFacts(),
      mcpMethod: "tools/call",
      dbTables: ["users"],
      destructive: true,
    }));
    const insert = (requestDigest: string) =>
      insertSpanBatch(client, [
        encodeSpanRows(spans, facts, undefined, {
          batchId: crypto.randomUUID(),
          agentId: "a",
          receivedAtMs: Date.now(),
          requestDigest,
        }).body,
      ]);
    await insert("before");
    // As a store of the release before the column existed would be.
    await client.command({ query: "ALTER TABLE spans DROP COLUMN mcp_method" });
    expect((await storedColumns()).some((c) => c.name === "mcp_method")).toBe(false);

    expect(await runMigrations(client)).toEqual([]);
    expect((await storedColumns()).map((c) => c.name)).toContain("mcp_method");
    const [old] = await findTrace(client, spans[0]?.traceId ?? "");
    expect(old?.facts).toMatchObject({ mcpMethod: "", dbTables: ["users"], destructive: true });

    await insert("after");
    const read = await findTrace(client, spans[0]?.traceId ?? "");
    expect(read.map((s) => s.facts.mcpMethod).sort()).toEqual(["", "tools/call"]);
  });
});
