export { DetectionLoop } from "./detection-loop";
export { DetectQueue, startDetectWorker } from "./queue";
export { QUEUES, DetectJobSchema } from "./queues";
export type { DetectJob } from "./queues";
