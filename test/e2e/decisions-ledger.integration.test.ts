import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import type { ClickHouseClient } from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";
import type { VerifyReport } from "@vigil/store";
import { TestClickHouse } from "../support/clickhouse-server";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * The confirmation gate's audit trail is ledgered like the spans: every group of
 * decision rows (a request, Vigil's own answer, a person's approval) is a batch on the
 * writer's `decisions@<chain>` chain, and verify recomputes each batch from the stored
 * rows. An administrator with full rights on the store who rewrites a justification,
 * forges an approval row or deletes a request is named by verify; the honest trail
 * verifies intact. On the embedded store and on a ClickHouse server.
 */
describe.each(["embedded", "server"] as const)("the decision trail is ledgered (%s)", (placement) => {
  let h: Harness;
  let clickhouse: TestClickHouse | undefined;
  let admin: ClickHouseClient;
  let pendingId = "";

  const ask = async (statement: string) => {
    const res = await fetch(h.ingestUrl.replace("/v1/traces", "/v1/decisions"), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
      body: JSON.stringify({
        description: "tidy up the reporting tables",
        session_id: "ticket-7",
        action: { db: { system: "postgresql", statement } },
      }),
    });
    return { status: res.status, body: (await res.json()) as { decision_id: string; decision: string } };
  };
  const verify = async (): Promise<VerifyReport> => {
    const res = await apiCall(h, "/api/verify", h.apiKeys.admin);
    expect(res.status).toBe(200);
    return res.body as VerifyReport;
  };
  const tamper = (sql: string) => admin.command({ query: sql, clickhouse_settings: { mutations_sync: "2" } });

  beforeAll(async () => {
    if (placement === "server") {
      clickhouse = new TestClickHouse();
      await clickhouse.start();
    }
    h = await startVigil(["support-bot"], clickhouse === undefined ? {} : { clickhouse });
    admin =
      clickhouse?.adminClient() ??
      createClient({ connection: createChdbConnection({ path: join(h.dataDir, "clickhouse") }) as never });
  });
  afterAll(async () => {
    await h?.stop();
    await clickhouse?.stop();
  });

  it("ledgers requests, Vigil's answers and people's answers, and verifies them intact", async () => {
    const allowed = await ask("SELECT * FROM report_daily LIMIT 10");
    expect(allowed).toMatchObject({ status: 200, body: { decision: "allow" } });
    const pending = await ask("DROP TABLE report_daily");
    expect(pending).toMatchObject({ status: 202, body: { decision: "pending" } });
    pendingId = pending.body.decision_id;
    const approved = await apiCall(h, `/api/decisions/${pendingId}/approve`, h.apiKeys.admin, {
      method: "POST",
      body: { justification: "the table was migrated to report_v2 last week" },
    });
    expect(approved.status).toBe(200);
    // Vigil's own answers are written behind the answer, in groups.
    await until("the allow answer stored", async () => {
      const rs = await admin.query({
        query: "SELECT count() AS n FROM decisions WHERE event = 'allowed'",
        format: "JSONEachRow",
      });
      return Number((await rs.json<{ n: string }>())[0]?.n) > 0;
    });
    await until("every decision batch ledgered", async () => {
      const r = await verify();
      return r.chains.some((c) => c.chainId === "decisions@main" && c.entries >= 3);
    });
    // The decision chain is signed like the spans' chains.
    await h.vigil.decisionCheckpointer.checkpoint();
    const report = await until("every decision batch ledgered", async () => {
      const r = await verify();
      return r.chains.some((c) => c.chainId === "decisions@main" && c.entries >= 3) && r;
    });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkpoints).toEqual({ checked: 1, valid: 1 });
    const rs = await admin.query({
      query: "SELECT count() AS n, uniqExact(batch_id) AS b FROM decisions",
      format: "JSONEachRow",
    });
    const [{ n, b }] = (await rs.json<{ n: string; b: string }>()) as [{ n: string; b: string }];
    // request + answer (one batch), pending request (one), approval (one): four rows in three batches or more.
    expect(Number(n)).toBe(4);
    expect(report.chains.find((c) => c.chainId === "decisions@main")).toMatchObject({ entries: Number(b) });
  });

  it("names a rewritten justification, a forged approval and a deleted request", async () => {
    await tamper(
      `ALTER TABLE decisions UPDATE justification = 'approved by the CISO' WHERE decision_id = '${pendingId}' AND event = 'approved'`,
    );
    let report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: "row_changed", chainId: "decisions@main" }) as unknown,
    );

    await tamper(
      `INSERT INTO decisions (batch_id, decision_id, event, at, agent_id, actor, justification)
       VALUES (generateUUIDv4(), '${pendingId}', 'approved', now64(3), 'support-bot', 'admin', 'forged')`,
    );
    report = await verify();
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: "batch_unledgered",
        detail: expect.stringMatching(/1 stored decisions rows/) as unknown,
      }) as unknown,
    );

    await tamper(`ALTER TABLE decisions DELETE WHERE decision_id = '${pendingId}' AND event = 'requested'`);
    report = await verify();
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: "row_missing",
        chainId: "decisions@main",
        detail: expect.stringMatching(/1 of 1 decisions rows are missing/) as unknown,
      }) as unknown,
    );
  });
});
