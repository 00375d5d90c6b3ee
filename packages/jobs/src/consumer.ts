import { Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "@vigil/common";
import type { z } from "zod";

/**
 * The one way a Vigil process consumes a queue: a BullMQ worker on its own connection
 * that checks each job's payload against the queue's schema (a malformed payload fails
 * the job, visibly) and runs `handle`, one job at a time unless told. A failed job is
 * logged at error level with the job and its cause.
 */
export function startConsumer<S extends z.ZodType>(
  redisUrl: string,
  queueName: string,
  schema: S,
  handle: (payload: z.infer<S>) => Promise<unknown>,
  logger: Logger,
  concurrency = 1,
): { close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // Redis unreachable: the connection retries and says so on every attempt (debug); a
  // job that fails is an error, with its cause.
  connection.on("error", (err: Error) =>
    logger.debug("redis connection error", { queue: queueName, error: err.message }),
  );
  const worker = new Worker(queueName, (job) => handle(schema.parse(job.data)), {
    connection,
    concurrency,
    autorun: true,
  });
  worker.on("failed", (job, err) =>
    logger.error("job failed", { queue: queueName, jobId: job?.id, attempts: job?.attemptsMade, error: err }),
  );
  worker.on("error", (err) => logger.warn("queue worker error", { queue: queueName, error: err.message }));
  return {
    close: async () => {
      await worker.close().catch(() => undefined);
      connection.disconnect();
    },
  };
}
