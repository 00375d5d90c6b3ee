/**
 * Structured JSON logs on stderr, one object a line. Callers pass fields, never
 * secrets: tokens and keys are not accepted by any logging call site.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Creates a logger that writes JSON lines at or above `level`. */
export function createLogger(
  level: LogLevel = "info",
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...base, ...fields };
    for (const [k, v] of Object.entries(record)) if (v instanceof Error) record[k] = errorFields(v);
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

/**
 * An error as log fields: name, message, the stack and the chain of causes (a store
 * failure wrapped by the service that met it keeps the engine's own message), and the
 * status or code it carries. Causes nest at most four deep (a cycle ends there too).
 */
function errorFields(err: Error, depth = 0): Record<string, unknown> {
  const e = err as Error & { status?: unknown; code?: unknown };
  const fields: Record<string, unknown> = { name: err.name, message: err.message };
  if (e.status !== undefined) fields.status = e.status;
  if (e.code !== undefined) fields.code = e.code;
  if (err.stack !== undefined) fields.stack = err.stack;
  if (err.cause !== undefined && depth < 4)
    fields.cause = err.cause instanceof Error ? errorFields(err.cause, depth + 1) : String(err.cause);
  return fields;
}
