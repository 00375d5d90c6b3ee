import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts } from "@vigil/store";
import type { Alert } from "@vigil/store";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * The learned detectors on the databases' side: agents whose tracers send nothing at
 * all, judged on what PostgreSQL's pgAudit logged under their database users, against
 * the history the audit log holds of them. Weeks of audit history arrive as a
 * collector would forward them (OTLP log records from the real OTel logs exporter),
 * then today's records: a first DELETE, a first table, an hour the database user is
 * never active at, and a burst of statements, each raise the learned alert, marked as
 * the database's finding; an ordinary statement at a known table raises none of the
 * novelty alerts. The agents' reported histories stay empty: audit records never make a
 * value "known" to what an agent says of itself.
 */
const collectorToken = generateToken();
let vigil: Harness;
const now = Date.now();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const hourStart = now - (now % HOUR);

let lineNo = 0;
/** A pgAudit jsonlog line as PostgreSQL 15 writes it (fields as in test/corpora/db-audit-lines.ts). */
function pgAuditLine(user: string, atMs: number, kind: string, command: string, table: string, sql: string): string {
  lineNo++;
  const t = new Date(atMs).toISOString().replace("T", " ").replace("Z", " UTC");
  const message = `AUDIT: SESSION,${lineNo},1,${kind},${command},TABLE,public.${table},${sql},<not logged>`;
  return JSON.stringify({
    timestamp: t,
    user,
    dbname: "warehouse",
    pid: 4000 + (lineNo % 50),
    remote_host: "127.0.0.1",
    remote_port: 50000 + (lineNo % 1000),
    session_id: `6b1063e3.${lineNo.toString(16)}`,
    line_num: lineNo,
    ps: command,
    session_start: t.slice(0, 19) + " UTC",
    vxid: `3/${lineNo}`,
    txid: 0,
    error_severity: "LOG",
    message,
    application_name: "agent",
    backend_type: "client backend",
    query_id: 0,
  });
}

const select = (user: string, at: number) =>
  pgAuditLine(user, at, "READ", "SELECT", "orders", "select * from orders where id = 1");

async function forward(lines: readonly string[]): Promise<void> {
  const logs = new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor(
        new OTLPLogExporter({
          url: vigil.ingestUrl.replace("/v1/traces", "/v1/logs"),
          headers: { authorization: `Bearer ${collectorToken}` },
        }),
        { maxExportBatchSize: 200 },
      ),
    ],
  });
  const logger = logs.getLogger("filelog");
  for (const body of lines) logger.emit({ body });
  await logs.forceFlush();
  await logs.shutdown();
}

const alertsOf = async (agentId: string): Promise<Alert[]> => findAlerts(vigil.vigil.client, { agentId, limit: 1000 });

beforeAll(async () => {
  vigil = await startVigil([], {
    agentsYaml:
      "agents:\n" +
      `  - id: ops-bot\n    tokens:\n      - sha256: "${sha256Hex(generateToken())}"\n` +
      `  - id: batch-bot\n    tokens:\n      - sha256: "${sha256Hex(generateToken())}"\n`,
    extraYaml:
      "detection:\n  learning_days: 7\n  learning_min_spans: 50\n  call_volume_floor: 30\n" +
      "audit:\n  match_window_seconds: 1\n  sources:\n" +
      `      - id: warehouse-pg\n        format: pgaudit-jsonlog\n        tokens:\n          - sha256: "${sha256Hex(collectorToken)}"\n` +
      "        users:\n          - {user: ops_pg, agent: ops-bot}\n          - {user: batch_pg, agent: batch-bot}\n",
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" },
  });
}, 120_000);

afterAll(async () => {
  await vigil?.stop();
});

describe("learned detectors on what the databases saw", () => {
  it("judges agents that report nothing on their database users' audit history", async () => {
    const history: string[] = [];
    // ops_pg: eight days of SELECTs on orders, never within an hour of the current one.
    const currentHour = new Date(now).getUTCHours();
    for (let day = 8; day >= 1; day--)
      for (let h = 0; h < 24; h++) {
        if (Math.min(Math.abs(h - currentHour), 24 - Math.abs(h - currentHour)) <= 1) continue;
        history.push(select("ops_pg", hourStart - day * DAY + (h - currentHour) * HOUR + 600_000));
      }
    // batch_pg: the same hour of the week in each of the last four weeks, three statements per 5 minutes.
    for (let week = 4; week >= 1; week--)
      for (let bucket = 0; bucket < 12; bucket++)
        for (let i = 0; i < 3; i++)
          history.push(select("batch_pg", hourStart - week * 7 * DAY + bucket * 300_000 + i * 1000));
    await forward(history);
    // Every history record judged before today's arrive: none was reported by a span.
    const unreported = async (agentId: string) =>
      (await alertsOf(agentId)).filter((a) => a.detector === "unreported_action").length;
    await until(
      "the history judged",
      async () =>
        (await unreported("ops-bot")) === 8 * 21 && (await unreported("batch-bot")) === 4 * 12 * 3 ? true : undefined,
      90_000,
    );

    const today = [
      pgAuditLine("ops_pg", now, "WRITE", "DELETE", "orders", "delete from orders where id < 100"),
      pgAuditLine("ops_pg", now + 1, "READ", "SELECT", "customers", "select email from customers"),
      select("ops_pg", now + 2),
      // All in the current 5-minute bucket.
      ...Array.from({ length: 80 }, (_, i) => select("batch_pg", now - (now % 300_000) + i)),
    ];
    await forward(today);

    const learned = (a: Alert) =>
      a.evidence.origin === "db-audit" && !["unreported_action", "telemetry_silent"].includes(a.detector);
    const ops = await until(
      "the learned alerts on ops-bot's audit records",
      async () => {
        const found = (await alertsOf("ops-bot")).filter(learned);
        return ["new_table", "new_table_operation", "off_hours"].every((d) => found.some((a) => a.detector === d))
          ? found
          : undefined;
      },
      60_000,
    );
    const newTables = ops.filter((a) => a.detector === "new_table").map((a) => a.evidence.value);
    expect(newTables).toEqual(["public.customers"]);
    const newOperations = ops.filter((a) => a.detector === "new_table_operation").map((a) => a.evidence.value);
    expect(newOperations).toEqual(["public.orders:DELETE"]);
    for (const a of ops) expect(a.summary).toMatch(/^the database's audit log: ops-bot/);
    // The ordinary SELECT on orders raised no novelty: only the hour is new.
    expect(ops.filter((a) => a.detector.startsWith("new_"))).toHaveLength(2);

    const batch = await until(
      "the burst of batch_pg's statements judged",
      async () => {
        const found = (await alertsOf("batch-bot")).filter((a) => learned(a) && a.detector === "call_volume");
        return found.length > 0 ? found : undefined;
      },
      60_000,
    );
    expect(batch[0]?.evidence.calls).toBeGreaterThanOrEqual(80);
    expect(batch[0]?.evidence.median).toBe(3);
    // batch_pg works at this hour every week: no off-hours alert for it.
    expect((await alertsOf("batch-bot")).filter((a) => a.detector === "off_hours")).toHaveLength(0);

    // Neither agent reported anything of its own: the aggregates hold only the databases' side.
    const rs = await vigil.vigil.client.query({
      query:
        "SELECT origin, count() AS n FROM agent_activity WHERE agent_id IN ('ops-bot', 'batch-bot') GROUP BY origin",
      format: "JSONEachRow",
    });
    expect(await rs.json()).toEqual([{ origin: "db-audit", n: expect.anything() }]);
  }, 180_000);
});
