/**
 * `npm run bench:gate-server`: the confirmation gate's allow answer in the server
 * placement, where the gate is ingest's alone: the separate ingest process
 * (services/ingest/src/main.ts, as its own store user) on the test ClickHouse server,
 * at half its measured maximum, with VIGIL_INGEST_THREADS 0 and 1 (BENCH_THREADS).
 * Detection is the worker's process there, not started: what the gate waits behind is
 * ingest's own work. Prints one line per thread count.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateToken, sha256Hex } from "@vigil/config";
import { TestClickHouse } from "../test/support/clickhouse-server";
import { measureGate, percentile, runLoad } from "./load";

const clickhouse = new TestClickHouse();
await clickhouse.start();
const dir = mkdtempSync(join(tmpdir(), "vigil-bench-gate-server-"));
const token = generateToken();
writeFileSync(
  join(dir, "vigil.yaml"),
  `agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n`,
);
const env = {
  PATH: process.env.PATH ?? "",
  ...clickhouse.environment(),
  VIGIL_CONFIG: join(dir, "vigil.yaml"),
  VIGIL_DATA_DIR: dir,
  VIGIL_HOST: "127.0.0.1",
  VIGIL_LOG_LEVEL: "warn",
};
execFileSync(process.execPath, ["--import", "tsx", "services/vigil/src/migrate.ts"], { env, stdio: "ignore" });
const lines: string[] = [];
let port = 14400;
for (const threads of (process.env.BENCH_THREADS ?? "0,1").split(",")) {
  port++;
  const ingest = spawn(process.execPath, ["--import", "tsx", "services/ingest/src/main.ts"], {
    env: { ...env, VIGIL_INGEST_PORT: String(port), VIGIL_INGEST_THREADS: threads, VIGIL_CHAIN_ID: `bench-${threads}` },
    stdio: "inherit",
  });
  const url = `http://127.0.0.1:${port}/v1/traces`;
  for (let i = 0; i < 600; i++) {
    const up = await fetch(url, { method: "POST" }).then(
      () => true,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await runLoad(url, token, 3);
  const full = await runLoad(url, token, 8);
  const load = runLoad(url, token, 10, full.spansPerSecond / 2);
  await new Promise((r) => setTimeout(r, 1000));
  const gate = await measureGate(url.replace("/v1/traces", "/v1/decisions"), token, 8000);
  const half = await load;
  await new Promise((r) => ingest.once("exit", r).kill("SIGTERM"));
  lines.push(
    `threads ${threads}: ${Math.round(full.spansPerSecond)} spans/s at full load; at half load ack p50 / p99 ` +
      `${half.p50Ms.toFixed(0)} / ${half.p99Ms.toFixed(0)} ms, gate allow p50 / p99 ` +
      `${percentile(gate, 50).toFixed(1)} / ${percentile(gate, 99).toFixed(1)} ms (${gate.length} requests)`,
  );
}
await clickhouse.stop();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`\nserver placement, ingest alone on 2 cores beside the ClickHouse server\n${lines.join("\n")}\n`);
