import type { DetectionConfig } from "@vigil/config";
import type { Logger } from "@vigil/common";
import { DEFAULT_DETECTION, rebuildBaselines } from "@vigil/detect";
import type { BaselineCache } from "@vigil/detect";
import type { ClickHouseClient } from "@vigil/store";

/** What one rebuild produced. */
export interface RebuildSummary {
  builtAtMs: number;
  agents: number;
  learning: number;
  durationMs: number;
}

/**
 * Rebuilds baseline snapshots, one rebuild at a time (a request during a rebuild shares
 * it), on a timer and on demand; hands the new snapshots to detection's cache at once.
 */
export class BaselineBuilder {
  private running: Promise<RebuildSummary> | undefined;
  private timer: NodeJS.Timeout | undefined;
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

  /** Rebuilds every `intervalMs` (failures are logged; the next tick tries again). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.rebuild().catch((err: unknown) =>
        this.logger.warn("baseline rebuild failed", { error: err instanceof Error ? err : String(err) }),
      );
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
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
