/**
 * Ingest latency while a reader hammers the SQL endpoint: `npm run bench:sql-contention [server]`.
 * Prints ingest p50/p99 with the SQL endpoint idle and then with one reader sending
 * CPU-bound queries back to back, in the same run (the embedded engine runs one
 * statement at a time; a server runs them side by side).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, readEnvironment, sha256Hex } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";
import { TestClickHouse } from "../test/support/clickhouse-server";
import { jsonTraceRequest } from "../test/support/otlp-json";

const placement = process.argv[2] === "server" ? "server" : "embedded";
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-sql-"));
const token = generateToken();
const reader = generateToken("vak_");
const clickhouse = placement === "server" ? new TestClickHouse() : undefined;
await clickhouse?.start();
const env = readEnvironment({
  VIGIL_DATA_DIR: dataDir,
  VIGIL_INGEST_PORT: "0",
  VIGIL_API_PORT: "0",
  ...clickhouse?.environment(),
  ...(process.env.VIGIL_EMBEDDED_SQL_SLICE_SECONDS === undefined
    ? {}
    : { VIGIL_EMBEDDED_SQL_SLICE_SECONDS: process.env.VIGIL_EMBEDDED_SQL_SLICE_SECONDS }),
});
const config = parseVigilConfig(
  `agents:\n  - id: bench-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
    `api_keys:\n  - {name: reader, role: reader, sha256: "${sha256Hex(reader)}"}\n`,
);
const vigil = await startAllInOne(env, config, createLogger("error"));
const ingestUrl = `http://127.0.0.1:${vigil.ingestPort}/v1/traces`;

let n = 0;
async function ingestFor(ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const body = jsonTraceRequest([
      { traceId: (++n).toString(16).padStart(32, "0"), attrs: { "gen_ai.tool.name": "t" } },
    ]);
    const started = performance.now();
    const res = await fetch(ingestUrl, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 20)); // an agent exporting every 20 ms
  }
  return latencies;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const line = (what: string, xs: number[]) =>
  `${what.padEnd(28)} ${String(xs.length).padStart(5)} requests  p50 ${pct(xs, 0.5).toFixed(1).padStart(7)} ms  p99 ${pct(xs, 0.99).toFixed(1).padStart(7)} ms  max ${Math.max(
    ...xs,
  )
    .toFixed(1)
    .padStart(7)} ms`;

await ingestFor(1000); // warm up
const idle = await ingestFor(seconds * 1000);
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
let hammering = true;
const sqlAnswers: Record<number, number> = {};
const hammer = (async () => {
  while (hammering) {
    const res = await fetch(`http://127.0.0.1:${vigil.apiPort}/api/sql`, {
      method: "POST",
      headers: { authorization: `Bearer ${reader}`, "content-type": "application/json" },
      body: JSON.stringify({ sql: "SELECT count() AS n FROM numbers(100000000000) WHERE number % 7 = 3" }),
    });
    await res.arrayBuffer();
    sqlAnswers[res.status] = (sqlAnswers[res.status] ?? 0) + 1;
  }
})();
const loaded = await ingestFor(seconds * 1000);
hammering = false;
await hammer;
loop.disable();
console.log(`ingest latency, ${placement} placement, one agent sending every 20 ms:`);
console.log(line("SQL endpoint idle", idle));
console.log(line("SQL endpoint hammered", loaded));
console.log(
  `event loop delay while hammered: p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`,
);
console.log(
  `p99 ratio hammered / idle: ${(pct(loaded, 0.99) / pct(idle, 0.99)).toFixed(2)}; SQL answers by status: ${JSON.stringify(sqlAnswers)}`,
);
await vigil.stop();
await clickhouse?.stop();
rmSync(dataDir, { recursive: true, force: true });
