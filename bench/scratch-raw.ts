import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uuidv7 } from "@vigil/common";
import { extractFacts, initSqlParser } from "@vigil/facts";
import { decodeTraceRequestProtobuf } from "@vigil/otlp";
import { encodeSpanRows, openStoreClient, runMigrations } from "@vigil/store";
import { templateRequest } from "./workload";

const variant = process.argv[2] ?? "base";
const batchRows = Number(process.argv[3] ?? 20_000);
const seconds = 8;
const dataDir = mkdtempSync(join(tmpdir(), "vigil-raw-"));
const client = openStoreClient({ mode: "embedded", dataDir });
await runMigrations(client);
await initSqlParser();
const cmd = (q: string) => client.command({ query: q });
if (variant.includes("nomv")) for (const v of ["agent_activity_mv", "agent_calls_5m_mv", "span_trace_index_mv", "span_session_index_mv"]) await cmd(`DROP VIEW ${v}`);
if (variant.includes("noactivity")) await cmd(`DROP VIEW agent_activity_mv`);
if (variant.includes("noidx")) for (const i of ["idx_trace_id", "idx_session_id", "idx_received_at"]) await cmd(`ALTER TABLE spans DROP INDEX ${i}`);
if (variant.includes("zstd1")) for (const c of ["attributes", "events", "links", "resource_attributes", "scope_attributes"]) await cmd(`ALTER TABLE spans MODIFY COLUMN ${c} String CODEC(ZSTD(1))`);
if (variant.includes("lz4")) for (const c of ["attributes", "events", "links", "resource_attributes", "scope_attributes"]) await cmd(`ALTER TABLE spans MODIFY COLUMN ${c} String CODEC(LZ4)`);
const decoded = decodeTraceRequestProtobuf(templateRequest(512, BigInt(Date.now() - 60_000) * 1_000_000n));
const spans = [];
while (spans.length < batchRows) spans.push(...decoded.spans);
spans.length = batchRows;
const facts = spans.map((s) => extractFacts(s));
const { body } = encodeSpanRows(spans, facts, undefined, { batchId: uuidv7(), agentId: "support-bot", receivedAtMs: Date.now(), requestDigest: "raw" });
const { SPAN_INSERT_COLUMNS } = await import("../packages/store/src/spans/rows");
const { Readable } = await import("node:stream");
let table = "spans";
if (variant.includes("null")) { await cmd("CREATE TABLE spans_null AS spans ENGINE = Null"); table = "spans_null"; }
const fmt = variant.includes("tsv") ? "TabSeparated" : "JSONCompactEachRow";
let payload = body;
if (variant.includes("tsv")) {
  const rs = await client.query({ query: `SELECT * FROM format(JSONCompactEachRow, {b:String}) SETTINGS input_format_json_read_objects_as_strings = 1, input_format_json_read_arrays_as_strings = 1`, query_params: { b: body.split("\n").slice(0, 2000).join("\n") }, format: "TabSeparated" });
  const part = await rs.text(); payload = part.repeat(batchRows / 2000);
}
const insertSpanBatch = async (_c: unknown, b: string) => { const r = await client.exec({ query: `INSERT INTO ${table} (${SPAN_INSERT_COLUMNS.join(", ")}) SETTINGS input_format_json_read_objects_as_strings = 1, input_format_json_read_arrays_as_strings = 1 FORMAT ${fmt}`, values: Readable.from([b]) }); r.stream.destroy(); };
const body2 = payload;
if (variant.includes("rawbuf")) {
  const { Session } = await import("chdb");
  await client.close();
  const sess = new Session(join(dataDir, "clickhouse"));
  const buf = Buffer.from(body2, "utf8");
  const settings = { input_format_json_read_objects_as_strings: 1, input_format_json_read_arrays_as_strings: 1 };
  const ins = () => sess.insert({ table, columns: [...SPAN_INSERT_COLUMNS], values: variant.includes("str") ? body2 : buf, format: fmt === "TabSeparated" ? "TSV" : "JSONCompactEachRow", settings });
  await ins();
  let n = 0; const c0 = process.cpuUsage(); const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) { await ins(); n++; }
  const el = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(c0);
  console.log(variant, batchRows, "rows/s", Math.round((n * batchRows) / el), "cpu%", Math.round(((cpu.user + cpu.system) / 1e6 / el) * 100));
  process.exit(0);
}
await insertSpanBatch(client, body2);
let batches = 0;
const cpu0 = process.cpuUsage();
const started = performance.now();
while (performance.now() - started < seconds * 1000) { await insertSpanBatch(client, body2); batches++; }
const el = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(variant, batchRows, "rows/s", Math.round((batches * batchRows) / el), "cpu%", Math.round(((cpu.user + cpu.system) / 1e6 / el) * 100), "bytes/row", Math.round(body.length / batchRows));
await client.close();
rmSync(dataDir, { recursive: true, force: true });
