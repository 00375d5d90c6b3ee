import type { SpanFacts } from "./model";

/**
 * Whether the facts of an agent's span report the statement a database's audit record
 * is about: the same operation and, where the record names tables, one table in common.
 * Table names compare by their last part, unquoted, in lower case ("public.Orders" is
 * "orders"): agents write names as their code does, pgAudit schema-qualifies them.
 */
export function reportsSameStatement(reported: SpanFacts, observed: SpanFacts): boolean {
  const operation = (observed.dbOperation || observed.dbStatementKinds[0] || "").toUpperCase();
  const reportedOps = new Set([reported.dbOperation.toUpperCase(), ...reported.dbStatementKinds]);
  reportedOps.delete("");
  if (operation !== "" && !reportedOps.has(operation)) return false;
  if (observed.dbTables.length === 0) return reportedOps.size > 0 && reported.dbSystem !== "";
  const reportedTables = new Set(reported.dbTables.map(unqualifiedTable));
  return observed.dbTables.some((t) => reportedTables.has(unqualifiedTable(t)));
}

export function unqualifiedTable(table: string): string {
  return (table.split(".").at(-1) ?? table).replace(/^["`]|["`]$/g, "").toLowerCase();
}
