import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findAgentSpans } from "@vigil/store";
import type { StoredSpan } from "@vigil/store";
import type { Conformance } from "./conformance";

/**
 * The conformance table: per library, per fact, whether Vigil read what the library
 * emitted in the run. Each test file declares the facts its library emits (from the
 * library's source and its spans), then records what the store holds of the spans the
 * library made (the tests' own application spans, tracers named `support-bot*`, are left
 * out); a fact it emits that no stored span carries is "missed". The files run in
 * separate processes, so each writes its row here and the run's teardown prints the table
 * (conformance-report.ts).
 */
export const TABLE_FACTS = {
  session: (s: StoredSpan) => s.sessionId !== "" && s.sessionFromTrace !== true,
  operation: (s: StoredSpan) => s.facts.operation !== "",
  tool: (s: StoredSpan) => s.facts.tool !== "",
  input: (s: StoredSpan) => s.facts.input !== "",
  peer: (s: StoredSpan) => s.facts.peerAgent !== "",
  "mcp server": (s: StoredSpan) => s.facts.mcpServer !== "",
  "mcp method": (s: StoredSpan) => s.facts.mcpMethod !== "",
  host: (s: StoredSpan) => s.facts.outboundHost !== "",
  "db system": (s: StoredSpan) => s.facts.dbSystem !== "",
  "db tables": (s: StoredSpan) => s.facts.dbTables.length > 0,
} as const;
export type TableFact = keyof typeof TABLE_FACTS;
export type Cell = "read" | "not emitted" | "missed";

export const RESULTS_DIR = join(tmpdir(), "vigil-conformance-table");

export interface TableRow {
  library: string;
  cells: Record<TableFact, Cell>;
  /** What the library emitted and no stored span of it carries. */
  missed: TableFact[];
}

/** The row of one library from what the store holds of its spans; written for the run's table. */
export async function recordConformanceRow(
  c: Conformance,
  library: string,
  emits: readonly TableFact[],
  /** The instrumentation scope of the library's spans, when several libraries ran in one file. */
  scope?: string,
): Promise<TableRow> {
  const all = await findAgentSpans(
    c.vigil.vigil.client,
    "support-bot",
    "0",
    String(BigInt(Date.now() + 3_600_000) * 1_000_000n),
  );
  const ofLibrary = all.filter((s) =>
    scope === undefined ? !s.scope.name.startsWith("support-bot") : s.scope.name === scope,
  );
  const cells = {} as Record<TableFact, Cell>;
  const missed: TableFact[] = [];
  for (const [fact, has] of Object.entries(TABLE_FACTS) as Array<[TableFact, (s: StoredSpan) => boolean]>) {
    // Read wherever a stored span carries it; a fact no span carries is missed only
    // where the library emits it.
    if (ofLibrary.some(has)) cells[fact] = "read";
    else if (!emits.includes(fact)) cells[fact] = "not emitted";
    else {
      cells[fact] = "missed";
      missed.push(fact);
    }
  }
  const row = { library, cells, missed };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${library.replace(/[^\w.-]+/g, "_")}.json`), JSON.stringify(row));
  return row;
}

/** The table of every row written in this run, as Markdown, with the totals. */
export function conformanceTable(): string | undefined {
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith(".json"));
  } catch {
    return undefined;
  }
  if (files.length === 0) return undefined;
  const rows = files
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), "utf8")) as TableRow)
    .sort((a, b) => a.library.localeCompare(b.library));
  const facts = Object.keys(TABLE_FACTS) as TableFact[];
  const lines = [
    `| library | ${facts.join(" | ")} |`,
    `| --- | ${facts.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.library} | ${facts.map((f) => r.cells[f]).join(" | ")} |`),
  ];
  const cells = rows.flatMap((r) => facts.map((f) => r.cells[f]));
  const emitted = cells.filter((c) => c !== "not emitted").length;
  const read = cells.filter((c) => c === "read").length;
  lines.push("", `read ${read} of ${emitted} cells where the library emits the fact (${cells.length} cells in all)`);
  return lines.join("\n");
}

export function clearConformanceRows(): void {
  rmSync(RESULTS_DIR, { recursive: true, force: true });
}
