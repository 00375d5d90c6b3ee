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

/**
 * The confirmation gate's immediate answer (a harmless SELECT: allow), one request at a
 * time from its own process (bench/gate-client.ts); sorted latencies in ms.
 */
export function measureGate(url: string, token: string, durationMs: number): Promise<number[]> {
  return runChild<number[]>(["bench/gate-client.ts", url, token, String(durationMs)]);
}

/** The p-th percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}
