import { z } from "zod";

/** Queue names, shared by producers (ingest, API) and consumers (worker). */
export const QUEUES = {
  detect: "vigil-detect",
  baselines: "vigil-baselines",
} as const;

/**
 * A committed batch to examine. The payload is a hint only: detection always catches up
 * from its cursor, so a lost or duplicated job loses or repeats nothing.
 */
export const DetectJobSchema = z.strictObject({
  chainId: z.string().min(1),
  seq: z.number().int().positive(),
});
export type DetectJob = z.infer<typeof DetectJobSchema>;

/** Rebuild every agent's baseline snapshot (scheduled, or asked for through the API). */
export const BaselinesJobSchema = z.strictObject({
  reason: z.enum(["schedule", "request"]),
});
export type BaselinesJob = z.infer<typeof BaselinesJobSchema>;

/** One delivery queue per receiver (each with its own rate limit). */
export function deliveryQueueName(receiver: string): string {
  return `vigil-deliver.${receiver}`;
}

/** Send one stored notification; the attempt number counts retries. */
export const DeliverJobSchema = z.strictObject({
  notificationId: z.string().min(1),
  attempt: z.number().int().positive(),
});
export type DeliverJob = z.infer<typeof DeliverJobSchema>;

/** What a baseline rebuild reports (the API answers a rebuild done in-process with it). */
export interface BaselinesResult {
  builtAtMs: number;
  agents: number;
  learning: number;
  durationMs: number;
}
