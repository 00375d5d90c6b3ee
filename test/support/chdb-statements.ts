/**
 * Runs SQL statements in a chDB engine of its own, in a child process: chDB binds one data
 * directory (and one set of start-up arguments, such as a users config) per process, and
 * the test process already holds one.
 *
 *   node --import tsx test/support/chdb-statements.ts '<json>'
 *   json: { dataDir, connectionArgs?: string[], statements: string[] }
 *
 * Prints one JSON line: [{ statement, ok, result?, error? }] in order; a failing statement
 * does not stop the next one.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export interface StatementOutcome {
  statement: string;
  ok: boolean;
  result?: string;
  error?: string;
}

export interface StatementsRequest {
  dataDir: string;
  connectionArgs?: string[];
  statements: string[];
}

/** Runs the statements in a fresh child process and returns each outcome. */
export async function runStatementsInOwnEngine(request: StatementsRequest): Promise<StatementOutcome[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), JSON.stringify(request)],
    { env: { PATH: process.env.PATH ?? "" }, maxBuffer: 16 * 1024 * 1024 },
  );
  const line = stdout.trim().split("\n").at(-1) ?? "[]";
  return JSON.parse(line) as StatementOutcome[];
}

async function main(json: string): Promise<void> {
  const request = JSON.parse(json) as StatementsRequest;
  const { Session } = await import("chdb");
  const session = new Session(
    request.dataDir,
    request.connectionArgs ? { connectionArgs: request.connectionArgs } : {},
  );
  const outcomes: StatementOutcome[] = [];
  for (const statement of request.statements) {
    try {
      outcomes.push({ statement, ok: true, result: String(session.query(statement, "TSV")) });
    } catch (e) {
      outcomes.push({ statement, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  session.close();
  process.stdout.write(`${JSON.stringify(outcomes)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg === undefined) {
    process.stderr.write("usage: chdb-statements.ts '<json>'\n");
    process.exit(2);
  }
  await main(arg);
}
