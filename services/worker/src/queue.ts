import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "@vigil/common";
import type { DetectionLoop } from "./detection-loop";
import { DetectJobSchema, QUEUES } from "./queues";
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

/** The consumer side: a BullMQ worker that runs detection for each job (one at a time). */
export function startDetectWorker(redisUrl: string, loop: DetectionLoop, logger: Logger): { close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", (err: Error) => logger.debug("redis connection error", { error: err.message }));
  const worker = new Worker(
    QUEUES.detect,
    async (job) => {
      DetectJobSchema.parse(job.data); // a malformed payload fails the job, visibly
      await loop.trigger();
    },
    { connection, concurrency: 1, autorun: true },
  );
  worker.on("error", (err) => logger.debug("detect worker error", { error: err.message }));
  return {
    close: async () => {
      await worker.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}
