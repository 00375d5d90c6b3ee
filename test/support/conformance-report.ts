import { clearConformanceRows, conformanceTable } from "./conformance-table";

/**
 * Vitest global setup: starts each run with no conformance rows and prints, at its end,
 * the table of the libraries whose conformance files ran (see conformance-table.ts).
 */
export function setup(): () => void {
  clearConformanceRows();
  return () => {
    const table = conformanceTable();
    if (table !== undefined) process.stdout.write(`\nConformance (fact read per library, this run):\n${table}\n`);
  };
}
