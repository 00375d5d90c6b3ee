import type { DetectionConfig } from "@vigil/config";
import type { AgentProfile } from "@vigil/store";

const NS_PER_DAY = 86_400_000_000_000n;

/**
 * Cold start: learned detectors record but do not page while an agent has less than
 * `learning_days` of event-time history before the span, or fewer than
 * `learning_min_spans` spans. Backfilled history counts, so importing a week of traces
 * ends learning at once.
 */
export function stillLearning(profile: AgentProfile, spanStartNs: string, cfg: DetectionConfig): boolean {
  if (profile.firstSeenNs === undefined) return true;
  if (profile.spans < cfg.learning_min_spans) return true;
  const history = BigInt(spanStartNs) - BigInt(profile.firstSeenNs);
  return history < BigInt(Math.round(cfg.learning_days * 1e6)) * (NS_PER_DAY / 1_000_000n);
}
