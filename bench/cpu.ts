/**
 * CPU time of this process, whole and per thread, for the bench's CPU-per-span figures.
 *
 * CPU time is steadier than throughput on a shared machine: a slower day stretches the
 * seconds, not the instructions a span costs. `process.cpuUsage()` covers every thread
 * (the embedded engine's included, since chDB runs inside this process); the per-thread
 * split reads Linux's /proc/self/task/<tid>/stat (clock ticks, usually 10 ms), where
 * Node's own threads are all named "node" and the engine's carry their pool names
 * (MergeMutate, ThreadPool, QueryPipelineEx, ...).
 */
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86_64

export interface CpuSample {
  /** user + system µs of the whole process */
  totalUs: number;
  /** thread id → [name, user + system µs] */
  threads: Map<string, [string, number]>;
}

/** Thread name and CPU of every live thread of a process (empty where /proc is missing). */
function threadTimes(pid: string): Map<string, [string, number]> {
  const out = new Map<string, [string, number]>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      // Fields after the name: state is field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(close + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      out.set(tid, [name, (ticks * 1e6) / CLOCK_TICKS_PER_SECOND]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out;
}

/** This process's CPU now. */
export function sampleCpu(): CpuSample {
  const u = process.cpuUsage();
  return { totalUs: u.user + u.system, threads: threadTimes("self") };
}

/** Another process's CPU now, all threads (user + system), from /proc. */
export function sampleProcessCpu(pid: number): CpuSample {
  const threads = threadTimes(String(pid));
  let totalUs = 0;
  for (const [, us] of threads.values()) totalUs += us;
  return { totalUs, threads };
}

/**
 * CPU spent between two samples, by thread group: Node's main thread (all JavaScript:
 * HTTP, decode, redaction, facts, encoding, detection), Node's other threads (garbage
 * collection helpers, libuv's pool), and each engine pool by name. Threads that ended
 * between the samples are lost to the split but not to the total.
 */
export function cpuBetween(
  before: CpuSample,
  after: CpuSample,
  mainTid: string,
): { totalUs: number; byGroup: Record<string, number> } {
  const byGroup: Record<string, number> = {};
  for (const [tid, [name, us]] of after.threads) {
    const spent = us - (before.threads.get(tid)?.[1] ?? 0);
    if (spent <= 0) continue;
    const group = tid === mainTid ? "node main thread" : name === "node" ? "node other threads" : `engine ${name}`;
    byGroup[group] = (byGroup[group] ?? 0) + spent;
  }
  return { totalUs: after.totalUs - before.totalUs, byGroup };
}
