import { callBuckets, sameHourOfWeekHistory } from "@vigil/store";
import type { Alert, DetectSpan } from "@vigil/store";
import { alertFor } from "../model";
import type { DetectionContext, Detector } from "../model";
import { stillLearning } from "./learning";

/** Weeks of same-hour-of-week history a bucket is compared with. */
const HISTORY_WEEKS = 4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0
    ? 0
    : s.length % 2 === 1
      ? (s[mid] as number)
      : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Robust bounds for a bucket: the median and the median absolute deviation (scaled to a
 * standard deviation) of the same hour of the week in earlier weeks. A bucket is an
 * incident above max(floor, median + 6σ, 3 × median): slow drift moves the median with it.
 */
export function volumeThreshold(
  history: number[],
  floor: number,
): { median: number; sigma: number; threshold: number } {
  const m = median(history);
  const sigma = 1.4826 * median(history.map((x) => Math.abs(x - m)));
  return { median: m, sigma, threshold: Math.max(floor, m + 6 * Math.max(sigma, 1), 3 * m) };
}

/** Calls per 5-minute bucket against the agent's own history for the same hour of week. */
export const callVolume: Detector = {
  name: "call_volume",
  async detect(ctx: DetectionContext) {
    const alerts: Alert[] = [];
    const buckets = new Map<string, { span: DetectSpan; bucket: number }>();
    for (const span of ctx.spans) {
      const bucket = Math.floor(Number(BigInt(span.startTimeUnixNano) / 1_000_000_000n) / 300) * 300;
      const key = `${span.agentId}\n${span.facts.environment}\n${bucket}`;
      if (!buckets.has(key)) buckets.set(key, { span, bucket });
    }
    // One read of the current buckets per agent, one history read per agent and hour of week.
    const currents = new Map<string, Map<number, number>>();
    const histories = new Map<string, number[]>();
    for (const { span, bucket } of buckets.values()) {
      if (
        stillLearning(
          await ctx.activity.profile(span.agentId, span.facts.environment),
          span.startTimeUnixNano,
          ctx.detection,
        )
      )
        continue;
      const agentKey = `${span.agentId}\n${span.facts.environment}`;
      let current = currents.get(agentKey);
      if (current === undefined) {
        const mine = [...buckets.values()].filter(
          (b) => b.span.agentId === span.agentId && b.span.facts.environment === span.facts.environment,
        );
        current = await callBuckets(
          ctx.client,
          span.agentId,
          span.facts.environment,
          mine.map((b) => b.bucket),
        );
        currents.set(agentKey, current);
      }
      const calls = current.get(bucket) ?? 0;
      if (calls <= ctx.detection.call_volume_floor) continue; // never an incident: skip the history read
      const hourKey = `${agentKey}\n${bucket - (bucket % 3600)}`;
      let history = histories.get(hourKey);
      if (history === undefined) {
        history = await sameHourOfWeekHistory(ctx.client, span.agentId, span.facts.environment, bucket, HISTORY_WEEKS);
        histories.set(hourKey, history);
      }
      if (history.length === 0) continue;
      const { median: m, sigma, threshold } = volumeThreshold(history, ctx.detection.call_volume_floor);
      if (calls <= threshold) continue;
      const ratio = m > 0 ? calls / m : calls;
      alerts.push(
        alertFor(
          span,
          {
            detector: "call_volume",
            score: Math.min(
              99,
              Math.round(60 + 10 * Math.log2(Math.max(1, calls / threshold)) + (ratio >= 20 ? 15 : 0)),
            ),
            summary: `${span.agentId} made ${calls} calls in 5 minutes; usually ${m} at this hour of the week`,
            explanation: `Compared with ${history.length} five-minute buckets of the same hour in the last ${HISTORY_WEEKS} weeks (median ${m}, robust σ ${sigma.toFixed(1)}); the alert threshold was ${threshold.toFixed(0)}.`,
            evidence: { calls, median: m, sigma, threshold, ratio, bucketStart: new Date(bucket * 1000).toISOString() },
            subject: `volume/${span.facts.environment}/${bucket}`,
          },
          ctx.nowMs,
        ),
      );
    }
    return alerts;
  },
};
