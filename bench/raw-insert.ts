/**
 * The raw engine insert rate: the rows ingest would write for the benchmark workload,
 * pre-serialized once, inserted straight into a fresh embedded store in batches.
 * Runs in its own process (chDB binds one data directory per process) and prints one
 * JSON line: { rowsPerSecond, batchRows, batches }.
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
import { templateRequest } from "./workload";

const batchRows = Number(process.argv[2] ?? 20_000);
const seconds = Number(process.argv[3] ?? 10);
const dataDir = mkdtempSync(join(tmpdir(), "vigil-raw-"));
// RAW_CLICKHOUSE_URL (with _USER and _PASSWORD): the same insert into a ClickHouse server.
const serverUrl = process.env.RAW_CLICKHOUSE_URL;
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

const rows = [Buffer.from(body, "utf8")]; // as ingest hands a batch over: UTF-8 bytes
await insertSpanBatch(client, rows); // warm-up
let batches = 0;
const started = performance.now();
while (performance.now() - started < seconds * 1000) {
  await insertSpanBatch(client, rows);
  batches++;
}
const rowsPerSecond = (batches * batchRows) / ((performance.now() - started) / 1000);
await client.close();
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ rowsPerSecond, batchRows, batches })}\n`);
