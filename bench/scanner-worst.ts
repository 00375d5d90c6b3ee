/**
 * The secret scanner on each rule's worst-case input: `npx tsx bench/scanner-worst.ts [chars]`.
 * Prints, per rule, the slowest candidate's time beside a scan of ordinary text of the
 * same length (the ratio is what the linear-time test bounds).
 */
import { SECRET_RULES, scanSecrets } from "@vigil/secrets";
import { proseOf, worstCaseCandidates } from "../test/support/scanner-worst-cases";

const size = Number(process.argv[2] ?? 1_000_000);
const timeScan = (text: string): number => {
  const started = performance.now();
  scanSecrets(`${text} ${Math.random()}`); // a new text each time: the clean-text cache must not answer
  return performance.now() - started;
};
const prose = Math.min(timeScan(proseOf(size)), timeScan(proseOf(size)), timeScan(proseOf(size)));
console.log(`ordinary text, ${size} chars: ${prose.toFixed(1)} ms`);
const rows: Array<[string, number, string]> = [];
for (const rule of SECRET_RULES) {
  let worst = 0;
  let which = "";
  for (const text of worstCaseCandidates(rule.id, size)) {
    const ms = timeScan(text);
    if (ms > worst) [worst, which] = [ms, JSON.stringify(text.slice(0, 32))];
  }
  rows.push([rule.id, worst, which]);
}
rows.sort((a, b) => b[1] - a[1]);
for (const [id, ms, which] of rows)
  console.log(`${id.padEnd(32)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / prose).toFixed(1).padStart(6)}x  ${which}`);
