import { describe, expect, it } from "vitest";
import { proseOf, worstCaseCandidates } from "../../../test/support/scanner-worst-cases";
import { MAX_SCANNED_CHARS, redactSecrets, scanSecrets } from "./scan";
import { SECRET_RULES } from "./rules";

/** Milliseconds to scan a text (a fresh copy each run: the clean-text cache must not answer); best of `runs`. */
function scanMs(text: string, runs = 1): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const fresh = `${text} ${i}${Math.random()}`;
    const started = performance.now();
    scanSecrets(fresh);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/**
 * A backtracking rule is quadratic or worse on its worst input: 20 KB of one took 0.7 s
 * before (so 1 MB would take half an hour). Each rule's worst candidate, found on small
 * inputs, must scan 1 MB within a budget that is a ratio to scanning 1 MB of ordinary
 * text in the same run. The bound is loose (linear rules measure 3 to 20 times the
 * plain scan) but any super-linear rule misses it by orders of magnitude.
 */
describe("secret scanner time is linear in the text", () => {
  const MB = 1_000_000;
  const plain = scanMs(proseOf(MB), 3);

  it.each(SECRET_RULES.map((r) => r.id))("%s: its worst case of 1 MB scans within 60x a plain scan", (id) => {
    let worst = "";
    let worstMs = -1;
    for (const text of worstCaseCandidates(id, 16_000)) {
      const ms = scanMs(text);
      if (ms > worstMs) [worst, worstMs] = [text, ms];
    }
    const candidate = worstCaseCandidates(id, MB)[worstCaseCandidates(id, 16_000).indexOf(worst)] as string;
    const ms = scanMs(candidate, 2);
    expect(ms / plain, `${id} on ${JSON.stringify(candidate.slice(0, 40))}: ${ms.toFixed(0)} ms`).toBeLessThan(60);
  });

  it("keeps the first MAX_SCANNED_CHARS of a longer string, redacted, with a marker, and never splits a surrogate pair", () => {
    const key = "AKIAIOSFODNN7EXAMPL2";
    const head = `${"x".repeat(MAX_SCANNED_CHARS - 100)} ${key} `;
    const text = `${head}${"y".repeat(MAX_SCANNED_CHARS - head.length - 1)}😀${"z".repeat(1000)}`;
    const out = redactSecrets(text);
    expect(out.findings.map((f) => f.rule)).toEqual(["aws-access-key-id"]);
    expect(out.text).not.toContain(key);
    expect(out.text).not.toContain("z");
    expect(out.text).toMatch(/y\[TRUNCATED: 1002 more characters, past what ingest scans for secrets\]$/);
    expect(out.text.isWellFormed()).toBe(true);
  });
});
