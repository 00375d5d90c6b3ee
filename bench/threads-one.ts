/**
 * One point of `npm run bench:threads`: the all-in-one with VIGIL_INGEST_THREADS
 * pipeline threads (set by the parent), at full load and at half load with the gate
 * asked meanwhile. Prints one JSON line.
 */
import { cpuBetween, sampleCpu } from "./cpu";
import { startBenchVigil } from "./bench-vigil";
import { measureGate, percentile, runLoad } from "./load";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const { vigil, token, url } = await startBenchVigil("vigil-bench-threads-");
await runLoad(url, token, 3);
await vigil.ingest.drain();
const before = sampleCpu();
const full = await runLoad(url, token, seconds);
await vigil.ingest.drain();
const cpu = cpuBetween(before, sampleCpu(), String(process.pid));
const halfLoad = runLoad(url, token, seconds, full.spansPerSecond / 2);
await new Promise((r) => setTimeout(r, 1000));
const gate = await measureGate(url.replace("/v1/traces", "/v1/decisions"), token, (seconds - 2) * 1000);
const half = await halfLoad;
await vigil.stop();
process.stdout.write(
  JSON.stringify({
    threads: Number(process.env.VIGIL_INGEST_THREADS),
    spansPerSecond: full.spansPerSecond,
    cpuUsPerSpan: cpu.totalUs / Math.max(1, full.spansAcked),
    mainThreadUsPerSpan: (cpu.byGroup["node main thread"] ?? 0) / Math.max(1, full.spansAcked),
    halfAckP50Ms: half.p50Ms,
    halfAckP99Ms: half.p99Ms,
    gateP50Ms: percentile(gate, 50),
    gateP99Ms: percentile(gate, 99),
    gateRequests: gate.length,
    cpuUsPerSpanByThread: Object.fromEntries(
      Object.entries(cpu.byGroup)
        .map(([k, us]) => [k, us / Math.max(1, full.spansAcked)] as const)
        .sort((a, b) => b[1] - a[1]),
    ),
  }) + "\n",
);
process.exit(0);
