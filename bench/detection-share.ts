/**
 * `npm run bench:detection`: what detection adds to the CPU a stored span costs, in one
 * process and one run. The all-in-one (embedded) takes the bench workload (OTLP protobuf,
 * 512 spans of 20 attributes a request, 16 in flight, from a separate process) twice:
 * once as it runs, detection beside ingest, and once with detection held back (its
 * trigger replaced for the measurement), after which detection catches up on the same
 * batches alone and is measured by itself. Prints one JSON line: µs of CPU per stored
 * span (user + system, all threads) and the split by thread group, for each phase.
 *
 * With detection held, ingest keeps handing it the committed rows, which wait in memory
 * until it catches up (as they would behind a lagging detection): that phase's figure
 * includes the garbage collector's work on them.
 *
 * BENCH_SECONDS sets each load phase's length (default 10); BENCH_PROFILE=1 also writes
 * V8 profiles of the main thread (/tmp/vigil-load.cpuprofile, /tmp/vigil-catch-up.cpuprofile).
 */
import { spawn } from "node:child_process";
import { startBenchVigil } from "./bench-vigil";
import { rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { countSpans } from "@vigil/store";
import { cpuBetween, sampleCpu } from "./cpu";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PROFILE = process.env.BENCH_PROFILE === "1";

async function phase(holdDetection: boolean): Promise<Record<string, unknown>> {
  const { vigil, token, url, dataDir } = await startBenchVigil("vigil-bench-detection-");
  const detection = vigil.detection as unknown as { trigger: () => Promise<void> };
  const trigger = detection.trigger.bind(vigil.detection);
  if (holdDetection) detection.trigger = () => Promise.resolve();
  const load = (seconds: number) =>
    new Promise<{ spansAcked: number; spansPerSecond: number }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "bench/load-generator.ts", url, token, String(seconds), "16", "512"],
        { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, LOAD_ENCODING: "protobuf", LOAD_GZIP: "0" } },
      );
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`))));
    });
  const profiled = async <T>(file: string, work: () => Promise<T>): Promise<T> => {
    if (!PROFILE) return work();
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 500 });
    await session.post("Profiler.start");
    const result = await work();
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    return result;
  };
  const perSpan = (spans: number, c: ReturnType<typeof cpuBetween>) => ({
    cpuUsPerSpan: c.totalUs / spans,
    byThread: Object.fromEntries(Object.entries(c.byGroup).map(([k, us]) => [k, us / spans])),
  });
  await load(3); // warm-up
  const before = sampleCpu();
  const result = await profiled("/tmp/vigil-load.cpuprofile", () => load(SECONDS));
  await vigil.ingest.drain();
  if (!holdDetection) await trigger();
  const loaded = cpuBetween(before, sampleCpu(), String(process.pid));
  const out: Record<string, unknown> = {
    spansPerSecond: Math.round(result.spansPerSecond),
    ...perSpan(result.spansAcked, loaded),
  };
  if (holdDetection) {
    const caughtUpFrom = sampleCpu();
    await profiled("/tmp/vigil-catch-up.cpuprofile", trigger);
    // It examines the warm-up's spans too: per span of everything stored.
    const examined = await countSpans(vigil.client);
    out.detectionAlone = perSpan(examined, cpuBetween(caughtUpFrom, sampleCpu(), String(process.pid)));
  }
  await vigil.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return out;
}

/** chDB binds one data directory per process: each phase runs in its own. */
function child(mode: "live" | "held"): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ["--import", "tsx", "bench/detection-share.ts", mode], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${mode} phase exited ${code}`))));
  });
}

const mode = process.argv[2];
if (mode === "live" || mode === "held") process.stdout.write(`${JSON.stringify(await phase(mode === "held"))}\n`);
else
  process.stdout.write(
    `${JSON.stringify({ withDetection: await child("live"), detectionHeld: await child("held") })}\n`,
  );
