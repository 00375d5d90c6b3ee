/**
 * Load for the benchmarks: the load generator in its own process (so its CPU is not the
 * measured process's), and the confirmation gate's answer timed one request at a time.
 */
import { spawn } from "node:child_process";

export interface LoadResult {
  seconds: number;
  requests: number;
  spansAcked: number;
  spansPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  bodyBytes: number;
}

export const SPANS_PER_REQUEST = 512;
export const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

/** Runs a bench script in its own Node process and parses the JSON line it prints. */
export function runChild<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`${args[0]} exited ${code}`)),
    );
  });
}

/** Protobuf (or JSON, gzip) requests of 512 spans, 16 in flight, for `seconds`; paced at `rate` spans/s when given. */
export function runLoad(
  url: string,
  token: string,
  seconds: number,
  rate?: number,
  encoding: { json?: boolean; gzip?: boolean } = {},
): Promise<LoadResult> {
  const args = ["bench/load-generator.ts", url, token, String(seconds), String(CONCURRENCY), String(SPANS_PER_REQUEST)];
  if (rate !== undefined) args.push(String(Math.round(rate)));
  return runChild<LoadResult>(args, {
    LOAD_ENCODING: encoding.json === true ? "json" : "protobuf",
    LOAD_GZIP: encoding.gzip === true ? "1" : "0",
  });
}

/** The confirmation gate's immediate answer (a harmless SELECT: allow), one request at a time; sorted latencies. */
export async function measureGate(url: string, token: string, durationMs: number): Promise<number[]> {
  const latencies: number[] = [];
  const started = Date.now();
  for (let i = 0; Date.now() - started < durationMs; i++) {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        description: "look up the order the customer asked about",
        session_id: `bench-gate-${i}`,
        action: { db: { system: "postgresql", statement: `SELECT * FROM orders WHERE id = ${i}` } },
      }),
    });
    const answer = (await res.json()) as { decision?: string };
    if (res.status !== 200 || answer.decision !== "allow") throw new Error(`the gate answered ${res.status}`);
    latencies.push(performance.now() - t0);
  }
  return latencies.sort((a, b) => a - b);
}

/** The p-th percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}
