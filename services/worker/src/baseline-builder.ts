import type { DetectionConfig } from "@vigil/config";
import type { BaselinesResult } from "@vigil/jobs";
import type { Logger } from "@vigil/common";
import { DEFAULT_DETECTION, rebuildBaselines } from "@vigil/detect";
import type { BaselineCache } from "@vigil/detect";
import type { ClickHouseClient } from "@vigil/store";

/** What one rebuild produced. */
/** What a rebuild reports: the baselines job's result (packages/jobs). */
export type RebuildSummary = BaselinesResult;

/**
 * Rebuilds baseline snapshots, one rebuild at a time (a request during a rebuild shares
 * it), when the job bus asks (on its schedule and on demand); hands the new snapshots to detection's cache at once.
 */
export class BaselineBuilder {
  private running: Promise<RebuildSummary> | undefined;
  /** The last rebuild that finished, for status pages. */
  last: RebuildSummary | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly logger: Logger,
    private readonly detection: DetectionConfig = DEFAULT_DETECTION,
    private readonly cache?: BaselineCache,
  ) {}

  rebuild(): Promise<RebuildSummary> {
    this.running ??= this.build().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Waits for a rebuild in flight (the schedule is the job bus's). */
  async stop(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async build(): Promise<RebuildSummary> {
    const started = performance.now();
    const builtAtMs = Date.now();
    const snapshots = await rebuildBaselines(this.client, this.detection, builtAtMs);
    this.cache?.set(snapshots);
    const summary = {
      builtAtMs,
      agents: snapshots.length,
      learning: snapshots.filter((s) => s.learning).length,
      durationMs: Math.round(performance.now() - started),
    };
    this.last = summary;
    this.logger.info("baselines rebuilt", { ...summary });
    return summary;
  }
}
