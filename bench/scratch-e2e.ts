import { mkdtempSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, readEnvironment, sha256Hex } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";

const seconds = Number(process.argv[2] ?? 15);
const conc = process.argv[3] ?? "16";
const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
const token = generateToken();
const config = parseVigilConfig(`agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n`);
const env = readEnvironment({ VIGIL_DATA_DIR: dataDir, VIGIL_INGEST_PORT: "0", VIGIL_API_PORT: "0", VIGIL_HOST: "127.0.0.1", ...(process.env.NODET ? { VIGIL_DETECTION: "off" } : {}) });
const vigil = await startAllInOne(env, config, createLogger("warn"));
if (process.env.NODET) { await vigil.detection.stop(); (vigil.detection as unknown as { trigger: () => Promise<void> }).trigger = () => Promise.resolve(); }
const url = `http://127.0.0.1:${vigil.ingestPort}/v1/traces`;
const run = (s: number) => new Promise<string>((res) => { const c = spawn(process.execPath, ["--import", "tsx", "bench/load-generator.ts", url, token, String(s), conc, "512"], { stdio: ["ignore", "pipe", "inherit"] }); let o = ""; c.stdout.on("data", (d) => (o += d)); c.on("exit", () => res(o)); });
await run(3);
const cpu0 = process.cpuUsage(); const t0 = performance.now();
const i0 = { n: vigil.ingest.stats.inserts, ms: vigil.ingest.stats.insertMs, rows: vigil.ingest.batcher.rowsWritten, b: vigil.ingest.batcher.batchesWritten };
const out = JSON.parse(await run(seconds));
const el = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
const b = vigil.ingest.batcher.batchesWritten - i0.b;
console.log(JSON.stringify({ spansPerSecond: Math.round(out.spansPerSecond), p50: out.p50Ms, p99: out.p99Ms, statuses: out.statuses, vigilCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / el) * 100), rowsPerInsert: Math.round((vigil.ingest.batcher.rowsWritten - i0.rows) / b), meanInsertMs: Math.round((vigil.ingest.stats.insertMs - i0.ms) / (vigil.ingest.stats.inserts - i0.n)), insertBusyPct: Math.round((vigil.ingest.stats.insertMs - i0.ms) / 10 / el) }));
await vigil.stop();
rmSync(dataDir, { recursive: true, force: true });
