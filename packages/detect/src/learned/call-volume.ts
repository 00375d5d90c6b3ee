import { callBuckets, sameHourOfWeekHistory } from "@vigil/store";
import type { Alert, DetectSpan } from "@vigil/store";
import { alertFor, snapshotOf } from "../model";
import type { DetectionContext, Detector } from "../model";
import { HISTORY_WEEKS } from "./baselines";
import { hourOfWeek, thresholdOf, volumeStats } from "./volume-stats";

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
    const histories = new Map<string, { median: number; sigma: number; samples: number }>();
    for (const { span, bucket } of buckets.values()) {
      if (await ctx.activity.learning(span, ctx.detection)) continue;
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
          ctx.origin,
        );
        currents.set(agentKey, current);
      }
      const calls = current.get(bucket) ?? 0;
      if (calls <= ctx.detection.call_volume_floor) continue; // never an incident: skip the history read
      const hourStart = bucket - (bucket % 3600);
      const hourKey = `${agentKey}\n${hourStart}`;
      let stats = histories.get(hourKey);
      if (stats === undefined) {
        // The baseline snapshot holds these statistics when it was built for this very
        // hour (live traffic); backfilled or older buckets read their history.
        const cell = (await snapshotOf(ctx, span))?.volume[hourOfWeek(hourStart)];
        stats =
          cell?.hourStartSec === hourStart
            ? cell
            : volumeStats(
                await sameHourOfWeekHistory(
                  ctx.client,
                  span.agentId,
                  span.facts.environment,
                  bucket,
                  HISTORY_WEEKS,
                  ctx.origin,
                ),
              );
        histories.set(hourKey, stats);
      }
      if (stats.samples === 0) continue;
      const { median: m, sigma } = stats;
      const threshold = thresholdOf(stats, ctx.detection.call_volume_floor);
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
            explanation: `Compared with ${stats.samples} five-minute buckets of the same hour in the last ${HISTORY_WEEKS} weeks (median ${m}, robust σ ${sigma.toFixed(1)}); the alert threshold was ${threshold.toFixed(0)}.`,
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
