import type { ClickHouseClient } from "@vigil/store";
import { checkReadOnlySelect } from "@vigil/facts";

/** Tables the SQL endpoint may read: Vigil's data, not the engine's or the migrations'. */
export const QUERYABLE_TABLES: ReadonlySet<string> = new Set([
  "spans",
  "span_trace_index",
  "span_session_index",
  "ledger",
  "ledger_checkpoints",
  "alerts",
  "agent_activity",
  "agent_calls_5m",
  "agent_baselines",
]);

export interface SqlLimits {
  /** Rows returned at most; more are cut and `truncated` is set. */
  maxRows: number;
  maxExecutionSeconds: number;
  maxMemoryBytes: number;
}

export const DEFAULT_SQL_LIMITS: SqlLimits = {
  maxRows: 10_000,
  maxExecutionSeconds: 10,
  maxMemoryBytes: 2_000_000_000,
};

export type SqlResult =
  | { ok: true; rows: Record<string, unknown>[]; truncated: boolean; elapsedMs: number }
  | { ok: false; status: 400; error: string; message: string };

const LIMIT_ERRORS: Record<string, string> = {
  TIMEOUT_EXCEEDED: "the query ran longer than the limit of {time} s; narrow the time range or aggregate more",
  MEMORY_LIMIT_EXCEEDED: "the query needed more memory than the limit; aggregate or filter more",
  TOO_MANY_ROWS_OR_BYTES: "the query read more data than allowed; narrow it",
};

/**
 * Runs read-only SQL for the security team. The text is checked structurally (one
 * SELECT over Vigil's tables, no table functions, no functions that reach outside, no
 * SETTINGS), then run as a subquery (so a second statement cannot even parse) with
 * readonly=2 and the API's limits set on the outer query only. In server mode the API
 * also connects as a read-only ClickHouse user.
 */
export async function runReadOnlySql(
  client: ClickHouseClient,
  sql: string,
  limits: SqlLimits = DEFAULT_SQL_LIMITS,
): Promise<SqlResult> {
  const text = sql.trim().replace(/;\s*$/, "");
  const check = checkReadOnlySelect(text, QUERYABLE_TABLES);
  if (!check.ok) return { ok: false, status: 400, error: "refused", message: check.reason };
  const started = performance.now();
  try {
    const rs = await client.query({
      // The user's SQL is the query here: it was parsed and checked above, and runs as a
      // subquery under readonly limits. Values the API itself adds travel as parameters.
      // Settings go in the query's own SETTINGS clause: the embedded engine would keep
      // session-level settings for every later query of the process.
      query:
        `SELECT * FROM (\n${text}\n) LIMIT {limit:UInt32} SETTINGS readonly = 2, max_execution_time = {seconds:UInt32}, ` +
        "max_memory_usage = {memory:UInt64}, output_format_json_quote_64bit_integers = 1",
      query_params: { limit: limits.maxRows + 1, seconds: limits.maxExecutionSeconds, memory: limits.maxMemoryBytes },
      format: "JSONEachRow",
    });
    const rows = await rs.json<Record<string, unknown>>();
    const truncated = rows.length > limits.maxRows;
    if (truncated) rows.length = limits.maxRows;
    return { ok: true, rows, truncated, elapsedMs: Math.round(performance.now() - started) };
  } catch (err) {
    const type = (err as { type?: string }).type ?? "";
    const template = LIMIT_ERRORS[type];
    if (template !== undefined) {
      return {
        ok: false,
        status: 400,
        error: "over_limit",
        message: template.replace("{time}", String(limits.maxExecutionSeconds)),
      };
    }
    return {
      ok: false,
      status: 400,
      error: "query_failed",
      message: (err as Error).message.split("\n")[0] ?? "query failed",
    };
  }
}
