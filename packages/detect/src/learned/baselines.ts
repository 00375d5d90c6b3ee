import type { DetectionConfig } from "@vigil/config";
import { allActivity, allCallBuckets, insertBaselines, weeklySeries } from "@vigil/store";
import type { ActivityRow, BaselineSnapshot, ClickHouseClient, SeenValue, VolumeCell } from "@vigil/store";
import { stillLearning } from "./learning";
import { hourOfWeek, volumeStats } from "./volume-stats";

/** Weeks of same-hour-of-week history a 5-minute bucket is judged against. */
export const HISTORY_WEEKS = 4;
const WEEK_SEC = 7 * 86400;
/** Values kept per dimension in a snapshot (the most used); the aggregates keep them all. */
const MAX_VALUES = 500;

/**
 * The per-hour-of-week volume statistics as of `nowSec`. Each cell judges the next
 * occurrence of its hour that is not complete yet (the current hour for the current
 * hour of week), from the same hour in the `HISTORY_WEEKS` weeks before it: exactly
 * what call_volume would read for a bucket in that hour, so the detector can use the
 * cell instead of a query whenever `hourStartSec` matches.
 */
export function volumeCells(counts: ReadonlyMap<number, number>, nowSec: number): VolumeCell[] {
  const currentHour = nowSec - (nowSec % 3600);
  const cells = new Array<VolumeCell>(168);
  for (let i = 0; i < 168; i++) {
    const hourStartSec = currentHour + i * 3600;
    const stats = volumeStats(weeklySeries(counts, hourStartSec, HISTORY_WEEKS));
    cells[hourOfWeek(hourStartSec)] = { hourStartSec, ...stats };
  }
  return cells;
}

/** Builds the snapshots of every agent from the aggregates (pure: the reads are done by the caller). */
export function buildSnapshots(
  activity: readonly ActivityRow[],
  buckets: ReadonlyArray<{ agentId: string; environment: string; bucketSec: number; calls: number }>,
  nowMs: number,
  detection: DetectionConfig,
): BaselineSnapshot[] {
  const byAgent = new Map<
    string,
    { agentId: string; environment: string; rows: ActivityRow[]; counts: Map<number, number> }
  >();
  const entry = (agentId: string, environment: string) => {
    const key = `${agentId}\n${environment}`;
    let e = byAgent.get(key);
    if (e === undefined) {
      e = { agentId, environment, rows: [], counts: new Map() };
      byAgent.set(key, e);
    }
    return e;
  };
  for (const r of activity) entry(r.agentId, r.environment).rows.push(r);
  for (const b of buckets) entry(b.agentId, b.environment).counts.set(b.bucketSec, b.calls);
  const nowSec = Math.floor(nowMs / 1000);
  const nowNs = String(BigInt(nowMs) * 1_000_000n);
  const snapshots: BaselineSnapshot[] = [];
  for (const { agentId, environment, rows, counts } of byAgent.values()) {
    const hours = new Array<number>(24).fill(0);
    const dimensions: Record<string, SeenValue[]> = {};
    let first: string | undefined;
    let last: string | undefined;
    for (const r of rows) {
      if (r.dimension === "hour") {
        hours[Number(r.value)] = r.calls;
        if (first === undefined || BigInt(r.firstSeenNs) < BigInt(first)) first = r.firstSeenNs;
        if (last === undefined || BigInt(r.lastSeenNs) > BigInt(last)) last = r.lastSeenNs;
        continue;
      }
      (dimensions[r.dimension] ??= []).push({
        value: r.value,
        firstSeenNs: r.firstSeenNs,
        lastSeenNs: r.lastSeenNs,
        calls: r.calls,
      });
    }
    if (first === undefined || last === undefined) continue; // buckets without activity rows: not merged yet
    for (const values of Object.values(dimensions)) {
      values.sort((a, b) => b.calls - a.calls || a.value.localeCompare(b.value));
      values.splice(MAX_VALUES);
    }
    const spans = hours.reduce((a, b) => a + b, 0);
    const profile = { firstSeenNs: first, spans, byHour: hours };
    const learning = stillLearning(profile, nowNs, detection);
    snapshots.push({
      agentId,
      environment,
      builtAtMs: nowMs,
      firstSeenNs: first,
      lastSeenNs: last,
      spans,
      learning,
      learningReason: learning ? learningReason(first, spans, nowNs, detection) : "",
      hours,
      volume: volumeCells(counts, nowSec),
      dimensions,
    });
  }
  return snapshots;
}

function learningReason(firstNs: string, spans: number, nowNs: string, cfg: DetectionConfig): string {
  const days = Number((BigInt(nowNs) - BigInt(firstNs)) / 1_000_000_000n) / 86400;
  const missing: string[] = [];
  if (days < cfg.learning_days) missing.push(`${days.toFixed(1)} of ${cfg.learning_days} days of history`);
  if (spans < cfg.learning_min_spans) missing.push(`${spans} of ${cfg.learning_min_spans} spans`);
  return `learning: ${missing.join(", ")}`;
}

/**
 * Rebuilds every agent's baseline from the aggregates (two reads, whatever the number of
 * agents) and stores the snapshots. Runs on a schedule and on demand.
 */
export async function rebuildBaselines(
  client: ClickHouseClient,
  detection: DetectionConfig,
  nowMs = Date.now(),
): Promise<BaselineSnapshot[]> {
  const nowSec = Math.floor(nowMs / 1000);
  const currentHour = nowSec - (nowSec % 3600);
  const [activity, buckets] = await Promise.all([
    allActivity(client),
    allCallBuckets(client, currentHour - HISTORY_WEEKS * WEEK_SEC, currentHour),
  ]);
  const snapshots = buildSnapshots(activity, buckets, nowMs, detection);
  await insertBaselines(client, snapshots);
  return snapshots;
}
