import type { ClickHouseClient } from "@vigil/store";
import {
  advanceDetectionCursor,
  findBatchSpans,
  insertAlerts,
  ledgerHeads,
  readDetectionCursor,
  readLedgerAfter,
} from "@vigil/store";
import type { Alert } from "@vigil/store";
import { detect } from "./detectors";
import { ActivityCache } from "./learned/profiles";
import { BaselineCache } from "./learned/baseline-cache";
import { DEFAULT_DETECTION } from "./model";
import type { Detector } from "./model";
import type { AgentConfig, DetectionConfig } from "@vigil/config";

export interface DetectionRunResult {
  batches: number;
  spans: number;
  alerts: Alert[];
}

/**
 * Ledger entries examined per step. Small, because detection shares the process (and in
 * embedded mode the engine) with ingest: short steps keep acknowledgement latency low.
 */
const BATCHES_PER_STEP = 8;

/** What detection is configured with: declared agents, cold-start settings, detectors. */
export interface DetectionOptions {
  agents?: ReadonlyMap<string, AgentConfig>;
  detection?: DetectionConfig;
  detectors?: readonly Detector[];
  /** Baseline snapshots kept across runs; without one, each run reads them afresh. */
  baselines?: BaselineCache;
}

/**
 * Examines every batch the ledger holds beyond the detection cursor, in sequence order,
 * and moves the cursor past them. Whatever triggered it (a queue job, a timer, a
 * restart), it catches up from where detection last stopped; alert ids make a batch
 * examined twice after a crash raise nothing twice.
 */
export async function runDetection(
  client: ClickHouseClient,
  options: DetectionOptions = {},
): Promise<DetectionRunResult> {
  const cursor = await readDetectionCursor(client);
  const heads = await ledgerHeads(client);
  const baselines = options.baselines ?? new BaselineCache(client);
  const result: DetectionRunResult = { batches: 0, spans: 0, alerts: [] };
  for (const [chainId, head] of heads) {
    let examined = cursor.get(chainId) ?? 0;
    while (examined < head) {
      const step = await readLedgerAfter(client, chainId, examined, BATCHES_PER_STEP);
      if (step.length === 0) break;
      const spans = await findBatchSpans(
        client,
        step.map((e) => e.batchId),
      );
      const alerts = await detect(
        {
          client,
          spans,
          nowMs: Date.now(),
          activity: new ActivityCache(client, spans),
          baselines,
          agents: options.agents ?? new Map(),
          detection: options.detection ?? DEFAULT_DETECTION,
        },
        options.detectors,
      );
      result.alerts.push(...(await insertAlerts(client, alerts)));
      examined = (step.at(-1) as { seq: number }).seq;
      await advanceDetectionCursor(client, chainId, examined);
      result.batches += step.length;
      result.spans += spans.length;
    }
  }
  return result;
}
