/**
 * The raw engine insert: the rows ingest would write for the benchmark workload,
 * pre-serialized once, inserted straight into a fresh store in batches, with the rate
 * and the engine's CPU per row.
 *
 * Targets (RAW_TARGET): "views" (default) is the migrated spans table as ingest writes
 * it, with its materialized views and skip indexes: the honest limit for what storing
 * a span costs; "bare" is a copy of the spans table with no views and no indexes: what
 * the views and indexes add. RAW_WITHOUT=<view> (or "indexes") is the migrated table
 * less that one view (or its skip indexes): what it costs (bench/view-costs.ts). CPU is the whole process's for the embedded engine (chDB
 * runs in this process; sending pre-serialized bytes costs Node next to nothing) or the
 * server process's (RAW_CLICKHOUSE_PID), over the insert loop.
 *
 * Runs in its own process (chDB binds one data directory per process) and prints one
 * JSON line: { rowsPerSecond, batchRows, batches, cpuUsPerRow, cpuByGroup }.
 *
 * Usage: tsx bench/raw-insert.ts <batchRows> <seconds> (RAW_CLICKHOUSE_URL: on a server instead)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uuidv7 } from "@vigil/common";
import { extractFacts, initSqlParser } from "@vigil/facts";
import { decodeTraceRequestProtobuf } from "@vigil/otlp";
import { encodeSpanRows, insertSpanBatch, openStoreClient, runMigrations } from "@vigil/store";
import { cpuBetween, sampleCpu, sampleProcessCpu } from "./cpu";
import { templateRequest } from "./workload";

const batchRows = Number(process.argv[2] ?? 20_000);
const seconds = Number(process.argv[3] ?? 10);
const target = process.env.RAW_TARGET === "bare" ? "spans_bare" : "spans";
const dataDir = mkdtempSync(join(tmpdir(), "vigil-raw-"));
// RAW_CLICKHOUSE_URL (with _USER and _PASSWORD): the same insert into a ClickHouse server.
const serverUrl = process.env.RAW_CLICKHOUSE_URL;
const serverPid = Number(process.env.RAW_CLICKHOUSE_PID ?? NaN);
const client =
  serverUrl === undefined
    ? openStoreClient({ mode: "embedded", dataDir })
    : openStoreClient({
        mode: "server",
        url: serverUrl,
        username: process.env.RAW_CLICKHOUSE_USER ?? "default",
        password: process.env.RAW_CLICKHOUSE_PASSWORD ?? "",
      });
await runMigrations(client);
if (target === "spans_bare") {
  await client.command({ query: "DROP TABLE IF EXISTS spans_bare" });
  await client.command({ query: "CREATE TABLE spans_bare AS spans" });
  const rs = await client.query({
    query: "SELECT name FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = 'spans_bare'",
    format: "JSONEachRow",
  });
  for (const { name } of await rs.json<{ name: string }>())
    await client.command({ query: `ALTER TABLE spans_bare DROP INDEX ${name}` });
}
// RAW_WITHOUT: the migrated table less one of its materialized views, or its skip indexes.
const without = process.env.RAW_WITHOUT;
if (without !== undefined && target === "spans") {
  const listed = async (query: string) =>
    (await (await client.query({ query, format: "JSONEachRow" })).json<{ name: string }>()).map((r) => r.name);
  const views = await listed(
    "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'",
  );
  const indexes = await listed(
    "SELECT name FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = 'spans'",
  );
  if (without === "indexes")
    for (const name of indexes) await client.command({ query: `ALTER TABLE spans DROP INDEX ${name}` });
  else if (views.includes(without)) await client.command({ query: `DROP VIEW ${without}` });
  else throw new Error(`RAW_WITHOUT: not a view of this schema: ${without} (views: ${views.join(", ")})`);
}
await initSqlParser();

const decoded = decodeTraceRequestProtobuf(templateRequest(512, BigInt(Date.now() - 60_000) * 1_000_000n));
const spans = [];
while (spans.length < batchRows) spans.push(...decoded.spans);
spans.length = batchRows;
const facts = spans.map((s) => extractFacts(s));
const { body } = encodeSpanRows(spans, facts, undefined, {
  batchId: uuidv7(),
  agentId: "support-bot",
  receivedAtMs: Date.now(),
  requestDigest: "raw",
});

const rows = [body]; // as ingest hands a batch over: UTF-8 bytes
await insertSpanBatch(client, rows, target); // warm-up
const sample = () => (Number.isNaN(serverPid) ? sampleCpu() : sampleProcessCpu(serverPid));
const mainTid = Number.isNaN(serverPid) ? String(process.pid) : "";
let batches = 0;
const cpuBefore = sample();
const started = performance.now();
while (performance.now() - started < seconds * 1000) {
  await insertSpanBatch(client, rows, target);
  batches++;
}
const elapsedS = (performance.now() - started) / 1000;
const cpu = cpuBetween(cpuBefore, sample(), mainTid);
const rowsPerSecond = (batches * batchRows) / elapsedS;
await client.close();
rmSync(dataDir, { recursive: true, force: true });
const inserted = batches * batchRows;
process.stdout.write(
  `${JSON.stringify({
    rowsPerSecond,
    batchRows,
    batches,
    cpuUsPerRow: cpu.totalUs / inserted,
    cpuByGroup: Object.fromEntries(Object.entries(cpu.byGroup).map(([k, us]) => [k, us / inserted])),
  })}\n`,
);
