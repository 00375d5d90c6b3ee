import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSpans } from "@vigil/store";
import { apiCall, sendRichSpan, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
beforeAll(async () => {
  h = await startVigil(undefined, { env: { VIGIL_SQL_TIMEOUT_SECONDS: "1" } });
  expect(await sendRichSpan(h, "support-bot")).toBe(200);
});
afterAll(async () => {
  await h.stop();
});

const sqlAs = (key: string | undefined, text: string) =>
  apiCall(h, "/api/sql", key, { method: "POST", body: { sql: text } });
const sql = (text: string, key: string = h.apiKeys.reader) => sqlAs(key, text);

describe("POST /api/sql", () => {
  it("needs an API key", async () => {
    expect((await sqlAs(undefined, "SELECT 1")).status).toBe(401);
    expect((await sqlAs("vak_wrong", "SELECT 1")).status).toBe(401);
  });

  it("answers a read-only question for a reader", async () => {
    const res = await sql("SELECT agent_id, count() AS spans FROM spans GROUP BY agent_id");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, truncated: false, rows: [{ agent_id: "support-bot", spans: "1" }] });
  });

  it.each([
    ["INSERT INTO spans (agent_id) VALUES ('forged')", /only SELECT/],
    ["ALTER TABLE spans DELETE WHERE 1", /cannot be parsed|only SELECT/],
    ["ALTER TABLE spans ADD COLUMN x UInt8", /only SELECT/],
    ["DROP TABLE spans", /only SELECT/],
    ["TRUNCATE TABLE spans", /only SELECT/],
    ["SELECT 1; DROP TABLE spans", /exactly one statement/],
    ["SELECT * FROM file('/etc/passwd', CSV, 'line String')", /table function file/],
    ["SELECT file('/etc/passwd')", /function file/],
    ["SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')", /table function url/],
    ["SELECT * FROM system.users", /not readable/],
    ["SELECT * FROM spans SETTINGS readonly = 0", /SETTINGS clause/],
    ["WITH x AS (SELECT 1) INSERT INTO spans (agent_id) SELECT 'forged'", /only SELECT|INSERT/],
  ])("refuses %s", async (text, reason) => {
    const res = await sql(text, h.apiKeys.admin);
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toMatch(reason);
  });

  it("left the store untouched by the refused statements", async () => {
    expect(await countSpans(h.vigil.client)).toBe(1);
    expect((await sql("SELECT count() AS n FROM spans WHERE agent_id = 'forged'")).body).toMatchObject({
      rows: [{ n: "0" }],
    });
  });

  it("cuts results at the row limit and says so", async () => {
    const res = await sql("SELECT arrayJoin(range(20000)) AS n");
    expect(res.status).toBe(200);
    expect((res.body as { rows: unknown[]; truncated: boolean }).rows).toHaveLength(10_000);
    expect((res.body as { truncated: boolean }).truncated).toBe(true);
  });

  it("stops a query over the time limit with a clear error", async () => {
    // This harness runs with VIGIL_SQL_TIMEOUT_SECONDS=1, on the embedded engine, where a
    // reader's query gets the shorter time slice (0.03 s) so it cannot hold ingest's writes.
    // A cross join of 10^5 × 10^5 rows keeps the engine busy far past one second.
    const res = await sql(
      "SELECT count() FROM (SELECT arrayJoin(range(100000)) AS a) x, (SELECT arrayJoin(range(100000)) AS b) y",
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: "over_limit",
      message: expect.stringMatching(/longer than 0\.03 s, the most the embedded store gives one query/) as unknown,
    });
  });
});
