import { MIGRATIONS, MIGRATIONS_TABLE } from "../migrations";
import type { ClickHouseClient } from "@clickhouse/client";
import { canonicalTokensProblem, checkAst, parseExplainAst } from "./explain-ast";
import type { EngineCatalogue, ReadPolicy } from "./explain-ast";

/** Tables the SQL endpoint may read: Vigil's data, not the engine's, the tokens or the migrations'. */
export const READABLE_TABLES: ReadonlySet<string> = new Set([
  "spans",
  "span_trace_index",
  "span_session_index",
  "trace_sessions",
  "ledger",
  "ledger_checkpoints",
  "alerts",
  "agent_activity",
  "agent_calls_5m",
  "agent_baselines",
]);

/**
 * What a reader's SQL may call. The engine's own catalogue decides what is a function at
 * all (anything else is refused); this list takes out the built-ins that read files,
 * dictionaries, other tables by name, models or the server's settings and environment.
 * Reads of files are the reason: in embedded mode the engine runs as clickhouse-local,
 * where `readonly = 1` does not stop the scalar `file()` and no grant governs it.
 */
export const READ_POLICY: ReadPolicy = {
  readableTables: READABLE_TABLES,
  allowedTableFunctions: new Set(["numbers", "generate_series", "generateseries", "zeros"]),
  deniedFunctions: new Set([
    "file",
    "url",
    "input",
    "hascolumnintable",
    "catboostevaluate",
    "evalmlmethod",
    "modelevaluate",
    "sleep",
    "sleepeachrow",
    "getsetting",
    "getsettingordefault",
    "getserversetting",
    "getmergetreesetting",
    "getmacro",
    "getclienthttpheader",
    "currentprofiles",
    "currentroles",
    "enabledroles",
    "defaultroles",
    "currentuser",
    "hostname",
    "fqdn",
    "displayname",
    "serveruuid",
    "getoskernelversion",
    "uptime",
    "tcpport",
    "getserverport",
    "zookeepersessionuptime",
    "addresstoline",
    "addresstolinewithinlines",
    "addresstosymbol",
    "demangle",
    "logtrace",
    "transactionid",
    "transactionlatestsnapshot",
    "transactionoldestsnapshot",
    "__getscalar",
    "globalin",
    "globalnotin",
    "globalnullin",
    "globalnotnullin",
    "filesystemavailable",
    "filesystemcapacity",
    "filesystemunreserved",
  ]),
  // dictGet*, dictHas, joinGet*, filesystem*: whole families reach other storage.
  deniedFunctionPrefixes: ["dict", "joinget", "filesystem", "icebergs3", "s3"],
};

export interface ReadOnlyLimits {
  /** Rows returned at most; one more is asked for, to say `truncated`. */
  maxRows: number;
  maxExecutionSeconds: number;
  maxMemoryBytes: number;
  /** Bytes of result the engine may build. */
  maxResultBytes: number;
  /** Bytes the engine may read from tables for one query. */
  maxReadBytes: number;
}

export type PreparedQuery = { ok: true; text: string; tables: string[] } | { ok: false; reason: string };

const catalogues = new WeakMap<ClickHouseClient, Promise<EngineCatalogue>>();

async function engineCatalogue(client: ClickHouseClient): Promise<EngineCatalogue> {
  let pending = catalogues.get(client);
  if (pending === undefined) {
    pending = (async () => {
      const rs = await client.query({
        query:
          "SELECT lower(name) AS name, lower(if(alias_to = '', name, alias_to)) AS canonical, is_aggregate " +
          "FROM system.functions WHERE origin = 'System'",
        format: "JSONEachRow",
      });
      const functions = new Map<string, { aggregate: boolean; canonical: string }>();
      for (const f of await rs.json<{ name: string; canonical: string; is_aggregate: number }>())
        functions.set(f.name, { aggregate: Number(f.is_aggregate) === 1, canonical: f.canonical });
      const cs = await client.query({
        query: "SELECT lower(name) AS name FROM system.aggregate_function_combinators",
        format: "JSONEachRow",
      });
      const combinators = (await cs.json<{ name: string }>()).map((c) => c.name).sort((a, b) => b.length - a.length);
      const db = await client.query({ query: "SELECT currentDatabase() AS db", format: "JSONEachRow" });
      const database = (await db.json<{ db: string }>())[0]?.db ?? "default";
      return { functions, combinators, database };
    })();
    pending.catch(() => catalogues.delete(client));
    catalogues.set(client, pending);
  }
  return pending;
}

/**
 * Turns a reader's SQL into the exact text that will run, checked on the engine's own
 * parse of that text: the engine formats the statement (received as a query parameter,
 * never spliced), the canonical text is wrapped with the row limit, the engine parses the
 * wrapped text (`EXPLAIN AST`), and that tree is checked. What runs is the checked text
 * plus the endpoint's SETTINGS, which bind to the outermost query only.
 */
export async function prepareReadOnlyQuery(
  client: ClickHouseClient,
  sql: string,
  limits: ReadOnlyLimits,
  policy: ReadPolicy = READ_POLICY,
): Promise<PreparedQuery> {
  let canonical: string;
  try {
    const rs = await client.query({
      query: "SELECT formatQuerySingleLine({sql:String}) AS q",
      query_params: { sql },
      format: "JSONEachRow",
    });
    canonical = (await rs.json<{ q: string }>())[0]?.q ?? "";
  } catch (err) {
    if (/Multi-statements are not allowed/.test(firstLine(err)))
      return { ok: false, reason: "exactly one statement is allowed" };
    return { ok: false, reason: `the SQL cannot be parsed: ${firstLine(err)}` };
  }
  const firstWord = /^\(*\s*([A-Za-z]+)/.exec(canonical)?.[1]?.toUpperCase();
  if (firstWord !== "SELECT" && firstWord !== "WITH")
    return { ok: false, reason: `only SELECT queries are allowed, not ${firstWord ?? "this statement"}` };
  const tokenProblem = canonicalTokensProblem(canonical);
  if (tokenProblem !== undefined) return { ok: false, reason: `refused: ${tokenProblem}` };
  if (!Number.isInteger(limits.maxRows) || limits.maxRows < 1) throw new Error("maxRows must be a positive integer");
  // APPLY(materialize): a constant column counts once towards max_result_bytes however
  // many rows repeat it; materialized, the engine counts the bytes it will send.
  const wrapped = `SELECT * APPLY(materialize) FROM (${canonical}) LIMIT ${limits.maxRows + 1}`;
  let lines: string[];
  try {
    // Plain EXPLAIN AST: as a subquery (SELECT explain FROM (EXPLAIN AST ...)) the engine
    // dumps a rewritten tree that drops window definitions, so a function there went
    // unseen. `query` would append a FORMAT clause, which the engine parses into the
    // explained statement; `exec` sends the text as it is. The answer comes in the
    // placement's default format: TabSeparated on a server (a tree line never starts with
    // a quote), one quoted string a line from the embedded engine. Either way each tree
    // line is one output line (newlines inside literals arrive escaped); escapes are left
    // as they are, since only literals hold them and their content is not read.
    const result = await client.exec({ query: `EXPLAIN AST ${wrapped}` });
    let text = "";
    for await (const chunk of result.stream as AsyncIterable<Buffer>) text += chunk.toString("utf8");
    lines = text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => (line.length >= 2 && line.startsWith('"') && line.endsWith('"') ? line.slice(1, -1) : line));
  } catch (err) {
    return { ok: false, reason: `the SQL cannot be parsed: ${firstLine(err)}` };
  }
  let verdict;
  try {
    verdict = checkAst(parseExplainAst(lines), await engineCatalogue(client), policy);
  } catch (err) {
    return { ok: false, reason: `refused: ${firstLine(err)}` };
  }
  if (!verdict.ok) return verdict;
  const shadowed = verdict.unknownNames.filter((name) => storeTables().has(name));
  if (shadowed.length > 0)
    return { ok: false, reason: shadowed.map((t) => `table "${t}" is not readable through the API`).join("; ") };
  if (verdict.unknownNames.length > 0) {
    // A name that is not readable may be a CTE; it may not be a table in any database.
    // (On a server, system.tables lists only what the SQL user may see: Vigil's own
    // tables are named from the migrations above.)
    const rs = await client.query({
      query: "SELECT DISTINCT lower(name) AS name FROM system.tables WHERE lower(name) IN {names:Array(String)}",
      query_params: { names: verdict.unknownNames },
      format: "JSONEachRow",
    });
    const existing = (await rs.json<{ name: string }>()).map((r) => r.name);
    if (existing.length > 0)
      return {
        ok: false,
        reason: existing.map((t) => `table "${t}" is not readable through the API`).join("; "),
      };
  }
  return { ok: true, text: wrapped, tables: verdict.tables };
}

/**
 * Runs a prepared reader query under the endpoint's settings and returns its rows with
 * the column names the reader wrote (the wrapper's `materialize(...)` taken off).
 */
export async function executeReadOnlyQuery(
  client: ClickHouseClient,
  prepared: { text: string },
  limits: ReadOnlyLimits,
): Promise<Record<string, unknown>[]> {
  const alreadyReadOnly = (await sessionReadOnly(client)) > 0;
  const rs = await client.query({
    query: prepared.text + readOnlySettings(limits, alreadyReadOnly),
    format: "JSONEachRow",
  });
  const rows = await rs.json<Record<string, unknown>>();
  const first = rows[0];
  if (first === undefined) return rows;
  const names = Object.keys(first).map((k) => [k, /^materialize\((.*)\)$/s.exec(k)?.[1] ?? k] as const);
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [from, to] of names) out[to] = row[from];
    return out;
  });
}

let tablesOfStore: Set<string> | undefined;

/** Every table and view the migrations create, lower-cased. */
function storeTables(): Set<string> {
  tablesOfStore ??= new Set(
    [MIGRATIONS_TABLE, ...MIGRATIONS.flatMap((m) => m.statements)].flatMap((sql) =>
      [...sql.matchAll(/\bCREATE (?:TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS (\w+)/gi)].map((m) =>
        (m[1] as string).toLowerCase(),
      ),
    ),
  );
  return tablesOfStore;
}

const readOnlyLevels = new WeakMap<ClickHouseClient, Promise<number>>();

/**
 * The `readonly` level the client's user already has from its settings profile (the
 * `vigil_sql` user's is 2). A read-only session may not change `readonly`, so a query
 * adds `readonly = 1` only where the profile left the session writable.
 */
function sessionReadOnly(client: ClickHouseClient): Promise<number> {
  let level = readOnlyLevels.get(client);
  if (level === undefined) {
    level = client
      .query({ query: "SELECT toUInt8(getSetting('readonly')) AS r", format: "JSONEachRow" })
      .then((rs) => rs.json<{ r: number }>())
      .then((rows) => Number(rows[0]?.r ?? 0));
    // A failed probe is asked again next time rather than remembered.
    level.catch(() => readOnlyLevels.delete(client));
    readOnlyLevels.set(client, level);
  }
  return level;
}

/**
 * The SETTINGS clause that every reader query runs with. `readonly = 1` comes last: it
 * forbids changing settings afterwards, and on a server it also refuses table functions
 * and writes at the engine. A session that is read-only by its profile keeps its level.
 */
function readOnlySettings(limits: ReadOnlyLimits, alreadyReadOnly = false): string {
  const n = (v: number) => {
    if (!Number.isFinite(v) || v < 0) throw new Error(`invalid limit ${v}`);
    return String(Math.floor(v));
  };
  // Seconds may be fractional (a time slice on the embedded engine), but never 0: that means no limit.
  const time = limits.maxExecutionSeconds;
  if (!Number.isFinite(time) || time < 0.001) throw new Error(`invalid time limit ${time}`);
  return (
    ` SETTINGS max_execution_time = ${time.toFixed(3)}, max_memory_usage = ${n(limits.maxMemoryBytes)}, ` +
    `max_result_bytes = ${n(limits.maxResultBytes)}, max_bytes_to_read = ${n(limits.maxReadBytes)}, ` +
    `output_format_json_quote_64bit_integers = 1${alreadyReadOnly ? "" : ", readonly = 1"}`
  );
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split("\n")[0] ?? message).slice(0, 300);
}
