import { BaselinesJobSchema, DetectJobSchema, QUEUES, startConsumer } from "@vigil/jobs";
import type { Logger } from "@vigil/common";
import type { DetectionLoop } from "./detection-loop";
import type { BaselineBuilder } from "./baseline-builder";

/** The consumer side of the detect queue: runs detection for each job (one at a time). */
export function startDetectWorker(redisUrl: string, loop: DetectionLoop, logger: Logger): { close(): Promise<void> } {
  return startConsumer(redisUrl, QUEUES.detect, DetectJobSchema, () => loop.trigger(), logger);
}

/** The consumer side of the baselines queue: one rebuild at a time. */
export function startBaselinesWorker(
  redisUrl: string,
  builder: BaselineBuilder,
  logger: Logger,
): { close(): Promise<void> } {
  return startConsumer(redisUrl, QUEUES.baselines, BaselinesJobSchema, () => builder.rebuild(), logger);
}
