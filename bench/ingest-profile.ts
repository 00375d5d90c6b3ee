/**
 * `npm run bench:profile [seconds] [spans/s]`: the all-in-one under the benchmark load
 * (full speed, or paced), for looking into where ingest's time goes rather than for the
 * table: prints one JSON line with throughput, acknowledge latency, the Vigil process's
 * CPU, rows per INSERT and how busy the INSERT slot was.
 *
 * Run it under Node's own tools to see inside:
 *   node --cpu-prof --import tsx bench/ingest-profile.ts 15     (main-thread profile)
 *   node --trace-gc --import tsx bench/ingest-profile.ts 15     (garbage collections)
 * BENCH_DETECTION=off leaves detection out, to see what it costs.
 */
import { spawn } from "node:child_process";
import { startBenchVigil } from "./bench-vigil";
import { rmSync } from "node:fs";

const seconds = Number(process.argv[2] ?? 15);
const rate = process.argv[3];
const { vigil, token, url, dataDir } = await startBenchVigil("vigil-profile-");
if (process.env.BENCH_DETECTION === "off") {
  await vigil.detection.stop();
  vigil.detection.trigger = () => Promise.resolve();
}

/** The load generator in its own process; resolves with its JSON report. */
const load = (s: number): Promise<{ spansPerSecond: number; p50Ms: number; p99Ms: number; statuses: object }> =>
  new Promise((resolve, reject) => {
    const args = ["--import", "tsx", "bench/load-generator.ts", url, token, String(s), "16", "512"];
    if (rate !== undefined) args.push(rate);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`))));
  });

await load(3); // warm-up
const cpuBefore = process.cpuUsage();
const started = performance.now();
const before = {
  inserts: vigil.ingest.stats.inserts,
  insertMs: vigil.ingest.stats.insertMs,
  rows: vigil.ingest.batcher.rowsWritten,
  batches: vigil.ingest.batcher.batchesWritten,
};
const result = await load(seconds);
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const insertMs = vigil.ingest.stats.insertMs - before.insertMs;
process.stdout.write(
  `${JSON.stringify({
    spansPerSecond: Math.round(result.spansPerSecond),
    ackP50Ms: Math.round(result.p50Ms),
    ackP99Ms: Math.round(result.p99Ms),
    statuses: result.statuses,
    vigilCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
    rowsPerInsert: Math.round(
      (vigil.ingest.batcher.rowsWritten - before.rows) /
        Math.max(1, vigil.ingest.batcher.batchesWritten - before.batches),
    ),
    meanInsertMs: Math.round(insertMs / Math.max(1, vigil.ingest.stats.inserts - before.inserts)),
    insertBusyPercent: Math.round((insertMs / elapsedMs) * 100),
  })}\n`,
);
await vigil.stop();
rmSync(dataDir, { recursive: true, force: true });
