/**
 * The databases' audit logs, measured: what reading them costs, what matching them with
 * the agents' reports costs, and how long after the database's log line the alert is
 * stored. Part of `npm run bench` (bench/run.ts runs it in its own process: chDB binds
 * one data directory per process); prints one JSON line.
 *
 * 1. Matching: the agent reports most of 2,000 statements as spans, the database logs
 *    all of them; a fresh AuditJudge sets the stored records beside the reports: wall
 *    time and CPU per record, the store reads included.
 * 2. Intake: pgAudit jsonlog lines (the captured format of PostgreSQL 15 with pgAudit
 *    1.7) appended to a file the all-in-one follows: lines per second until stored, and
 *    the process's CPU per line (parse, redaction, facts, group commit, ledger, the
 *    engine, and detection, the learned detectors and the judge running beside it).
 * 3. Delay: one unreported DROP at a time appended to the file; the time from the
 *    append to the unreported_action alert being stored, with the match window at its
 *    minimum (1 s) and the follower's default poll (500 ms). The window is the rule's
 *    own wait (a span may arrive after the record); the rest is Vigil's.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { startBenchVigil } from "./bench-vigil";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditJudge } from "@vigil/detect";
import { findAuditSpansSince } from "@vigil/store";
import { jsonTraceRequest } from "../test/support/otlp-json";
import { sampleCpu } from "./cpu";

const INTAKE_LINES = Number(process.env.BENCH_AUDIT_LINES ?? 20_000);
const MATCH_RECORDS = 2_000;
const DELAY_SAMPLES = 20;

// The database's log, in a directory of its own beside Vigil's data.
const logDir = mkdtempSync(join(tmpdir(), "vigil-bench-pglog-"));
const logFile = join(logDir, "postgresql.json");
writeFileSync(logFile, "");
const {
  vigil,
  config,
  token,
  url: ingestUrl,
  dataDir,
} = await startBenchVigil(
  "vigil-bench-audit-",
  "audit:\n  match_window_seconds: 1\n  sources:\n" +
    `    - id: orders-pg\n      format: pgaudit-jsonlog\n      file: ${logFile}\n` +
    "      users:\n        - {user: agent_pg, agent: support-bot}\n",
);

let lineNo = 0;
/** A pgAudit jsonlog line as PostgreSQL writes it (see test/corpora/db-audit-lines.ts). */
function line(atMs: number, kind: string, command: string, table: string, sql: string): string {
  lineNo++;
  const t = new Date(atMs).toISOString().replace("T", " ").replace("Z", " UTC");
  return JSON.stringify({
    timestamp: t,
    user: "agent_pg",
    dbname: "postgres",
    pid: 7000 + (lineNo % 64),
    remote_host: "127.0.0.1",
    remote_port: 40000 + (lineNo % 1000),
    session_id: `6b1063e3.${(lineNo % 64).toString(16)}`,
    line_num: lineNo,
    ps: command,
    session_start: `${t.slice(0, 19)} UTC`,
    vxid: `3/${lineNo}`,
    txid: 0,
    error_severity: "LOG",
    message: `AUDIT: SESSION,${lineNo},1,${kind},${command},TABLE,public.${table},${sql},<not logged>`,
    application_name: "agent",
    backend_type: "client backend",
    query_id: 0,
  });
}

async function auditRows(): Promise<number> {
  const rs = await vigil.client.query({
    query: "SELECT count() AS n FROM spans WHERE startsWith(request_digest, 'db-audit:')",
    format: "JSONEachRow",
  });
  return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`bench audit: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// 1. Matching: the agent reports most statements; the database logged all of them.
process.stderr.write(`bench audit: matching ${MATCH_RECORDS} records with the agent's reports\n`);
const matchStart = Date.now() + 5_000;
const reported: Array<{ traceId: string; name: string; startNs: bigint; attrs: Record<string, string> }> = [];
const records: string[] = [];
for (let i = 0; i < MATCH_RECORDS; i++) {
  const at = matchStart + i * 5;
  const table = `items_${i % 50}`;
  records.push(line(at, "WRITE", "UPDATE", table, `update ${table} set n = n + 1 where id = ${i}`));
  if (i % 10 !== 0)
    reported.push({
      traceId: `${i.toString(16).padStart(8, "0")}${"ad".repeat(12)}`,
      name: "UPDATE",
      startNs: BigInt(at) * 1_000_000n,
      attrs: { "db.system.name": "postgresql", "db.query.text": `UPDATE ${table} SET n = n + 1 WHERE id = ${i}` },
    });
}
for (let i = 0; i < reported.length; i += 500) {
  const res = await fetch(ingestUrl, {
    method: "POST",
    body: jsonTraceRequest(reported.slice(i, i + 500)),
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`bench audit: ingest answered ${res.status}`);
}
const before = await auditRows();
appendFileSync(logFile, `${records.join("\n")}\n`);
await until("the matching records stored", async () => (await auditRows()) >= before + MATCH_RECORDS, 120_000);
await vigil.ingest.drain();
// The all-in-one's own judge raises the unreported ones; once it has, a second judge
// (fresh: it reads back nothing its position says is judged) is handed the same
// records and timed alone.
await until(
  "the all-in-one's judgement",
  async () => {
    const rs = await vigil.client.query({
      query: "SELECT count() AS n FROM alerts WHERE detector = 'unreported_action' AND position(summary, 'items_') > 0",
      format: "JSONEachRow",
    });
    return Number((await rs.json<{ n: string }>())[0]?.n ?? 0) >= MATCH_RECORDS / 10;
  },
  60_000,
);
const judge = new AuditJudge(config.audit);
const agents = new Map(config.agents.map((a) => [a.id, a]));
await judge.judge(vigil.client, 0, agents);
judge.hold(
  (await findAuditSpansSince(vigil.client, Date.now() - 600_000)).filter(
    (r) => BigInt(r.startTimeUnixNano) >= BigInt(matchStart) * 1_000_000n,
  ),
);
const toJudge = judge.waiting;
const cpuMatch0 = sampleCpu();
const m0 = performance.now();
const judged = await judge.judge(vigil.client, matchStart + MATCH_RECORDS * 5 + 10_000, agents);
const matchMs = performance.now() - m0;
const cpuMatch1 = sampleCpu();
const unreported = judged.filter((a) => a.detector === "unreported_action").length;

// 2. Intake.
process.stderr.write(`bench audit: ${INTAKE_LINES} audit lines through the file follower\n`);
const intakeStart = Date.now();
const storedBefore = await auditRows(); // the matching phase's records
const cpu0 = sampleCpu();
const t0 = performance.now();
const chunk: string[] = [];
for (let i = 0; i < INTAKE_LINES; i++) {
  chunk.push(line(intakeStart - 60_000 + i, "READ", "SELECT", `orders_${i % 20}`, `select * from orders_${i % 20}`));
  if (chunk.length === 1000 || i === INTAKE_LINES - 1) {
    appendFileSync(logFile, `${chunk.join("\n")}\n`);
    chunk.length = 0;
  }
}
await until("the intake lines stored", async () => (await auditRows()) >= storedBefore + INTAKE_LINES, 300_000);
const intakeMs = performance.now() - t0;
await vigil.ingest.drain();
const cpu1 = sampleCpu();

// 3. Delay from the database's log line to the stored alert.
process.stderr.write(`bench audit: ${DELAY_SAMPLES} unreported DROPs, one at a time\n`);
const alertedAt = new Map<string, number>();
vigil.detection.onAlerts((alerts) => {
  const now = performance.now();
  for (const a of alerts) {
    const statement = (a.evidence.observed as { statement?: string } | undefined)?.statement ?? "";
    if (a.detector === "unreported_action" && statement.startsWith("drop table bench_drop_"))
      alertedAt.set(statement, now);
  }
});
const delays: number[] = [];
for (let i = 0; i < DELAY_SAMPLES; i++) {
  const sql = `drop table bench_drop_${i}`;
  const written = performance.now();
  appendFileSync(logFile, `${line(Date.now(), "DDL", "DROP TABLE", `bench_drop_${i}`, sql)}\n`);
  await until(`the alert on ${sql}`, async () => alertedAt.has(sql), 30_000);
  delays.push((alertedAt.get(sql) as number) - written);
}
delays.sort((a, b) => a - b);

await vigil.stop();
rmSync(dataDir, { recursive: true, force: true });
rmSync(logDir, { recursive: true, force: true });
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;
process.stdout.write(
  `${JSON.stringify({
    intake: {
      lines: INTAKE_LINES,
      linesPerSecond: (INTAKE_LINES * 1000) / intakeMs,
      cpuUsPerLine: (cpu1.totalUs - cpu0.totalUs) / INTAKE_LINES,
    },
    matching: {
      records: toJudge,
      reportedSpans: reported.length,
      unreported,
      wallUsPerRecord: (matchMs * 1000) / toJudge,
      cpuUsPerRecord: (cpuMatch1.totalUs - cpuMatch0.totalUs) / toJudge,
    },
    delay: {
      samples: delays.length,
      matchWindowMs: 1000,
      p50Ms: pct(delays, 0.5),
      p99Ms: pct(delays, 0.99),
      maxMs: delays.at(-1),
    },
  })}\n`,
);
