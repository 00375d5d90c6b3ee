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

/** A step of an agent or a database's record of one: its event time and facts. */
export interface TimedFacts {
  startTimeUnixNano: string;
  facts: SpanFacts;
}

/**
 * The agent's step that reports the database's record: the first of `reported` within
 * `windowNs` of the record's time that reports the same statement. One rule for the
 * audit judge (unreported_action) and the investigation views (matched, unreported,
 * discrepancy), so both say the same about the same pair.
 */
export function reportOf<T extends TimedFacts>(
  record: TimedFacts,
  reported: readonly T[],
  windowNs: bigint,
): T | undefined {
  const at = BigInt(record.startTimeUnixNano);
  return reported.find((r) => {
    const d = BigInt(r.startTimeUnixNano) - at;
    return d >= -windowNs && d <= windowNs && reportsSameStatement(r.facts, record.facts);
  });
}
