/**
 * `npm run bench:threads`: ingest's pipeline threads (VIGIL_INGEST_THREADS) on this
 * machine, each count in its own process (the embedded engine binds one data directory
 * per process): spans/s at full load, CPU per stored span (all threads), the main
 * thread's share, acknowledgement p50/p99 at half load, and the confirmation gate's
 * allow answer at half load. BENCH_THREADS=0,1,2 (default), BENCH_SECONDS=10.
 */
import { availableParallelism } from "node:os";
import { runChild } from "./load";

interface Point {
  threads: number;
  spansPerSecond: number;
  cpuUsPerSpan: number;
  mainThreadUsPerSpan: number;
  halfAckP50Ms: number;
  halfAckP99Ms: number;
  gateP50Ms: number;
  gateP99Ms: number;
  gateRequests: number;
  cpuUsPerSpanByThread: Record<string, number>;
}

const counts = (process.env.BENCH_THREADS ?? "0,1,2").split(",").map(Number);
const points: Point[] = [];
for (const n of counts) {
  process.stderr.write(`bench:threads: ${n} pipeline thread(s)\n`);
  points.push(await runChild<Point>(["bench/threads-one.ts"], { VIGIL_INGEST_THREADS: String(n) }));
}
const f = (x: number, d = 0) => x.toFixed(d);
process.stdout.write(
  `\npipeline threads on ${availableParallelism()} cores (${process.env.BENCH_SECONDS ?? 10} s per load)\n` +
    "| threads | spans/s | CPU µs/span | main thread µs/span | ack p50 / p99 at half load | gate allow p50 / p99 at half load |\n" +
    "| --- | --- | --- | --- | --- | --- |\n" +
    points
      .map(
        (p) =>
          `| ${p.threads} | ${f(p.spansPerSecond)} | ${f(p.cpuUsPerSpan, 1)} | ${f(p.mainThreadUsPerSpan, 1)} | ` +
          `${f(p.halfAckP50Ms, 1)} / ${f(p.halfAckP99Ms, 1)} ms | ${f(p.gateP50Ms, 1)} / ${f(p.gateP99Ms, 1)} ms (${p.gateRequests}) |`,
      )
      .join("\n") +
    "\n\nCPU µs per span by thread group (pipeline threads are among Node's other threads):\n" +
    points
      .map(
        (p) =>
          `  ${p.threads} thread(s): ` +
          Object.entries(p.cpuUsPerSpanByThread)
            .map(([k, us]) => `${k} ${f(us, 1)}`)
            .join(", "),
      )
      .join("\n") +
    "\n",
);
