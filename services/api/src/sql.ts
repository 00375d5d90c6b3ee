import type { ClickHouseClient, ReadOnlyLimits } from "@vigil/store";
import { READABLE_TABLES, executeReadOnlyQuery, prepareReadOnlyQuery } from "@vigil/store";

/** Tables the SQL endpoint may read: Vigil's data, not the engine's or the migrations'. */
export const QUERYABLE_TABLES = READABLE_TABLES;

export interface SqlLimits extends ReadOnlyLimits {
  /** Queries running or waiting at once across all keys; past it, 429. */
  maxQueued: number;
  /** Set when the time limit is the embedded store's slice, which keeps ingest's writes moving. */
  slicedForIngest?: boolean;
}

export const DEFAULT_SQL_LIMITS: SqlLimits = {
  maxRows: 10_000,
  maxExecutionSeconds: 10,
  maxMemoryBytes: 2_000_000_000,
  maxResultBytes: 64 * 1024 * 1024,
  maxReadBytes: 20 * 1024 * 1024 * 1024,
  maxQueued: 4,
};

export type SqlResult =
  | { ok: true; rows: Record<string, unknown>[]; truncated: boolean; elapsedMs: number }
  | { ok: false; status: 400 | 429; error: string; message: string };

const LIMIT_ERRORS: Record<string, string> = {
  TIMEOUT_EXCEEDED: "the query ran longer than the limit of {time} s; narrow the time range or aggregate more",
  MEMORY_LIMIT_EXCEEDED: "the query needed more memory than the limit; aggregate or filter more",
  TOO_MANY_ROWS_OR_BYTES: "the query read or returned more data than allowed; narrow it or aggregate more",
  TOO_MANY_BYTES: "the query read or returned more data than allowed; narrow it or aggregate more",
};

/**
 * Runs read-only SQL for the security team. The statement is checked on the engine's own
 * parse (see `prepareReadOnlyQuery`): one SELECT over Vigil's readable tables, built-in
 * functions that stay inside the store, no table functions but `numbers()`. The checked
 * text is what runs, under `readonly = 1` with time, memory, read and result limits. On
 * a server the API's SQL identity can also only SELECT those tables (deploy/clickhouse).
 */
export async function runReadOnlySql(
  client: ClickHouseClient,
  sql: string,
  limits: SqlLimits = DEFAULT_SQL_LIMITS,
): Promise<SqlResult> {
  const started = performance.now();
  const prepared = await prepareReadOnlyQuery(client, sql, limits);
  if (!prepared.ok) return { ok: false, status: 400, error: "refused", message: prepared.reason };
  try {
    const rows = await executeReadOnlyQuery(client, prepared, limits);
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
        message:
          type === "TIMEOUT_EXCEEDED" && limits.slicedForIngest === true
            ? `the query ran longer than ${limits.maxExecutionSeconds} s, the most the embedded store gives one ` +
              "query (it runs one statement at a time, and agents' writes must not wait behind it); " +
              "narrow the time range, or run Vigil on a ClickHouse server for longer queries"
            : template.replace("{time}", String(limits.maxExecutionSeconds)),
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

/**
 * Admission for the SQL endpoint: one query at a time per API key, and a short queue
 * overall, so one reader cannot occupy the engine with a stream of queries.
 */
export class SqlGate {
  readonly #running = new Set<string>();
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  /**
   * @param writesFirst on the embedded engine (one statement at a time): resolves when
   *   ingest has nothing waiting to be written, so a query starts in a gap between
   *   writes rather than in front of them.
   */
  constructor(
    private readonly maxQueued: number,
    private readonly concurrent = 1,
    private readonly writesFirst?: () => Promise<void>,
  ) {}

  /** Runs `task` for `key`, or answers 429 when this key has one under way or the queue is full. */
  async run(key: string, task: () => Promise<SqlResult>): Promise<SqlResult> {
    if (this.#running.has(key))
      return busy("this API key already has a SQL query running; wait for its answer before sending another");
    if (this.#running.size >= this.maxQueued)
      return busy(`${this.maxQueued} SQL queries are running or waiting; retry in a few seconds`);
    this.#running.add(key);
    try {
      // A finishing query hands its slot straight to the next waiter.
      if (this.#active < this.concurrent) this.#active++;
      else await new Promise<void>((resolve) => this.#waiting.push(resolve));
      try {
        await this.writesFirst?.();
        return await task();
      } finally {
        const next = this.#waiting.shift();
        if (next === undefined) this.#active--;
        else next();
      }
    } finally {
      this.#running.delete(key);
    }
  }
}

const busy = (message: string): SqlResult => ({ ok: false, status: 429, error: "busy", message });
