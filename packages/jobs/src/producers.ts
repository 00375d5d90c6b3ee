import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "@vigil/common";
import { BaselinesJobSchema, DetectJobSchema, QUEUES } from "./queues";
import type { DetectJob } from "./queues";

/**
 * The producer side, used by ingest after each committed batch. It never makes ingest
 * wait for Redis: with Redis down, `add` fails at once (no offline queue) and the job
 * is dropped; the worker's catch-up timer examines the batch anyway.
 */
export class DetectQueue {
  private readonly connection: Redis;
  private readonly queue: Queue;

  constructor(
    redisUrl: string,
    private readonly logger: Logger,
  ) {
    this.connection = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    this.connection.on("error", () => undefined); // reported by `notify` when it matters
    this.queue = new Queue(QUEUES.detect, { connection: this.connection });
    this.queue.on("error", (err: Error) => this.logger.debug("detect queue error", { error: err.message }));
  }

  /** Fire and forget: never throws, never blocks the caller. */
  notify(job: DetectJob): void {
    this.queue
      .add("detect", DetectJobSchema.parse(job), { removeOnComplete: 1000, removeOnFail: 1000 })
      .catch((err: unknown) =>
        this.logger.debug("detect job not queued; the worker will catch up", { error: String(err) }),
      );
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.connection.disconnect();
  }
}

/**
 * The baselines queue: a job scheduler adds a rebuild every interval (one schedule for
 * all worker processes, kept in Redis), and the API adds one on request.
 */
export class BaselinesQueue {
  private readonly connection: Redis;
  private readonly queue: Queue;

  constructor(redisUrl: string) {
    this.connection = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.connection.on("error", () => undefined); // a failed request or schedule says so itself
    this.queue = new Queue(QUEUES.baselines, { connection: this.connection });
    this.queue.on("error", () => undefined);
  }

  /**
   * Keeps the rebuild schedule in Redis: set now and again whenever the connection comes
   * back (a Redis that restarted without persistence has forgotten it). Upserting is
   * idempotent, so every process may do it.
   */
  async keepScheduled(everyMs: number): Promise<void> {
    this.connection.on("ready", () => void this.schedule(everyMs).catch(() => undefined));
    await this.schedule(everyMs);
  }

  private async schedule(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(
      "baselines-every",
      { every: everyMs },
      {
        name: "baselines",
        data: BaselinesJobSchema.parse({ reason: "schedule" }),
        opts: { removeOnComplete: 100, removeOnFail: 100 },
      },
    );
  }

  /** Queues a rebuild; returns the job id. Throws when Redis does not answer. */
  async request(): Promise<string> {
    const job = await this.queue.add("baselines", BaselinesJobSchema.parse({ reason: "request" }), {
      removeOnComplete: 100,
      removeOnFail: 100,
    });
    return job.id ?? "";
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.connection.disconnect();
  }
}
