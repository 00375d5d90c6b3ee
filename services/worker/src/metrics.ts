import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { Gauge } from "prom-client";
import type { Registry } from "prom-client";
import { counterFrom } from "@vigil/common";
import type { ClickHouseClient } from "@vigil/store";
import type { DetectionLoop } from "./detection-loop";
import type { Deliverer } from "./delivery/deliverer";
import { QUEUES, deliveryQueueName } from "@vigil/jobs";

/**
 * The worker's metrics: batches examined, alerts raised, detection lag (how old the
 * oldest batch not yet examined is), deliveries by outcome, and queue depths on Redis.
 */
export function registerWorkerMetrics(
  registry: Registry,
  parts: {
    client: ClickHouseClient;
    detection: DetectionLoop;
    deliverer?: Deliverer | undefined;
    receivers?: readonly string[];
    redisUrl?: string | undefined;
  },
): { close(): Promise<void> } {
  const { detection } = parts;
  counterFrom(
    registry,
    "vigil_detection_batches_total",
    "Ledger batches examined by detection",
    () => detection.batches,
  );
  counterFrom(registry, "vigil_detection_alerts_total", "Alerts raised", () => detection.alerts);
  counterFrom(registry, "vigil_detection_runs_total", "Detection runs", () => detection.runs);
  new Gauge({
    name: "vigil_detection_lag_seconds",
    help: "Age of the oldest committed batch detection has not examined yet (0 when caught up)",
    registers: [registry],
    async collect() {
      const rs = await parts.client.query({
        query: `SELECT toFloat64(ifNull(dateDiff('millisecond', min(l.created_at), now64(3)), 0)) / 1000 AS lag
                FROM ledger AS l
                LEFT JOIN (SELECT chain_id, max(seq) AS examined FROM detection_cursor GROUP BY chain_id) AS c ON c.chain_id = l.chain_id
                WHERE l.seq > ifNull(c.examined, 0)
                SETTINGS join_use_nulls = 1`,
        format: "JSONEachRow",
      });
      this.set(Number((await rs.json<{ lag: number }>())[0]?.lag ?? 0));
    },
  });
  if (parts.deliverer !== undefined) {
    const deliverer = parts.deliverer;
    counterFrom(
      registry,
      "vigil_deliveries_total",
      "Delivery attempts by outcome",
      () => ({ ...deliverer.counts }),
      "outcome",
    );
  }
  if (parts.redisUrl === undefined) return { close: () => Promise.resolve() };
  const connection = new Redis(parts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connection.on("error", () => undefined);
  const queues = [QUEUES.detect, QUEUES.baselines, ...(parts.receivers ?? []).map(deliveryQueueName)].map(
    (name) => new Queue(name, { connection }),
  );
  for (const q of queues) q.on("error", () => undefined);
  new Gauge({
    name: "vigil_queue_jobs",
    help: "BullMQ jobs by queue and state",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of queues) {
        const counts = await q.getJobCounts("waiting", "active", "delayed", "failed").catch(() => undefined);
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue: q.name, state }, n);
      }
    },
  });
  return {
    close: async () => {
      await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
      connection.disconnect();
    },
  };
}
