/**
 * Vigil's jobs: queue names and payload schemas, the producers (ingest wakes detection,
 * the API asks for a baseline rebuild) and the one consumer registration point. Shared by
 * the services, so no service imports another for its queue contracts.
 */
export { QUEUES, DetectJobSchema, BaselinesJobSchema, DeliverJobSchema, deliveryQueueName } from "./queues";
export type { DetectJob, BaselinesJob, BaselinesResult, DeliverJob } from "./queues";
export { DetectQueue, BaselinesQueue } from "./producers";
export { startConsumer } from "./consumer";
export { jobBus } from "./bus";
export type { JobBus, JobHandlers } from "./bus";
