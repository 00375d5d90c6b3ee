import { afterAll, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStoreClient } from "@vigil/store";

const dir = mkdtempSync(join(tmpdir(), "vigil-deploy-"));
const client = openStoreClient({ mode: "embedded", dataDir: dir });
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The statements of users.sql, comments removed, placeholders filled with a dummy hash. */
function statements(): string[] {
  const text = readFileSync(new URL("../../deploy/clickhouse/users.sql", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .replace(/\{[a-z_]+_password_sha256\}/g, "0".repeat(64));
  return text
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

it("every statement of deploy/clickhouse/users.sql parses in ClickHouse", async () => {
  const list = statements();
  expect(list.length).toBeGreaterThanOrEqual(10);
  for (const sql of list) {
    const rs = await client.query({
      query: "SELECT formatQuery({sql:String}) AS q",
      query_params: { sql },
      format: "JSONEachRow",
    });
    const [row] = await rs.json<{ q: string }>();
    expect(row?.q.length, sql).toBeGreaterThan(0);
  }
});

it("grants ingest no way to change or remove span data", () => {
  const ingest = statements().filter((s) => s.includes("TO vigil_ingest"));
  expect(ingest.length).toBeGreaterThan(0);
  for (const grant of ingest) expect(grant).not.toMatch(/\b(ALTER|DELETE|UPDATE|TRUNCATE|DROP|ALL)\b/);
  // The API and the worker write only their own records, never span data or the ledger.
  for (const user of ["vigil_api", "vigil_worker"]) {
    const writes = statements().filter((s) => s.includes(`TO ${user}`) && !s.startsWith("GRANT SELECT ON"));
    expect(writes.length, user).toBeGreaterThan(0);
    for (const w of writes) {
      expect(w, user).toMatch(/^GRANT INSERT ON vigil\.\w+ TO /);
      expect(w, user).not.toMatch(/vigil\.(spans|ledger|ledger_checkpoints|span_\w+)\b/);
    }
  }
  const api = statements().filter((s) => s.includes("TO vigil_api") && s.startsWith("GRANT INSERT"));
  expect(api.map((s) => /vigil\.(\w+)/.exec(s)?.[1]).sort()).toEqual([
    "agent_tokens",
    "alert_acks",
    "receiver_state",
    "silences",
  ]);
});
