import { latestBaselines } from "@vigil/store";
import type { BaselineSnapshot, ClickHouseClient } from "@vigil/store";

/**
 * The latest baseline snapshot of each agent, held in memory by the detection process
 * and re-read at most once per `maxAgeMs` (one query for all agents), or replaced at
 * once when this process rebuilt the baselines itself. Detectors use a snapshot only
 * where it answers exactly what they would otherwise query; else they query.
 */
export class BaselineCache {
  private snapshots = new Map<string, BaselineSnapshot>();
  private loadedAtMs = -Infinity;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly maxAgeMs = 60_000,
  ) {}

  /** Replaces the cache with freshly built snapshots. */
  set(snapshots: readonly BaselineSnapshot[]): void {
    this.snapshots = new Map(snapshots.map((s) => [`${s.agentId}\n${s.environment}`, s]));
    this.loadedAtMs = Date.now();
  }

  async get(agentId: string, environment: string): Promise<BaselineSnapshot | undefined> {
    if (Date.now() - this.loadedAtMs > this.maxAgeMs) {
      this.loading ??= latestBaselines(this.client)
        .then((s) => this.set(s))
        .finally(() => {
          this.loading = undefined;
        });
      await this.loading;
    }
    return this.snapshots.get(`${agentId}\n${environment}`);
  }
}
