/**
 * `npm run bench:view-costs`: what each materialized view and the skip indexes cost the
 * engine per stored row, at ingest's own insert size: the raw insert (bench/raw-insert.ts)
 * into the migrated spans table, then again without one view at a time, without the skip
 * indexes, and into a bare copy. Each run in its own process, one after another.
 * BENCH_BATCH_ROWS (default 3,400, about ingest's batch under full load), BENCH_SECONDS (10).
 */
import { runChild } from "./load";

interface RawResult {
  rowsPerSecond: number;
  cpuUsPerRow: number;
}

const batchRows = process.env.BENCH_BATCH_ROWS ?? "3400";
const seconds = process.env.BENCH_SECONDS ?? "10";
const raw = (env: Record<string, string>) => runChild<RawResult>(["bench/raw-insert.ts", batchRows, seconds], env);
const views = [
  "span_trace_index_mv",
  "span_session_index_mv",
  "agent_activity_mv",
  "agent_calls_5m_mv",
  "trace_sessions_mv",
];

const all = await raw({});
const rows: Array<[string, RawResult]> = [["all views and indexes", all]];
for (const v of [...views, "indexes"]) {
  process.stderr.write(`bench:view-costs: without ${v}\n`);
  rows.push([`without ${v}`, await raw({ RAW_WITHOUT: v }).catch(() => ({ rowsPerSecond: NaN, cpuUsPerRow: NaN }))]);
}
rows.push(["bare copy (no views, no indexes)", await raw({ RAW_TARGET: "bare" })]);
process.stdout.write(
  `\nengine CPU per row by what the spans table feeds (${batchRows}-row inserts, ${seconds} s each)\n` +
    "| target | rows/s | engine CPU µs/row | the part's cost µs/row |\n| --- | --- | --- | --- |\n" +
    rows
      .map(
        ([name, r]) =>
          `| ${name} | ${Math.round(r.rowsPerSecond)} | ${r.cpuUsPerRow.toFixed(1)} | ` +
          `${name.startsWith("without") ? (all.cpuUsPerRow - r.cpuUsPerRow).toFixed(1) : ""} |`,
      )
      .join("\n") +
    "\n",
);
