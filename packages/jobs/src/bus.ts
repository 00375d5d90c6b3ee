import type { Logger } from "@vigil/common";
import { startConsumer } from "./consumer";
import { BaselinesQueue, DetectQueue } from "./producers";
import { BaselinesJobSchema, DetectJobSchema, QUEUES } from "./queues";
import type { BaselinesResult, DetectJob } from "./queues";

/** What the worker role does when asked: run detection, rebuild baselines (with what it returns). */
export interface JobHandlers {
  detect(): Promise<unknown>;
  rebuildBaselines(): Promise<BaselinesResult>;
}

/**
 * How Vigil's processes ask each other for work: ingest wakes detection after each
 * committed batch, the API asks for a baseline rebuild, and a schedule rebuilds baselines
 * every interval. Two adapters, chosen in one place (`jobBus`): in this process (no
 * Redis: the producers and the worker role must share the process), or BullMQ on Redis
 * (any number of processes, each with any roles).
 */
export interface JobBus {
  /** True when jobs run in this process: a committed batch's rows may be handed over directly. */
  readonly inProcess: boolean;
  /** Wakes detection: fire and forget, never blocks or throws (detection also catches up on a timer). */
  wakeDetection(job: DetectJob): void;
  /** A rebuild now: run here and its result returned, or queued for a worker. Rejects when Redis does not answer. */
  requestBaselines(): Promise<{ status: "done"; result: BaselinesResult } | { status: "queued"; jobId: string }>;
  /**
   * Registers this process's worker role: its handlers, and the rebuild schedule (a timer
   * here; a BullMQ job scheduler kept in Redis, one for every process).
   */
  serve(handlers: JobHandlers, options: { baselinesEveryMs: number }): Promise<void>;
  /** Stops consuming and producing (after the handlers' own work has stopped). */
  close(): Promise<void>;
}

/** The bus for a process: BullMQ when Redis is configured, else in-process. */
export function jobBus(redisUrl: string | undefined, logger: Logger): JobBus {
  return redisUrl === undefined ? inProcessBus(logger) : bullMqBus(redisUrl, logger);
}

function inProcessBus(logger: Logger): JobBus {
  let handlers: JobHandlers | undefined;
  let timer: NodeJS.Timeout | undefined;
  const rebuild = (): void =>
    void handlers?.rebuildBaselines().catch((err: unknown) => logger.error("baseline rebuild failed", { error: err }));
  return {
    inProcess: true,
    wakeDetection() {
      void handlers?.detect().catch((err: unknown) => logger.error("detection failed", { error: err }));
    },
    async requestBaselines() {
      if (handlers === undefined) throw new Error("no worker role in this process and no Redis to reach one");
      return { status: "done", result: await handlers.rebuildBaselines() };
    },
    async serve(h, { baselinesEveryMs }) {
      handlers = h;
      timer = setInterval(rebuild, baselinesEveryMs);
      timer.unref();
      rebuild(); // the first baselines now, not an interval from now
    },
    async close() {
      clearInterval(timer);
      handlers = undefined;
    },
  };
}

/** How long a rebuild request waits for Redis before the API answers 503. */
const REDIS_ANSWER_MS = 3_000;

function bullMqBus(redisUrl: string, logger: Logger): JobBus {
  // Producers connect when first used, so a process that only consumes opens no producer.
  let detect: DetectQueue | undefined;
  let baselines: BaselinesQueue | undefined;
  const consumers: Array<{ close(): Promise<void> }> = [];
  return {
    inProcess: false,
    wakeDetection(job) {
      (detect ??= new DetectQueue(redisUrl, logger)).notify(job);
    },
    async requestBaselines() {
      // BullMQ waits for the connection to come back; the API's caller should hear now.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not answer within ${REDIS_ANSWER_MS} ms`)),
          REDIS_ANSWER_MS,
        );
      });
      const queued = (baselines ??= new BaselinesQueue(redisUrl)).request();
      queued.catch(() => undefined); // settled after the deadline: nobody waits for it any more
      try {
        return { status: "queued", jobId: await Promise.race([queued, deadline]) };
      } finally {
        clearTimeout(timer);
      }
    },
    async serve(h, { baselinesEveryMs }) {
      consumers.push(
        startConsumer(redisUrl, QUEUES.detect, DetectJobSchema, () => h.detect(), logger),
        startConsumer(redisUrl, QUEUES.baselines, BaselinesJobSchema, () => h.rebuildBaselines(), logger),
      );
      await (baselines ??= new BaselinesQueue(redisUrl))
        .keepScheduled(baselinesEveryMs)
        .catch((err: unknown) => logger.warn("baseline schedule not set; Redis did not answer", { error: err }));
    },
    async close() {
      for (const c of consumers.splice(0)) await c.close();
      await detect?.close();
      await baselines?.close();
    },
  };
}
