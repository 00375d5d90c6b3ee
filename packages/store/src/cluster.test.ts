import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clusterStatements, federationStatements, schemaTables } from "./cluster";
import { openStoreClient } from "./client";
import { MIGRATIONS, MIGRATIONS_TABLE } from "./migrations";

const dir = mkdtempSync(join(tmpdir(), "vigil-cluster-"));
const client = openStoreClient({ mode: "embedded", dataDir: dir });
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

const all = [MIGRATIONS_TABLE, ...MIGRATIONS.flatMap((m) => m.statements)].flatMap((s) =>
  clusterStatements(s, "vigil"),
);

describe("cluster schema", () => {
  it("parses every statement of every migration's cluster form in the engine (formatQuery)", async () => {
    for (const statement of all) {
      const rs = await client.query({
        query: "SELECT formatQuery({q:String}) AS f",
        query_params: { q: statement },
        format: "JSONEachRow",
      });
      const [row] = await rs.json<{ f: string }>();
      expect(row?.f, statement).toContain("ON CLUSTER vigil");
    }
  });

  it("replicates local tables, distributes by agent, and attaches views to the local spans", () => {
    const spans = all.filter((s) => /CREATE TABLE IF NOT EXISTS spans(_local)? /.test(s));
    expect(spans[0]).toContain(
      "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/spans_local', '{replica}')",
    );
    expect(spans[1]).toContain("ENGINE = Distributed('vigil', currentDatabase(), spans_local, cityHash64(agent_id))");
    const activity = all.find((s) => s.includes("CREATE TABLE IF NOT EXISTS agent_activity_local"));
    expect(activity).toContain("ReplicatedAggregatingMergeTree(");
    const view = all.find((s) => s.includes("agent_activity_mv"));
    expect(view).toMatch(/TO agent_activity_local AS[\s\S]*FROM spans_local/);
    expect(all.filter((s) => s.includes("ADD INDEX")).every((s) => s.startsWith("ALTER TABLE spans_local"))).toBe(true);
    expect(() => clusterStatements("SELECT 1", "vigil")).toThrow(/no cluster form/);
    expect(() => clusterStatements(MIGRATIONS_TABLE, "x'; DROP")).toThrow(/invalid cluster name/);
  });

  it("federates every table of the schema (not the views) by the same sharding keys", () => {
    const tables = schemaTables([MIGRATIONS_TABLE, ...MIGRATIONS.flatMap((m) => m.statements)]);
    expect(tables).toContain("spans");
    expect(tables).toContain("ledger");
    expect(tables.some((t) => t.endsWith("_mv"))).toBe(false);
    const statements = federationStatements(tables, "shards");
    expect(statements).toContain(
      "CREATE TABLE IF NOT EXISTS spans ENGINE = Distributed('shards', currentDatabase(), spans, cityHash64(agent_id))",
    );
    expect(statements).toHaveLength(tables.length);
    expect(() => federationStatements(tables, "x'; DROP")).toThrow(/invalid cluster name/);
  });
});
