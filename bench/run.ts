/**
 * `npm run bench`: ingest throughput end to end against the raw engine, from one run.
 *
 * 1. Starts the all-in-one Vigil (embedded chDB) in this process on loopback.
 * 2. A separate process (bench/load-generator.ts) sends OTLP protobuf requests of 512
 *    spans with 20 attributes each, 16 in flight, and measures acknowledge latency;
 *    then again paced at half the measured maximum, for latency under normal load.
 * 3. The same rows are then inserted straight into a fresh engine (bench/raw-insert.ts,
 *    its own process), pre-serialized, to give the raw insert rate; the ratio says how
 *    much of the engine's rate ingest delivers end to end.
 * 4. Decode and row-encoding cost per span are timed on their own.
 * 5. The databases' audit logs: intake, matching cost, log line → alert (bench/audit.ts).
 *
 * Prints a table and writes bench/results/ingest-<time>.json.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { readEnvironment } from "@vigil/config";
import { extractFacts, inheritSessions, initSqlParser } from "@vigil/facts";
import { redactSpans } from "@vigil/secrets";
import { decodeTraceRequestProtobuf } from "@vigil/otlp";
import { startAllInOne } from "@vigil/service-vigil";
import type { AllInOne } from "@vigil/service-vigil";
import type { ClickHouseClient } from "@clickhouse/client";
import { countSpans, encodeSpanRows } from "@vigil/store";
import { jsonTraceRequest } from "../test/support/otlp-json";
import { TestClickHouse } from "../test/support/clickhouse-server";
import { cpuBetween, sampleCpu, sampleProcessCpu } from "./cpu";
import { CONCURRENCY, SPANS_PER_REQUEST, measureGate, runChild, runLoad } from "./load";
import { startBenchVigil } from "./bench-vigil";
import { profileStages } from "./profile";
import { templateRequest } from "./workload";

const MEASURE_SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const RAW_BATCH_ROWS = 20_000;

/** Ledger batches not yet examined by detection. */
async function detectionBacklog(client: ClickHouseClient): Promise<number> {
  const rs = await client.query({
    query: `SELECT toString((SELECT max(seq) FROM ledger) - (SELECT max(seq) FROM detection_cursor)) AS n`,
    format: "JSONEachRow",
  });
  return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
}

/**
 * Runs detection until it has examined every ledger batch (at most two minutes);
 * `client` may read the ledger and detection's cursor (on a server: not ingest's user).
 */
async function drainDetection(vigil: AllInOne, client = vigil.client): Promise<void> {
  const started = performance.now();
  while ((await detectionBacklog(client)) > 0 && performance.now() - started < 120_000) await vigil.detection.trigger();
}

/**
 * Sends one DROP span every 400 ms and measures, for each, acknowledgement → alert
 * stored (the detection loop reports alerts once they are stored, so the measurement
 * adds no queries to the engine it measures).
 */
async function measureDetectionLag(url: string, token: string, vigil: AllInOne, durationMs: number): Promise<number[]> {
  const ackedAt = new Map<string, number>();
  const storedAt = new Map<string, number>();
  vigil.detection.onAlerts((alerts) => {
    const now = performance.now();
    for (const a of alerts)
      if (a.detector === "destructive_without_approval" && !storedAt.has(a.sessionId)) storedAt.set(a.sessionId, now);
  });
  const started = Date.now();
  let i = 0;
  while (Date.now() - started < durationMs) {
    i++;
    const session = `bench-incident-${i}`;
    const body = jsonTraceRequest([
      {
        traceId: `${i.toString(16).padStart(8, "0")}${"be".repeat(12)}`,
        name: "drop",
        attrs: { "session.id": session, "db.query.text": "DROP TABLE customers" },
      },
    ]);
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    if (res.status === 200) ackedAt.set(session, performance.now());
    await new Promise((r) => setTimeout(r, 400));
  }
  const deadline = performance.now() + 30_000;
  while ([...ackedAt.keys()].some((s) => !storedAt.has(s)) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return [...ackedAt].map(([session, acked]) => (storedAt.get(session) ?? Infinity) - acked).sort((a, b) => a - b);
}

function timePerSpan(spans: number, fn: () => void, minMs = 1500): number {
  const warm = performance.now();
  while (performance.now() - warm < 500) fn(); // let the JIT and the key cache settle first
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return ((performance.now() - t0) * 1000) / (n * spans); // µs per span
}

// Per-span costs first, on a fresh heap with no store work running beside them.
const template = templateRequest(SPANS_PER_REQUEST, BigInt(Date.now() - 60_000) * 1_000_000n);
const decoded = decodeTraceRequestProtobuf(template);
await initSqlParser();
const rowContext = {
  batchId: "018f0000-0000-7000-8000-000000000000",
  agentId: "support-bot",
  receivedAtMs: Date.now(),
  requestDigest: "bench",
};
const facts = decoded.spans.map((s) => extractFacts(s));
const decodeUs = timePerSpan(SPANS_PER_REQUEST, () => decodeTraceRequestProtobuf(template));
const extractUs = timePerSpan(SPANS_PER_REQUEST, () => {
  const f = decoded.spans.map((s) => extractFacts(s));
  inheritSessions(decoded.spans, f);
});
const redactUs = timePerSpan(SPANS_PER_REQUEST, () => redactSpans(decoded.spans));
const encodeUs = timePerSpan(SPANS_PER_REQUEST, () => encodeSpanRows(decoded.spans, facts, undefined, rowContext));
// The whole CPU path of a request (decode → redact → facts → rows + leaf hashes), and
// the same without redaction and fact extraction.
const pipelineUs = timePerSpan(SPANS_PER_REQUEST, () => {
  const d = decodeTraceRequestProtobuf(template);
  redactSpans(d.spans);
  const f = d.spans.map((s) => extractFacts(s));
  inheritSessions(d.spans, f);
  encodeSpanRows(d.spans, f, undefined, rowContext);
});
const pipelineNoFactsUs = timePerSpan(SPANS_PER_REQUEST, () => {
  const d = decodeTraceRequestProtobuf(template);
  encodeSpanRows(d.spans, facts, undefined, rowContext);
});

const { vigil, config, token, url, dataDir } = await startBenchVigil("vigil-bench-");

process.stderr.write(`bench: warming up (3 s)\n`);
await runLoad(url, token, 3);
const insertsBefore = { n: vigil.ingest.stats.inserts, ms: vigil.ingest.stats.insertMs };
const batchesBefore = vigil.ingest.batcher.batchesWritten;
const rowsBefore = vigil.ingest.batcher.rowsWritten;
process.stderr.write(`bench: end-to-end, ${MEASURE_SECONDS} s at full speed\n`);
// CPU per stored span: this whole process (Node and the embedded engine, detection
// included) from the start of full load until ingest and detection have caught up.
const cpuBefore = sampleCpu();
const full = await runLoad(url, token, MEASURE_SECONDS);
await vigil.ingest.drain();
const batches = vigil.ingest.batcher.batchesWritten - batchesBefore;
const avgBatchRows = (vigil.ingest.batcher.rowsWritten - rowsBefore) / Math.max(1, batches);
const avgInsertMs =
  (vigil.ingest.stats.insertMs - insertsBefore.ms) / Math.max(1, vigil.ingest.stats.inserts - insertsBefore.n);
const rssAfterLoad = process.memoryUsage().rss;
process.stderr.write(`bench: end-to-end, 10 s paced at half the measured maximum\n`);
// Detection examines batches behind ingest; at full load it falls behind. Measure how
// long the backlog takes to drain, then the lag at half load from a caught-up start.
const backlogStart = performance.now();
const backlog = await detectionBacklog(vigil.client);
await drainDetection(vigil);
const backlogDrainMs = performance.now() - backlogStart;
const cpuFull = cpuBetween(cpuBefore, sampleCpu(), String(process.pid));
// Meanwhile, anomalous spans (a DROP with no approval) from this process: time from the
// acknowledgement of each to its alert being stored, with detection running under load.
const timingsBefore = { ...vigil.detection.timings, runs: vigil.detection.runs, batches: vigil.detection.batches };
const halfLoad = runLoad(url, token, 10, full.spansPerSecond / 2);
const detectionLagMs = await measureDetectionLag(url, token, vigil, 9_000);
const half = await halfLoad;
process.stderr.write("bench: the confirmation gate's allow answer, at half load\n");
const gateLoad = runLoad(url, token, 6, full.spansPerSecond / 2);
const gateMs = await measureGate(url.replace("/v1/traces", "/v1/decisions"), token, 5000);
await gateLoad;
// Where detection's time went during the lag measurement, per run.
const lagRuns = Math.max(1, vigil.detection.runs - timingsBefore.runs);
const perRun = (k: "readMs" | "detectMs" | "storeMs") => (vigil.detection.timings[k] - timingsBefore[k]) / lagRuns;
const detectionRun = {
  runs: vigil.detection.runs - timingsBefore.runs,
  batchesPerRun: (vigil.detection.batches - timingsBefore.batches) / lagRuns,
  readMs: perRun("readMs"),
  detectMs: perRun("detectMs"),
  storeMs: perRun("storeMs"),
};

// Latency near the maximum, then the other encodings at full load.
process.stderr.write(`bench: end-to-end at 90% of the maximum, then JSON and gzip\n`);
const ninety = await runLoad(url, token, 10, full.spansPerSecond * 0.9);
// Where the main thread's time goes at full load: a V8 CPU profile of this process.
process.stderr.write(`bench: main-thread profile at full load (5 s)\n`);
const profiledLoad = runLoad(url, token, 7);
await new Promise((r) => setTimeout(r, 1000));
const profile = await profileStages(5000);
await profiledLoad;
const jsonFull = await runLoad(url, token, 10, undefined, { json: true });
const protobufGzip = await runLoad(url, token, 10, undefined, { gzip: true });
const jsonGzip = await runLoad(url, token, 10, undefined, { json: true, gzip: true });

// The same rows, straight into a fresh engine, in a process of its own.
process.stderr.write(`bench: raw engine insert, batches of ${RAW_BATCH_ROWS}\n`);
type RawResult = { rowsPerSecond: number; cpuUsPerRow: number; cpuByGroup: Record<string, number> };
const raw = await runChild<RawResult>(["bench/raw-insert.ts", String(RAW_BATCH_ROWS), "10"]);
const rawRate = raw.rowsPerSecond;
const rawBare = await runChild<RawResult>(["bench/raw-insert.ts", String(RAW_BATCH_ROWS), "10"], {
  RAW_TARGET: "bare",
});
// And at the batch size group commit actually produced, for a like-for-like view.
const rawSame = await runChild<RawResult>(["bench/raw-insert.ts", String(Math.round(avgBatchRows)), "10"]);

const stored = await countSpans(vigil.client);
await vigil.stop();
rmSync(dataDir, { recursive: true, force: true });

// The server placement, same workload, same run: the all-in-one on a ClickHouse server
// (the test server: clickhouse-local from the same chDB library, in its own process),
// each service as its own user; then the raw insert of the same rows into that server.
process.stderr.write(`bench: server placement, ${MEASURE_SECONDS} s at full speed, then its raw insert\n`);
const clickhouse = new TestClickHouse();
await clickhouse.start();
const serverDataDir = mkdtempSync(join(tmpdir(), "vigil-bench-server-"));
const serverVigil = await startAllInOne(
  readEnvironment({
    VIGIL_DATA_DIR: serverDataDir,
    VIGIL_INGEST_PORT: "0",
    VIGIL_API_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    ...clickhouse.environment(),
  }),
  config,
  createLogger("warn"),
);
const serverUrl = `http://127.0.0.1:${serverVigil.ingestPort}/v1/traces`;
await runLoad(serverUrl, token, 3);
// CPU here is this process (Vigil's Node side) plus the server's, over full load and
// until ingest and detection have caught up.
const serverPid = clickhouse.pid ?? 0;
const serverCpuBefore = { vigil: sampleCpu(), engine: sampleProcessCpu(serverPid) };
const serverFull = await runLoad(serverUrl, token, MEASURE_SECONDS);
await serverVigil.ingest.drain();
const serverAdmin = clickhouse.adminClient();
await drainDetection(serverVigil, serverAdmin);
await serverAdmin.close();
const serverCpu = {
  vigil: cpuBetween(serverCpuBefore.vigil, sampleCpu(), String(process.pid)),
  engine: cpuBetween(serverCpuBefore.engine, sampleProcessCpu(serverPid), ""),
};
await serverVigil.stop();
const serverRawEnv = {
  RAW_CLICKHOUSE_URL: `${clickhouse.url}/`,
  RAW_CLICKHOUSE_USER: clickhouse.admin.username,
  RAW_CLICKHOUSE_PASSWORD: clickhouse.admin.password,
  RAW_CLICKHOUSE_PID: String(serverPid),
};
const serverRaw = await runChild<RawResult>(["bench/raw-insert.ts", String(RAW_BATCH_ROWS), "10"], serverRawEnv);
const serverRawBare = await runChild<RawResult>(["bench/raw-insert.ts", String(RAW_BATCH_ROWS), "10"], {
  ...serverRawEnv,
  RAW_TARGET: "bare",
});
await clickhouse.stop();
rmSync(serverDataDir, { recursive: true, force: true });

// Investigation latency on a store of 10 million spans (its own process and store).
const QUERY_SPANS = Number(process.env.BENCH_QUERY_SPANS ?? 10_000_000);
process.stderr.write(`bench: investigation latency at ${QUERY_SPANS.toLocaleString("en-US")} stored spans\n`);
type Latency = { p50Ms: number; p99Ms: number; bytes: number };
const queries = await runChild<{
  spans: number;
  fillSeconds: number;
  sessionApi: Latency;
  sessionPage: Latency;
  activityApi: Latency;
  sessionsList: Latency;
}>(["bench/query-latency.ts", String(QUERY_SPANS)]);

// The databases' audit logs: intake, matching and log line → alert (its own process and store).
process.stderr.write("bench: database audit logs\n");
const audit = await runChild<{
  intake: { lines: number; linesPerSecond: number; cpuUsPerLine: number };
  matching: {
    records: number;
    reportedSpans: number;
    unreported: number;
    wallUsPerRecord: number;
    cpuUsPerRecord: number;
  };
  delay: { samples: number; matchWindowMs: number; p50Ms: number; p99Ms: number; maxMs: number };
}>(["bench/audit.ts"]);

const ratio = full.spansPerSecond / rawRate;
// CPU per stored span, and where it went: the main thread split by stage in the
// profile's proportions; the engine is every non-Node thread plus Node's libuv pool,
// where chDB's queries and inserts run (and V8's GC helpers, also named "node").
const perSpan = (us: number) => us / Math.max(1, full.spansAcked);
const cpuUsPerSpan = perSpan(cpuFull.totalUs);
const mainUs = perSpan(cpuFull.byGroup["node main thread"] ?? 0);
const mainByStage = Object.fromEntries(Object.entries(profile.shares).map(([k, share]) => [k, share * mainUs]));
const cpuByThread = Object.fromEntries(
  Object.entries(cpuFull.byGroup)
    .map(([k, us]) => [k, perSpan(us)] as const)
    .sort((a, b) => b[1] - a[1]),
);
const serverSpans = Math.max(1, serverFull.spansAcked);
const serverCpuUs = {
  vigil: serverCpu.vigil.totalUs / serverSpans,
  engine: serverCpu.engine.totalUs / serverSpans,
};
const cpu = execFileSync("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim();
const results = {
  when: new Date().toISOString(),
  machine: { cpu, cores: (await import("node:os")).cpus().length, node: process.version },
  workload: {
    spansPerRequest: SPANS_PER_REQUEST,
    attributesPerSpan: 20,
    concurrency: CONCURRENCY,
    requestBytes: full.bodyBytes,
  },
  endToEnd: { ...full, avgRowsPerInsert: Math.round(avgBatchRows), inserts: batches, avgInsertMs },
  halfLoad: half,
  gateAllowMs: { p50: pctOf(gateMs, 50), p99: pctOf(gateMs, 99), requests: gateMs.length },
  ninetyPercentLoad: ninety,
  encodings: { json: jsonFull, protobufGzip, jsonGzip },
  detectionBacklogAfterFullLoad: { batches: backlog, drainMs: backlogDrainMs },
  detectionRun,
  detectionLagMs: {
    samples: detectionLagMs.length,
    p50: pctOf(detectionLagMs, 50),
    p99: pctOf(detectionLagMs, 99),
    max: detectionLagMs.at(-1),
  },
  cpu: {
    usPerSpanStored: cpuUsPerSpan,
    engineUsPerRowWithViews: raw.cpuUsPerRow,
    engineUsPerRowBare: rawBare.cpuUsPerRow,
    ratioToEngineWithViews: cpuUsPerSpan / raw.cpuUsPerRow,
    mainThreadUsPerSpan: mainUs,
    mainThreadByStage: mainByStage,
    mainThreadIdleShareWhileProfiled: profile.idleShare,
    byThread: cpuByThread,
    rawByThread: raw.cpuByGroup,
  },
  audit,
  rawInsert: { batchRows: RAW_BATCH_ROWS, rowsPerSecond: rawRate },
  rawInsertBare: { batchRows: RAW_BATCH_ROWS, rowsPerSecond: rawBare.rowsPerSecond },
  serverPlacement: {
    endToEnd: serverFull,
    rawInsert: { batchRows: RAW_BATCH_ROWS, rowsPerSecond: serverRaw.rowsPerSecond },
    ratio: serverFull.spansPerSecond / serverRaw.rowsPerSecond,
    cpu: {
      vigilUsPerSpan: serverCpuUs.vigil,
      engineUsPerSpan: serverCpuUs.engine,
      engineUsPerRowWithViews: serverRaw.cpuUsPerRow,
      engineUsPerRowBare: serverRawBare.cpuUsPerRow,
      ratioToEngineWithViews: (serverCpuUs.vigil + serverCpuUs.engine) / serverRaw.cpuUsPerRow,
    },
  },
  rawInsertSameBatch: {
    batchRows: Math.round(avgBatchRows),
    rowsPerSecond: rawSame.rowsPerSecond,
    cpuUsPerRow: rawSame.cpuUsPerRow,
  },
  ratio,
  ratioSameBatch: full.spansPerSecond / rawSame.rowsPerSecond,
  perSpan: {
    decodeProtobufUs: decodeUs,
    redactUs,
    extractFactsUs: extractUs,
    encodeRowUs: encodeUs,
    pipelineUs,
    pipelineNoFactsUs,
  },
  storedSpans: stored,
  investigation: queries,
  rssMiB: rssAfterLoad / 1024 / 1024,
};

function pctOf(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const fmt = (n: number, d = 0): string =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const us = (n: number) => `${fmt(n, 1)} µs`;
const rows: Array<[string, string]> = [
  [
    "CPU per span stored, embedded (whole process, all threads, full load until detection caught up)",
    `${us(cpuUsPerSpan)} (${fmt(full.spansAcked)} spans)`,
  ],
  [
    "  engine CPU per row, raw insert with the same views and indexes / bare spans table",
    `${us(raw.cpuUsPerRow)} / ${us(rawBare.cpuUsPerRow)}`,
  ],
  ["  ratio Vigil CPU per span / engine CPU per row with views (target ≤ 2)", fmt(cpuUsPerSpan / raw.cpuUsPerRow, 2)],
  [
    `  main thread ${us(mainUs)}, by stage (V8 profile, 5 s at full load; ${fmt(profile.idleShare * 100)} % idle)`,
    Object.entries(mainByStage)
      .map(([k, n]) => `${k} ${fmt(n, 1)}`)
      .join(", "),
  ],
  [
    "  other threads: the engine, Node's libuv pool (chDB inserts and queries) and GC helpers",
    us(cpuUsPerSpan - mainUs),
  ],
  [
    "  by thread",
    Object.entries(cpuByThread)
      .filter(([, n]) => n >= 0.5)
      .map(([k, n]) => `${k} ${fmt(n, 1)}`)
      .join(", "),
  ],
  [
    "CPU per span stored, server placement: Vigil's Node + the server",
    `${us(serverCpuUs.vigil)} + ${us(serverCpuUs.engine)} = ${us(serverCpuUs.vigil + serverCpuUs.engine)}`,
  ],
  [
    "  server CPU per row, raw insert with views / bare; ratio",
    `${us(serverRaw.cpuUsPerRow)} / ${us(serverRawBare.cpuUsPerRow)}; ${fmt((serverCpuUs.vigil + serverCpuUs.engine) / serverRaw.cpuUsPerRow, 2)}`,
  ],
  ["end-to-end ingest (OTLP protobuf, loopback, separate load process)", `${fmt(full.spansPerSecond)} spans/s`],
  [
    `  acknowledge latency p50 / p99 at full load (${CONCURRENCY} requests in flight)`,
    `${fmt(full.p50Ms, 1)} / ${fmt(full.p99Ms, 1)} ms`,
  ],
  [
    `  acknowledge latency p50 / p99 at half load (${fmt(half.spansPerSecond)} spans/s)`,
    `${fmt(half.p50Ms, 1)} / ${fmt(half.p99Ms, 1)} ms`,
  ],
  [
    `  acknowledge latency p50 / p99 at 90% load (${fmt(ninety.spansPerSecond)} spans/s)`,
    `${fmt(ninety.p50Ms, 1)} / ${fmt(ninety.p99Ms, 1)} ms`,
  ],
  ["  responses", JSON.stringify(full.statuses)],
  ["end-to-end ingest, OTLP JSON", `${fmt(jsonFull.spansPerSecond)} spans/s`],
  ["end-to-end ingest, OTLP protobuf, gzip", `${fmt(protobufGzip.spansPerSecond)} spans/s`],
  ["end-to-end ingest, OTLP JSON, gzip", `${fmt(jsonGzip.spansPerSecond)} spans/s`],
  ["detection backlog after full load, and time to drain it", `${backlog} batches, ${fmt(backlogDrainMs / 1000, 1)} s`],
  [
    `detection lag, acknowledged → alert stored, at half load (${detectionLagMs.length} DROP spans)`,
    `p50 ${fmt(pctOf(detectionLagMs, 50))} ms, p99 ${fmt(pctOf(detectionLagMs, 99))} ms, max ${fmt(detectionLagMs.at(-1) ?? NaN)} ms`,
  ],
  [
    `confirmation gate, allow answer at half load (${gateMs.length} requests, one at a time)`,
    `p50 ${fmt(pctOf(gateMs, 50), 1)} ms, p99 ${fmt(pctOf(gateMs, 99), 1)} ms`,
  ],
  [
    "  per detection run: batches; ms reading ledger and spans / in detectors / storing",
    `${fmt(detectionRun.batchesPerRun, 1)}; ${fmt(detectionRun.readMs)} / ${fmt(detectionRun.detectMs)} / ${fmt(detectionRun.storeMs)} ms (${detectionRun.runs} runs)`,
  ],
  [
    "  rows per INSERT (group commit), inserts, mean INSERT time",
    `${fmt(avgBatchRows)}, ${batches}, ${fmt(avgInsertMs)} ms`,
  ],
  [`raw engine insert (same rows, pre-serialized, ${fmt(RAW_BATCH_ROWS)}-row batches)`, `${fmt(rawRate)} rows/s`],
  ["ratio end-to-end / raw", fmt(ratio, 2)],
  [`raw engine insert into a bare spans table (no views, no indexes)`, `${fmt(rawBare.rowsPerSecond)} rows/s`],
  [
    `raw engine insert at the end-to-end batch size (${fmt(avgBatchRows)} rows)`,
    `${fmt(rawSame.rowsPerSecond)} rows/s, engine CPU ${fmt(rawSame.cpuUsPerRow, 1)} µs/row (ratio Vigil CPU per span to it ${fmt(cpuUsPerSpan / rawSame.cpuUsPerRow, 2)})`,
  ],
  ["ratio end-to-end / raw at the same batch size", fmt(full.spansPerSecond / rawSame.rowsPerSecond, 2)],
  [
    "server placement: end-to-end ingest, each service as its own user",
    `${fmt(serverFull.spansPerSecond)} spans/s (p50 / p99 ${fmt(serverFull.p50Ms, 1)} / ${fmt(serverFull.p99Ms, 1)} ms)`,
  ],
  [
    `  raw insert into that server (${fmt(RAW_BATCH_ROWS)}-row batches), ratio`,
    `${fmt(serverRaw.rowsPerSecond)} rows/s, ${fmt(serverFull.spansPerSecond / serverRaw.rowsPerSecond, 2)}`,
  ],
  ["protobuf decode", `${fmt(decodeUs, 2)} µs/span (${fmt(1e6 / decodeUs)} spans/s)`],
  ["secret redaction (every string scanned)", `${fmt(redactUs, 2)} µs/span (${fmt(1e6 / redactUs)} spans/s)`],
  [
    "security facts extraction (incl. SQL tables, cached parse)",
    `${fmt(extractUs, 2)} µs/span (${fmt(1e6 / extractUs)} spans/s)`,
  ],
  [
    "row encoding (JSONCompactEachRow) and ledger leaf hash",
    `${fmt(encodeUs, 2)} µs/span (${fmt(1e6 / encodeUs)} spans/s)`,
  ],
  [
    "decode → redact → facts → rows, one core",
    `${fmt(1e6 / pipelineUs)} spans/s (without redaction and facts: ${fmt(1e6 / pipelineNoFactsUs)})`,
  ],
  [
    `database audit lines followed from a file (${fmt(audit.intake.lines)} pgAudit lines): rate, process CPU per line`,
    `${fmt(audit.intake.linesPerSecond)} lines/s, ${fmt(audit.intake.cpuUsPerLine)} µs/line`,
  ],
  [
    `  matching records with reported spans (${fmt(audit.matching.records)} records, ${fmt(audit.matching.reportedSpans)} spans, ${audit.matching.unreported} unreported)`,
    `${fmt(audit.matching.wallUsPerRecord)} µs/record wall, ${fmt(audit.matching.cpuUsPerRecord)} µs/record CPU`,
  ],
  [
    `  database log line → unreported_action stored (${audit.delay.samples} DROPs, match window ${audit.delay.matchWindowMs} ms)`,
    `p50 ${fmt(audit.delay.p50Ms)} ms, p99 ${fmt(audit.delay.p99Ms)} ms`,
  ],
  ["resident memory after load", `${fmt(results.rssMiB)} MiB`],
  [
    `investigation at ${fmt(queries.spans)} stored spans: session view, API / console page, p50 / p99`,
    `${queries.sessionApi.p50Ms} / ${queries.sessionApi.p99Ms} ms, ${queries.sessionPage.p50Ms} / ${queries.sessionPage.p99Ms} ms`,
  ],
  [
    "  activity of one agent, last hour (first page, 200 actions), p50 / p99",
    `${queries.activityApi.p50Ms} / ${queries.activityApi.p99Ms} ms`,
  ],
  [
    "  sessions list, one agent, last 24 h, p50 / p99",
    `${queries.sessionsList.p50Ms} / ${queries.sessionsList.p99Ms} ms`,
  ],
];
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`\nVigil ingest benchmark (${results.machine.cores} cores, ${cpu}, Node ${process.version})\n`);
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/ingest-${results.when.replace(/[:.]/g, "-")}.json`;
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nwritten to ${file}\n`);
