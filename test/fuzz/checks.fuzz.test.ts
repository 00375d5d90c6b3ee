import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCorpus, redactSecrets } from "@vigil/secrets";
import { executeReadOnlyQuery, openStoreClient, prepareReadOnlyQuery, runMigrations } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import { sqlCases } from "./mutate";

/**
 * The fixed-seed fuzz corpus for the checks that stand between hostile input and the
 * store: the SQL endpoint's read-only check (mutated reader statements, many carrying a
 * file() call somewhere, against the real embedded engine with a canary file) and the
 * secret scanner (mutated credentials and look-alikes).
 */
let dir: string;
let client: ClickHouseClient;
let canaryPath: string;
const canary = `canary-${randomBytes(12).toString("hex")}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-fuzz-"));
  canaryPath = join(dir, "canary.txt");
  writeFileSync(canaryPath, canary);
  client = openStoreClient({ mode: "embedded", dataDir: dir });
  await runMigrations(client);
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

const LIMITS = {
  maxRows: 100,
  maxExecutionSeconds: 2,
  maxMemoryBytes: 500_000_000,
  maxResultBytes: 1_000_000,
  maxReadBytes: 1_000_000_000,
};

describe("read-only SQL check fuzzing (fixed seed)", () => {
  it("600 mutated reader statements are each refused or run without reaching the canary file", async () => {
    const F = `'${canaryPath}'`;
    const seeds = [
      "SELECT agent_id, count() AS n FROM spans GROUP BY agent_id",
      `SELECT \`a\\\`\` FROM spans, file(${F})`,
      `SELECT 'a\\'' AS x, file(${F}) AS y`,
      `SELECT 1 /* ' */ , file(${F}) -- '`,
      `WITH t AS (SELECT file(${F}) AS f) SELECT * FROM t`,
      `SELECT $$ ' $$ AS a, file(${F})`,
      `SELECT count() OVER (PARTITION BY file(${F})) FROM spans`,
      "SELECT number FROM numbers(3) WHERE number IN (SELECT 1)",
      `SELECT * FROM spans WHERE name = 'x' UNION ALL SELECT file(${F})`,
      `SELECT arrayMap(x -> file(${F}), [1]) AS a`,
    ];
    const cases = sqlCases(20261202, seeds, 600).map((s, i) =>
      // Every third statement gets a file() call spliced in at a random-looking place.
      i % 3 === 2 ? `${s.slice(0, (i * 7919) % (s.length + 1))} file(${F}) ${s.slice((i * 7919) % (s.length + 1))}` : s,
    );
    const counts = { refused: 0, ran: 0, failedInEngine: 0 };
    for (const sql of cases) {
      const prepared = await prepareReadOnlyQuery(client, sql, LIMITS);
      if (!prepared.ok) {
        counts.refused++;
        continue;
      }
      const text = await executeReadOnlyQuery(client, prepared, LIMITS).then(
        (rows) => JSON.stringify(rows),
        (err: unknown) => {
          counts.failedInEngine++;
          return String(err);
        },
      );
      counts.ran++;
      expect(text, sql).not.toContain(canary);
    }
    console.log(`read-only SQL fuzz: ${cases.length} statements, ${JSON.stringify(counts)}`);
    expect(counts.refused).toBeGreaterThan(100);
    expect(counts.ran).toBeGreaterThan(20); // honest mutants still run
  });
});

describe("secret scanner fuzzing (fixed seed)", () => {
  it("2,000 mutated credentials and look-alikes: always an answer, well-formed, no found secret left in the text", () => {
    const texts = buildCorpus().map((l) => l.text);
    let found = 0;
    for (const text of sqlCases(20261202, texts, 2000)) {
      const out = redactSecrets(text);
      found += out.findings.length;
      expect(out.text.isWellFormed() || !text.isWellFormed()).toBe(true);
      // (Positions are in the scanned text, which differs from the input where escapes were decoded.)
      if (!text.includes("\\"))
        for (const f of out.findings) expect(out.text).not.toContain(text.slice(f.start, f.end));
    }
    expect(found).toBeGreaterThan(500);
  });
});
