import type { Logger } from "@vigil/common";
import { runDetection } from "@vigil/detect";
import type { DetectionOptions, DetectionRunResult } from "@vigil/detect";
import type { Alert, ClickHouseClient } from "@vigil/store";

/**
 * Runs detection whenever asked, one run at a time: a trigger during a run schedules
 * exactly one more run after it (so a burst of batches costs one or two runs, not one
 * per batch). A timer triggers it too, so batches whose trigger was lost (queue down,
 * crash) are examined at the latest one interval later.
 */
export class DetectionLoop {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private auditDue: NodeJS.Timeout | undefined;
  private lastRunEnd = -Infinity;
  /** Least time between two runs (ms). */
  minGapMs = 1000;
  /** Batches examined and alerts raised since start. */
  batches = 0;
  alerts = 0;
  runs = 0;
  /** Time spent in runs, by phase (ms), since start. */
  readonly timings = { readMs: 0, detectMs: 0, storeMs: 0 };

  constructor(
    private readonly client: ClickHouseClient,
    private readonly logger: Logger,
    private readonly options: DetectionOptions = {},
  ) {}

  private readonly alertListeners: Array<(alerts: Alert[]) => void> = [];

  /** Calls `listener` with the alerts of each run, once they are stored. */
  onAlerts(listener: (alerts: Alert[]) => void): void {
    this.alertListeners.push(listener);
  }

  /** Asks for a run; resolves when a run that started after this call has finished. */
  trigger(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running.then(() => this.running ?? Promise.resolve());
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.trigger(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    clearTimeout(this.auditDue);
    this.stopped = true;
    await this.running;
  }

  private stopped = false;

  /**
   * Held audit records are judged once their matching window has passed: run then,
   * rather than at the next batch or tick, so that an unreported statement is alerted a
   * window after the database logged it even while no agent sends anything.
   */
  private runWhenAuditRecordsAreDue(): void {
    const due = this.options.audit?.nextDueMs();
    clearTimeout(this.auditDue);
    if (due === undefined || this.stopped) return;
    this.auditDue = setTimeout(() => void this.trigger(), Math.max(0, due - Date.now()) + 5);
    this.auditDue.unref();
  }

  private async loop(): Promise<void> {
    // Detection shares the embedded engine with ingest: leave it a gap between runs so a
    // steady stream of triggers cannot crowd out the INSERTs that acknowledge requests.
    const wait = this.lastRunEnd + this.minGapMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    do {
      this.again = false;
      let result: DetectionRunResult;
      try {
        result = await runDetection(this.client, this.options);
      } catch (err) {
        // The store is unavailable: the next trigger or tick resumes from the cursor.
        this.logger.warn("detection run failed", { error: err instanceof Error ? err : String(err) });
        return;
      }
      this.batches += result.batches;
      this.runs++;
      for (const k of ["readMs", "detectMs", "storeMs"] as const) this.timings[k] += result.timings[k];
      this.alerts += result.alerts.length;
      this.lastRunEnd = performance.now();
      this.runWhenAuditRecordsAreDue();
      if (result.alerts.length > 0) {
        this.logger.info("alerts raised", {
          count: result.alerts.length,
          detectors: [...new Set(result.alerts.map((a) => a.detector))],
        });
        for (const listener of this.alertListeners) listener(result.alerts);
      }
    } while (this.again);
  }
}
