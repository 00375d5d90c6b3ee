/**
 * `npm run bench:gate-stalls`: why the confirmation gate's answer waits at half load.
 * The all-in-one runs at half its measured maximum while the gate is asked one request
 * at a time; meanwhile the main thread's long tasks (over 5 ms) are taken from a V8
 * profile and named by the stage that took most of each. VIGIL_INGEST_THREADS as told.
 */
import { startBenchVigil } from "./bench-vigil";
import { measureGate, percentile, runLoad } from "./load";
import { profileLongTasks } from "./profile";

const { vigil, token, url } = await startBenchVigil("vigil-bench-stalls-");
await runLoad(url, token, 3);
const full = await runLoad(url, token, 8);
await vigil.ingest.drain();
const load = runLoad(url, token, 12, full.spansPerSecond / 2);
await new Promise((r) => setTimeout(r, 1500));
const [gate, stalls] = await Promise.all([
  measureGate(url.replace("/v1/traces", "/v1/decisions"), token, 8000),
  profileLongTasks(8000, 5),
]);
await load;
await vigil.stop();
process.stdout.write(
  `threads ${process.env.VIGIL_INGEST_THREADS ?? "default"}, half load ${Math.round(full.spansPerSecond / 2)} spans/s: ` +
    `gate p50 ${percentile(gate, 50).toFixed(1)} ms, p99 ${percentile(gate, 99).toFixed(1)} ms (${gate.length}); ` +
    `main-thread tasks over 5 ms: ${stalls.tasks}, ${stalls.totalMs.toFixed(0)} ms in 8 s\n` +
    Object.entries(stalls.byStage)
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([k, v]) => `  ${k}: ${v.tasks} tasks, ${v.ms.toFixed(0)} ms, longest ${v.maxMs.toFixed(1)} ms`)
      .join("\n") +
    "\n",
);
process.exit(0);
