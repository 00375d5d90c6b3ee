export { DetectionLoop } from "./detection-loop";
export { DetectQueue, startDetectWorker, BaselinesQueue, startBaselinesWorker } from "./queue";
export { BaselineBuilder } from "./baseline-builder";
export type { RebuildSummary } from "./baseline-builder";
export { QUEUES, DetectJobSchema, BaselinesJobSchema } from "./queues";
export type { DetectJob, BaselinesJob } from "./queues";
