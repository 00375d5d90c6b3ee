import { describe, expect, it } from "vitest";
import { redactSecrets } from "@vigil/secrets";
import { FORMATS, generator, lookAlikes, place } from "../corpora/credential-formats";

/**
 * Redaction measured on a corpus built from the issuers' own descriptions of their
 * credential formats (test/corpora/credential-formats.ts), not from Vigil's rules: every
 * format in every context agents put credentials in, and look-alikes that must survive.
 * A secret counts as caught when no run of it longer than its public prefix plus four
 * characters is left in the redacted text.
 */
const SAMPLES_PER_FORMAT = 30;
const g = generator(20261202);

function leaked(secret: string, prefix: number, out: string): boolean {
  const window = Math.min(secret.length, prefix + 5);
  for (let i = 0; i + window <= secret.length; i++) if (out.includes(secret.slice(i, i + window))) return true;
  return false;
}

describe("redaction on an external credential corpus", () => {
  it("catches at least 95 % of the secrets and keeps at least 90 % of the look-alikes, reported per family", () => {
    const byFamily = new Map<string, { total: number; caught: number; missed: string[] }>();
    for (const f of FORMATS) {
      const row = byFamily.get(f.family) ?? { total: 0, caught: 0, missed: [] };
      for (let i = 0; i < SAMPLES_PER_FORMAT; i++) {
        const secret = f.make(g);
        const text = place(f, secret, i, f.names[i % f.names.length] as string);
        row.total++;
        if (leaked(secret, f.publicPrefix ?? 0, redactSecrets(text).text)) row.missed.push(`${f.format}: ${text}`);
        else row.caught++;
      }
      byFamily.set(f.family, row);
    }
    const harmless = lookAlikes(g);
    const redacted = harmless.filter((t) => redactSecrets(t).findings.length > 0);
    const total = [...byFamily.values()].reduce((a, r) => a + r.total, 0);
    const caught = [...byFamily.values()].reduce((a, r) => a + r.caught, 0);
    const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
    const lines = [...byFamily].map(
      ([family, r]) => `  ${family.padEnd(24)} ${pct(r.caught, r.total).padStart(8)} of ${r.total}`,
    );
    process.stdout.write(
      `redaction recall on ${FORMATS.length} formats in ${byFamily.size} families: ${pct(caught, total)} of ${total} secrets; ` +
        `look-alikes kept ${pct(harmless.length - redacted.length, harmless.length)} of ${harmless.length}\n${lines.join("\n")}\n` +
        [...byFamily.values()]
          .flatMap((r) => r.missed.slice(0, 2))
          .map((m) => `  missed: ${m}`)
          .join("\n") +
        `\n${redacted
          .slice(0, 10)
          .map((t) => `  redacted look-alike: ${t}`)
          .join("\n")}\n`,
    );
    expect(caught / total).toBeGreaterThanOrEqual(0.95);
    expect((harmless.length - redacted.length) / harmless.length).toBeGreaterThanOrEqual(0.9);
    // No family is left behind by the total.
    for (const [family, r] of byFamily) expect(r.caught / r.total, family).toBeGreaterThanOrEqual(0.9);
  });
});
