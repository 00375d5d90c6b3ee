/**
 * Expands the Grafana ClickHouse data source's macros and template variables in a panel's
 * SQL the way the plugin documents them (github.com/grafana/clickhouse-datasource,
 * pkg/macros), so tests can run dashboard queries against the engine.
 */
export interface PanelContext {
  fromMs: number;
  toMs: number;
  intervalSeconds: number;
  variables: Record<string, string>;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function expandPanelSql(sql: string, ctx: PanelContext): string {
  const from = `toDateTime(${seconds(ctx.fromMs)})`;
  const to = `toDateTime(${seconds(ctx.toMs)})`;
  const fromMs = `fromUnixTimestamp64Milli(${ctx.fromMs})`;
  const toMs = `fromUnixTimestamp64Milli(${ctx.toMs})`;
  const date = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
  let out = sql
    .replace(/\$__timeFilter_ms\(([^)]+)\)/g, (_, c: string) => `${c} >= ${fromMs} AND ${c} <= ${toMs}`)
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, c: string) => `${c} >= ${from} AND ${c} <= ${to}`)
    .replace(
      /\$__dateFilter\(([^)]+)\)/g,
      (_, c: string) => `${c} >= ${date(ctx.fromMs)} AND ${c} <= ${date(ctx.toMs)}`,
    )
    .replace(
      /\$__timeInterval\(([^)]+)\)/g,
      (_, c: string) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${Math.max(1, ctx.intervalSeconds)} second)`,
    )
    .replace(/\$__fromTime_ms/g, fromMs)
    .replace(/\$__toTime_ms/g, toMs)
    .replace(/\$__fromTime/g, from)
    .replace(/\$__toTime/g, to)
    .replace(/\$__interval_s/g, String(Math.max(1, ctx.intervalSeconds)));
  // Template variables: ${name:singlequote} quotes and escapes; ${name} and $name are raw.
  out = out.replace(
    /\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g,
    (whole, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? "";
      const value = ctx.variables[name];
      if (value === undefined) return whole;
      return format === "singlequote" ? `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'` : value;
    },
  );
  if (/\$__\w+/.test(out)) throw new Error(`unexpanded macro in: ${out}`);
  return out;
}
