import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * Every environment variable Vigil reads (all of them in packages/config/src/environment.ts,
 * the one module that reads the environment) has a row in the README's configuration table.
 */
const root = new URL("../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");

describe("the README's configuration table", () => {
  it("names every variable the environment module reads", () => {
    const source = read("packages/config/src/environment.ts");
    const names = new Set(source.match(/\b(?:VIGIL_[A-Z_]+[A-Z]|CLICKHOUSE_[A-Z_]*[A-Z]|REDIS_URL|HOSTNAME)\b/g) ?? []);
    expect(names.size).toBeGreaterThan(30);
    const table = read("README.md")
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .join("\n");
    const missing = [...names].filter((name) => !table.includes(name));
    expect(missing).toEqual([]);
  });
});
