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
  const end = learningEndNs(profile, cfg);
  return end === undefined || BigInt(spanStartNs) < end;
}

/** The first event time (ns) at which the agent is past learning; undefined while it has too few spans. */
export function learningEndNs(profile: AgentProfile, cfg: DetectionConfig): bigint | undefined {
  if (profile.firstSeenNs === undefined || profile.spans < cfg.learning_min_spans) return undefined;
  return BigInt(profile.firstSeenNs) + BigInt(Math.round(cfg.learning_days * 1e6)) * (NS_PER_DAY / 1_000_000n);
}
