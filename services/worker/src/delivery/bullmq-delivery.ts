import { DelayedError, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "@vigil/common";
import { backoffMs } from "@vigil/alerting";
import type { Receiver } from "@vigil/alerting";
import type { Notification } from "@vigil/store";
import { DeliverJobSchema, deliveryQueueName } from "@vigil/jobs";
import type { Deliverer, DeliveryQueue } from "./deliverer";

/**
 * Delivery on BullMQ: one queue per receiver, so each has its own rate limit (BullMQ's
 * limiter, shared by every worker process) and a slow receiver never holds up another.
 * The job id is the notification id, so queueing a notification again while its job
 * exists (waiting, delayed for a retry, active) adds nothing.
 */
export class BullMqDelivery implements DeliveryQueue {
  private readonly producer: Redis;
  private readonly queues = new Map<string, Queue>();

  constructor(redisUrl: string) {
    this.producer = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.producer.on("error", () => undefined); // a failed enqueue is retried by the reconciler
  }

  async enqueue(n: Notification): Promise<void> {
    let queue = this.queues.get(n.receiver);
    if (queue === undefined) {
      queue = new Queue(deliveryQueueName(n.receiver), { connection: this.producer });
      queue.on("error", () => undefined);
      this.queues.set(n.receiver, queue);
    }
    await queue.add("deliver", DeliverJobSchema.parse({ notificationId: n.notificationId, attempt: 1 }), {
      jobId: n.notificationId,
      removeOnComplete: 1000,
      removeOnFail: 1000,
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.producer.disconnect();
  }
}

/** The consumers: one BullMQ worker per receiver queue, rate-limited to the receiver's rate. */
export function startDeliveryWorkers(
  redisUrl: string,
  receivers: ReadonlyMap<string, Receiver>,
  deliverer: Deliverer,
  logger: Logger,
): { close(): Promise<void> } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", (err: Error) => logger.debug("redis connection error", { error: err.message }));
  const workers = [...receivers.values()].map((receiver) => {
    const worker = new Worker(
      deliveryQueueName(receiver.name),
      async (job, token) => {
        const { notificationId, attempt } = DeliverJobSchema.parse(job.data);
        const result = await deliverer.attempt(notificationId, attempt);
        if (result.outcome !== "retry") return result.outcome;
        // Retry later, honouring Retry-After: the job waits in the delayed set.
        await job.updateData({ notificationId, attempt: attempt + 1 });
        await job.moveToDelayed(Date.now() + backoffMs(attempt, result.retryAfterMs), token);
        throw new DelayedError();
      },
      {
        connection,
        concurrency: 1,
        // A worker killed mid-delivery leaves its job locked: let another (or the restarted
        // one) take it over within seconds rather than BullMQ's default 30 s.
        lockDuration: 10_000,
        stalledInterval: 5_000,
        limiter: { max: 1, duration: Math.max(1, Math.round(1000 / receiver.ratePerSecond)) },
      },
    );
    worker.on("error", (err) => logger.debug("delivery worker error", { receiver: receiver.name, error: err.message }));
    return worker;
  });
  return {
    close: async () => {
      await Promise.all(workers.map((w) => w.close().catch(() => undefined)));
      connection.disconnect();
    },
  };
}
