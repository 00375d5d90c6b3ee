/** Robust statistics of 5-minute call counts, shared by call_volume and the baseline snapshots. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return 0;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The median and the median absolute deviation scaled to a standard deviation. */
export function volumeStats(history: readonly number[]): { median: number; sigma: number; samples: number } {
  const m = median(history);
  return { median: m, sigma: 1.4826 * median(history.map((x) => Math.abs(x - m))), samples: history.length };
}

/**
 * A bucket is an incident above max(floor, median + 6σ, 3 × median): robust to a few
 * outliers in the history, and slow drift moves the median with it.
 */
export function thresholdOf(stats: { median: number; sigma: number }, floor: number): number {
  return Math.max(floor, stats.median + 6 * Math.max(stats.sigma, 1), 3 * stats.median);
}

export function volumeThreshold(
  history: readonly number[],
  floor: number,
): { median: number; sigma: number; threshold: number } {
  const stats = volumeStats(history);
  return { median: stats.median, sigma: stats.sigma, threshold: thresholdOf(stats, floor) };
}

/** Index of an hour in the week, Monday 00:00 UTC = 0 (as ClickHouse's toDayOfWeek counts). */
export function hourOfWeek(epochSec: number): number {
  const d = new Date(epochSec * 1000);
  return ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours();
}
