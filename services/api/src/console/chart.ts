import { html } from "hono/html";
import type { BaselineSnapshot } from "@vigil/store";

/** Hour of the week, Monday 00:00 UTC = 0 (the baseline's volume cells are indexed so). */
function hourOfWeek(sec: number): number {
  const d = new Date(sec * 1000);
  return ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours();
}

/**
 * An inline SVG of calls per 5 minutes over a window, against the baseline band (the
 * median ± 3 robust σ of the same hour of the week). No script, so it renders anywhere.
 */
export function volumeChart(
  counts: ReadonlyMap<number, number>,
  baseline: BaselineSnapshot | undefined,
  fromSec: number,
  toSec: number,
  label: string,
) {
  const W = 420;
  const H = 60;
  const buckets: Array<{ t: number; n: number; lo: number; hi: number }> = [];
  for (let t = fromSec - (fromSec % 300); t < toSec; t += 300) {
    const cell = baseline?.volume[hourOfWeek(t)];
    const has = cell !== undefined && cell.samples > 0;
    buckets.push({
      t,
      n: counts.get(t) ?? 0,
      lo: has ? Math.max(0, cell.median - 3 * cell.sigma) : 0,
      hi: has ? cell.median + 3 * Math.max(cell.sigma, 1) : 0,
    });
  }
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.n, b.hi)));
  const x = (i: number) => ((i / Math.max(1, buckets.length - 1)) * W).toFixed(1);
  const y = (v: number) => (H - (v / max) * (H - 4) - 2).toFixed(1);
  const line = buckets.map((b, i) => `${x(i)},${y(b.n)}`).join(" ");
  const band = [
    ...buckets.map((b, i) => `${x(i)},${y(b.hi)}`),
    ...[...buckets].reverse().map((b, i) => `${x(buckets.length - 1 - i)},${y(b.lo)}`),
  ].join(" ");
  const total = buckets.reduce((a, b) => a + b.n, 0);
  const above = buckets.filter((b) => b.hi > 0 && b.n > b.hi).length;
  return html`<svg
    class="chart"
    viewBox="0 0 ${W} ${H}"
    role="img"
    aria-label="${label}: ${total} calls in the window, ${above} five-minute buckets above the baseline band"
  >
    <polygon class="band" points="${band}"></polygon>
    <polyline class="line" points="${line}"></polyline>
  </svg>`;
}
