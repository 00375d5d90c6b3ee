import { parse as parseCsv } from "csv-parse/sync";
import { InputError } from "@vigil/common";
import type { AuditFormat } from "@vigil/config";
import type { AuditRecord } from "./record";

/**
 * Parses one log record of a database's audit log into an AuditRecord.
 *
 * - `pgaudit-jsonlog`: a line of PostgreSQL's jsonlog (log_destination = 'jsonlog') whose
 *   message is a pgAudit entry ("AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,...").
 * - `pgaudit-csvlog`: one record of PostgreSQL's csvlog (which may span lines when the
 *   statement does).
 * - `mariadb-server-audit`: a line of MariaDB's server_audit file (QUERY events).
 *
 * Returns undefined for records that are not audit entries of a statement (PostgreSQL's
 * other log messages, MariaDB's CONNECT and TABLE events); throws InputError (with what
 * is wrong, never the line itself) for a line that is not in the format at all.
 *
 * `timeZoneOffsetMinutes` is for MariaDB, whose file has local times without a zone.
 */
export function parseAuditRecord(
  format: AuditFormat,
  line: string,
  timeZoneOffsetMinutes = 0,
): AuditRecord | undefined {
  switch (format) {
    case "pgaudit-jsonlog":
      return parsePgJsonlog(line);
    case "pgaudit-csvlog":
      return parsePgCsvlog(line);
    case "mariadb-server-audit":
      return parseServerAudit(line, timeZoneOffsetMinutes);
  }
}

const AUDIT_PREFIX = "AUDIT: ";

function parsePgJsonlog(line: string): AuditRecord | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    throw new InputError("not a PostgreSQL jsonlog line: not JSON", 400);
  }
  if (typeof entry !== "object" || entry === null || Array.isArray(entry))
    throw new InputError("not a PostgreSQL jsonlog line: not a JSON object", 400);
  const e = entry as Record<string, unknown>;
  const str = (k: string): string => (typeof e[k] === "string" ? (e[k] as string) : "");
  const message = str("message");
  const logged = {
    time: str("timestamp"),
    user: str("user"),
    database: str("dbname"),
    clientAddress: str("remote_host"),
    connection: str("session_id"),
  };
  if (message.startsWith(AUDIT_PREFIX)) return pgAuditEntry(message, logged);
  return pgRefusedStatement(str("error_severity"), str("statement"), str("ps"), str("state_code"), message, logged);
}

// csvlog columns (PostgreSQL 15, "Using CSV-Format Log Output"): the ones read here.
const CSV_TIME = 0;
const CSV_USER = 1;
const CSV_DATABASE = 2;
const CSV_CONNECTION_FROM = 4;
const CSV_SESSION = 5;
const CSV_COMMAND_TAG = 7;
const CSV_SEVERITY = 11;
const CSV_STATE = 12;
const CSV_MESSAGE = 13;
const CSV_QUERY = 19;

function parsePgCsvlog(record: string): AuditRecord | undefined {
  const fields = csvFields(record, '"', "not a PostgreSQL csvlog record");
  if (fields.length <= CSV_MESSAGE) throw new InputError("not a PostgreSQL csvlog record: too few columns", 400);
  const message = fields[CSV_MESSAGE] ?? "";
  // connection_from is "host:port" (or "[local]").
  const from = fields[CSV_CONNECTION_FROM] ?? "";
  const colon = from.lastIndexOf(":");
  const line = {
    time: fields[CSV_TIME] ?? "",
    user: fields[CSV_USER] ?? "",
    database: fields[CSV_DATABASE] ?? "",
    clientAddress: colon > 0 && !from.endsWith("]") ? from.slice(0, colon) : from,
    connection: fields[CSV_SESSION] ?? "",
  };
  if (message.startsWith(AUDIT_PREFIX)) return pgAuditEntry(message, line);
  const field = (i: number) => fields[i] ?? "";
  return pgRefusedStatement(
    field(CSV_SEVERITY),
    field(CSV_QUERY),
    field(CSV_COMMAND_TAG),
    field(CSV_STATE),
    message,
    line,
  );
}

/**
 * A statement the database refused: pgAudit writes no entry for it (it logs what ran),
 * but PostgreSQL's ERROR line names the statement (log_min_error_statement, ERROR by
 * default), the user and the command tag. An agent trying what its grants forbid is
 * exactly what a reviewer wants to see. Other messages (connections, checkpoints,
 * errors outside a statement) are not statements: undefined.
 */
function pgRefusedStatement(
  severity: string,
  statement: string,
  commandTag: string,
  state: string,
  message: string,
  line: PgLogLine,
): AuditRecord | undefined {
  if (severity !== "ERROR" || statement === "" || line.user === "") return undefined;
  return {
    ...pgLogged(line),
    command: commandTag.toUpperCase(),
    objectName: "",
    statement,
    succeeded: false,
    error: `${state} ${message}`.trim(),
  };
}

/**
 * A pgAudit entry: AUDIT_TYPE, STATEMENT_ID, SUBSTATEMENT_ID, CLASS, COMMAND,
 * OBJECT_TYPE, OBJECT_NAME, STATEMENT, PARAMETER (pgAudit's README, "Format"), itself
 * CSV after the "AUDIT: " prefix.
 */
function pgAuditEntry(message: string, line: PgLogLine): AuditRecord {
  const f = csvFields(message.slice(AUDIT_PREFIX.length), '"', "not a pgAudit entry");
  if (f.length < 8) throw new InputError("not a pgAudit entry: fewer than 8 fields", 400);
  if (line.user === "") throw new InputError("a pgAudit entry without the database user", 400);
  return {
    ...pgLogged(line),
    command: (f[4] ?? "").toUpperCase(),
    objectName: f[6] ?? "",
    statement: f[7] ?? "",
    // pgAudit logs a statement once it has run; a refused one is an ERROR line instead.
    succeeded: true,
    error: "",
  };
}

/** What every PostgreSQL log line says of who ran a statement, where and when. */
type PgLogLine = { time: string; user: string; database: string; clientAddress: string; connection: string };

function pgLogged(
  line: PgLogLine,
): Pick<AuditRecord, "system" | "timeUnixNano" | "user" | "database" | "clientAddress" | "connection"> {
  return {
    system: "postgresql",
    timeUnixNano: pgTimeNanos(line.time),
    user: line.user,
    database: line.database,
    clientAddress: line.clientAddress,
    connection: line.connection,
  };
}

/** "2026-12-02 18:30:59.909 UTC" (log_timezone UTC), or with a numeric offset ("+01"). */
function pgTimeNanos(text: string): string {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{1,6})? (UTC|GMT|[+-]\d\d(?::?\d\d)?)$/.exec(text);
  if (m === null)
    throw new InputError(
      `a PostgreSQL log time Vigil cannot place ("${text.slice(0, 40)}"): set log_timezone = 'UTC' on the server`,
      400,
    );
  const zone = m[4] === "UTC" || m[4] === "GMT" ? "Z" : normalizeOffset(m[4] as string);
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) throw new InputError(`an invalid PostgreSQL log time ("${text.slice(0, 40)}")`, 400);
  const fraction = (m[3] ?? ".").slice(1).padEnd(9, "0");
  return (BigInt(ms) * 1_000_000n + BigInt(fraction)).toString();
}

function normalizeOffset(offset: string): string {
  const digits = offset.slice(1).replace(":", "");
  return `${offset[0]}${digits.slice(0, 2)}:${digits.slice(2, 4).padEnd(2, "0")}`;
}

/**
 * MariaDB server_audit: timestamp,serverhost,username,host,connectionid,queryid,
 * operation,database,object,retcode (MariaDB's "Audit Plugin Log Format"). A QUERY
 * event's object is the statement in single quotes, with \' \\ \n \r \t escapes.
 */
function parseServerAudit(line: string, offsetMinutes: number): AuditRecord | undefined {
  // The first eight fields hold no commas; the object may, so it is read by hand.
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < 8; i++) {
    const comma = line.indexOf(",", at);
    if (comma < 0) throw new InputError("not a MariaDB server_audit line: fewer than 10 fields", 400);
    parts.push(line.slice(at, comma));
    at = comma + 1;
  }
  const operation = parts[6] as string;
  if (!operation.startsWith("QUERY")) return undefined;
  const rest = line.slice(at);
  const lastComma = rest.lastIndexOf(",");
  if (lastComma < 0) throw new InputError("not a MariaDB server_audit line: no return code", 400);
  const quoted = rest.slice(0, lastComma);
  const retcode = rest.slice(lastComma + 1).trim();
  if (!quoted.startsWith("'") || !quoted.endsWith("'") || quoted.length < 2 || !/^\d+$/.test(retcode))
    throw new InputError("not a MariaDB server_audit QUERY line: the statement is not quoted", 400);
  const statement = quoted.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => ESCAPES[c] ?? c);
  const m = /^(\d{4})(\d\d)(\d\d) (\d\d:\d\d:\d\d)$/.exec(parts[0] as string);
  if (m === null) throw new InputError("not a MariaDB server_audit line: the time is not YYYYMMDD HH:MM:SS", 400);
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}Z`) - offsetMinutes * 60_000;
  const user = parts[2] as string;
  if (user === "") throw new InputError("a MariaDB server_audit line without the database user", 400);
  return {
    system: "mariadb",
    timeUnixNano: (BigInt(ms) * 1_000_000n).toString(),
    user,
    database: parts[7] as string,
    clientAddress: parts[3] as string,
    connection: parts[4] as string,
    command: firstKeyword(statement),
    objectName: "",
    statement,
    succeeded: retcode === "0",
    error: retcode === "0" ? "" : `error ${retcode}`,
  };
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t" };

/** The statement's leading keyword, upper case ("SELECT", "DROP"); "" when there is none. */
function firstKeyword(statement: string): string {
  return (/^\s*(?:\/\*.*?\*\/\s*)*([A-Za-z]+)/s.exec(statement)?.[1] ?? "").toUpperCase();
}

/** One CSV record's fields (csv-parse), as text. */
function csvFields(text: string, quote: string, what: string): string[] {
  let rows: string[][];
  try {
    rows = parseCsv(text, { quote, relax_column_count: true, relax_quotes: true }) as string[][];
  } catch (err) {
    throw new InputError(`${what}: ${(err as { code?: string }).code ?? "malformed CSV"}`, 400);
  }
  if (rows.length !== 1) throw new InputError(`${what}: expected one CSV record, found ${rows.length}`, 400);
  return rows[0] as string[];
}

/**
 * Whether a csvlog text holds whole records only: a record ends at a newline outside
 * quotes, so a file reader joins physical lines until the count of quote characters
 * is even (csvlog doubles quotes inside values).
 */
export function csvRecordComplete(text: string): boolean {
  let quotes = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) quotes++;
  return quotes % 2 === 0;
}
