import type { ClickHouseClient } from "@vigil/store";
import {
  advanceDetectionCursor,
  findBatchSpans,
  insertAlerts,
  ledgerHeads,
  readDetectionCursor,
  readLedgerAfter,
} from "@vigil/store";
import type { Alert, DetectSpan, RowOrigin } from "@vigil/store";
import { UNMAPPED_DB_USER_AGENT } from "@vigil/config";
import { OBSERVED_DETECTORS, SESSION_DETECTORS, detect } from "./detectors";
import { ActivityCache } from "./learned/profiles";
import { BaselineCache } from "./learned/baseline-cache";
import { DEFAULT_DETECTION } from "./model";
import { SessionHistoryCache } from "./session-history";
import { lateRootChildren, withTraceSessions } from "./trace-sessions";
import type { AuditJudge } from "./audit/judge";
import type { RecentBatches } from "./recent-batches";
import type { DetectionContext, Detector } from "./model";
import type { AgentConfig, DetectionConfig } from "@vigil/config";

export interface DetectionRunResult {
  batches: number;
  spans: number;
  alerts: Alert[];
  /** Where the run's time went (ms): reading the ledger and spans, detectors (with their reads), storing. */
  timings: { readMs: number; detectMs: number; storeMs: number };
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
  /** Sets databases' audit records beside agents' reports (kept across runs: it holds records until due). */
  audit?: AuditJudge;
  /** Rows ingest in this process handed over once committed; without it, every step reads its rows back. */
  recent?: RecentBatches;
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
  const observedDetectors = OBSERVED_DETECTORS.filter((d) => options.detectors?.includes(d) ?? true);
  const sessionDetectors = SESSION_DETECTORS.filter((d) => options.detectors?.includes(d) ?? true);
  const acrossEnvironments = (agentId: string): boolean =>
    (options.agents?.get(agentId)?.environments.length ?? 0) === 0;
  const result: DetectionRunResult = {
    batches: 0,
    spans: 0,
    alerts: [],
    timings: { readMs: 0, detectMs: 0, storeMs: 0 },
  };
  let mark = performance.now();
  const lap = (phase: keyof DetectionRunResult["timings"]): void => {
    const now = performance.now();
    result.timings[phase] += now - mark;
    mark = now;
  };
  for (const [chainId, head] of heads) {
    let examined = cursor.get(chainId) ?? 0;
    while (examined < head) {
      const step = await readLedgerAfter(client, chainId, examined, BATCHES_PER_STEP);
      if (step.length === 0) break;
      const batchIds = step.map((e) => e.batchId);
      const stored =
        options.recent === undefined
          ? await findBatchSpans(client, batchIds)
          : await options.recent.take(client, batchIds);
      // The detectors judge what agents reported. The databases' own audit records are
      // judged by the learned detectors against the databases' history of each agent, and
      // set beside the agents' reports by the audit judge once their window has passed.
      // Each span is judged by its trace's session where it names none (trace-sessions.ts).
      const spans = await withTraceSessions(
        client,
        stored.filter((s) => s.origin === "agent"),
      );
      const lateChildren = await lateRootChildren(client, spans, batchIds);
      const records = stored.filter((s) => s.origin === "db-audit" && s.agentId !== UNMAPPED_DB_USER_AGENT);
      options.audit?.hold(records);
      lap("readMs");
      const context = (origin: RowOrigin, rows: readonly DetectSpan[]): DetectionContext => ({
        client,
        spans: rows,
        nowMs: Date.now(),
        activity: new ActivityCache(client, rows, acrossEnvironments, origin),
        baselines,
        sessions: new SessionHistoryCache(client, rows),
        agents: options.agents ?? new Map(),
        detection: options.detection ?? DEFAULT_DETECTION,
        origin,
      });
      const alerts = await detect(context("agent", spans), options.detectors);
      if (lateChildren.length > 0) alerts.push(...(await detect(context("agent", lateChildren), sessionDetectors)));
      if (records.length > 0) alerts.push(...(await detect(context("db-audit", records), observedDetectors)));
      lap("detectMs");
      result.alerts.push(...(await insertAlerts(client, alerts)));
      examined = (step.at(-1) as { seq: number }).seq;
      await advanceDetectionCursor(client, chainId, examined);
      lap("storeMs");
      result.batches += step.length;
      result.spans += stored.length;
    }
  }
  if (options.audit !== undefined) {
    const judged = await options.audit.judge(client, Date.now(), options.agents ?? new Map());
    lap("detectMs");
    result.alerts.push(...(await insertAlerts(client, judged)));
    await options.audit.commit(client);
    lap("storeMs");
  }
  return result;
}
