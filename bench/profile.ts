/**
 * Where the main thread's time goes, from V8's sampling CPU profiler (node:inspector)
 * run in this process for a few seconds: each sample's self time is put in the stage
 * its function belongs to, by the source file it comes from. Shares of the samples,
 * times the measured main-thread CPU per span, give the split by stage.
 */
import { Session } from "node:inspector/promises";

interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
}

/** Stages in the order they are tried: the first whose test matches a frame takes its samples. */
const STAGES: ReadonlyArray<readonly [stage: string, test: (url: string, fn: string) => boolean]> = [
  ["garbage collection", (_u, fn) => fn === "(garbage collector)"],
  ["idle", (_u, fn) => fn === "(idle)" || fn === "(program)"],
  ["decode (OTLP)", (u) => u.includes("/packages/otlp/") || u.includes("/protobufjs/")],
  ["redact", (u) => u.includes("/packages/secrets/")],
  ["facts", (u) => u.includes("/packages/facts/") || u.includes("node-sql-parser")],
  ["encode + ledger hash", (u) => u.includes("/store/src/spans/rows") || u.includes("/store/src/ledger/merkle")],
  ["detection", (u) => u.includes("/packages/detect/") || u.includes("/services/worker/")],
  ["store reads and writes (client, chDB binding)", (u) => u.includes("/@clickhouse/") || u.includes("/chdb/")],
  ["ingest (auth, batching, ledger, dedup)", (u) => u.includes("/services/ingest/") || u.includes("/store/src/")],
  [
    "HTTP (node:http, Hono)",
    (u) => u.startsWith("node:http") || u.startsWith("node:_http") || u.includes("/hono/") || u.includes("/@hono/"),
  ],
  ["Node internals (streams, timers, buffers, crypto)", (u) => u.startsWith("node:")],
];

/** A V8 CPU profile of this process's main thread over `ms`. */
async function recordProfile(ms: number): Promise<Profile> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  await new Promise((r) => setTimeout(r, ms));
  const { profile } = (await session.post("Profiler.stop")) as { profile: Profile };
  session.disconnect();
  return profile;
}

/**
 * Each node's stage: the first stage matching it or, failing that, the nearest ancestor
 * that matches (a native builtin called from the decoder is decode).
 */
function stages(profile: Profile): { byId: Map<number, ProfileNode>; stageOf: (n: ProfileNode | undefined) => string } {
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stageOf = (n: ProfileNode | undefined): string => {
    for (let cur = n; cur !== undefined; cur = parent.get(cur.id)) {
      const hit = STAGES.find(([, test]) => test(cur.callFrame.url, cur.callFrame.functionName));
      if (hit !== undefined) return hit[0];
    }
    return "other JavaScript";
  };
  return { byId, stageOf };
}

/**
 * The main thread's long tasks over `ms`: runs of consecutive busy samples (not idle)
 * longer than `longerThanMs`, each with the stage that took most of it. What a request
 * arriving meanwhile (the gate's) waits behind.
 */
export async function profileLongTasks(
  ms: number,
  longerThanMs: number,
): Promise<{ tasks: number; totalMs: number; byStage: Record<string, { tasks: number; ms: number; maxMs: number }> }> {
  const profile = await recordProfile(ms);
  const { byId, stageOf } = stages(profile);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const byStage: Record<string, { tasks: number; ms: number; maxMs: number }> = {};
  let run: Record<string, number> = {};
  let runUs = 0;
  let tasks = 0;
  let totalMs = 0;
  const close = () => {
    if (runUs / 1000 > longerThanMs) {
      const [stage] = Object.entries(run).sort((a, b) => b[1] - a[1])[0] ?? ["?"];
      const s = (byStage[stage] ??= { tasks: 0, ms: 0, maxMs: 0 });
      s.tasks++;
      s.ms += runUs / 1000;
      s.maxMs = Math.max(s.maxMs, runUs / 1000);
      tasks++;
      totalMs += runUs / 1000;
    }
    run = {};
    runUs = 0;
  };
  samples.forEach((id, i) => {
    const stage = stageOf(byId.get(id));
    if (stage === "idle") return close();
    const us = deltas[i + 1] ?? 0;
    run[stage] = (run[stage] ?? 0) + us;
    runUs += us;
  });
  close();
  return { tasks, totalMs, byStage };
}

/** Profiles the main thread for `ms`; returns each stage's share of the busy samples (0..1). */
export async function profileStages(ms: number): Promise<{ shares: Record<string, number>; idleShare: number }> {
  const profile = await recordProfile(ms);
  const { byId, stageOf } = stages(profile);
  const samples: Record<string, number> = {};
  for (const n of byId.values()) {
    if ((n.hitCount ?? 0) === 0) continue;
    const stage = stageOf(n);
    samples[stage] = (samples[stage] ?? 0) + (n.hitCount ?? 0);
  }
  const idle = samples.idle ?? 0;
  delete samples.idle;
  const busy = Object.values(samples).reduce((a, b) => a + b, 0);
  const all = busy + idle;
  return {
    shares: Object.fromEntries(
      Object.entries(samples)
        .map(([k, n]) => [k, n / Math.max(1, busy)] as const)
        .sort((a, b) => b[1] - a[1]),
    ),
    idleShare: idle / Math.max(1, all),
  };
}
