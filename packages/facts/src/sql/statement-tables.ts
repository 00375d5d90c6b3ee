import { init } from "@guanmingchiu/sqlparser-ts";
import { LRUCache } from "lru-cache";
import { approximateSqlTables } from "./approximate";
import type { SqlDialect, SqlTables } from "./model";
import { parseSqlTables } from "./parse-tables";

/** Statements longer than this are read by the tokenizer only: parsing them costs too much on the hot path. */
export const MAX_PARSED_SQL_LENGTH = 16 * 1024;

let ready: Promise<void> | undefined;
let parserLoaded = false;

/**
 * Loads the parser's WASM module once per process. Ingest awaits it at start; until it
 * has loaded, `sqlTables` answers from the tokenizer (marked approximate).
 */
export function initSqlParser(): Promise<void> {
  ready ??= init().then(() => {
    parserLoaded = true;
  });
  return ready;
}

// Agents repeat the same statements (parametrized queries), so parsing is cached. The
// parser costs ~50 µs a statement; a hit costs a map lookup. Bounded by size, not only
// count: 20,000 statements of any length could hold gigabytes, so each entry counts its
// text (UTF-16, two bytes a character) and longer statements are not kept at all.
const cache = new LRUCache<string, SqlTables>({
  max: 20_000,
  maxSize: 32 * 1024 * 1024,
  sizeCalculation: (_value, key) => 2 * key.length + 256,
  maxEntrySize: 256 * 1024,
});

/**
 * Every table a SQL text touches, its statement kinds and whether it is destructive.
 * Uses the parser for the span's dialect; when the parser fails (or is not loaded yet),
 * falls back to a conservative tokenizer and marks the result approximate. Never throws.
 * Results are cached and shared: treat them as read-only.
 *
 * @example
 * sqlTables("DELETE FROM users u USING banned b WHERE u.id = b.id", "postgresql")
 * // → { kinds: ["DELETE"], tables: ["users", "banned"], written: ["users"], destructive: "DELETE", approximate: false }
 */
export function sqlTables(text: string, dialect: SqlDialect): SqlTables {
  const key = `${dialect}\u0000${text}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let result: SqlTables;
  if (!parserLoaded || text.length > MAX_PARSED_SQL_LENGTH) {
    result = approximateSqlTables(text);
  } else {
    try {
      result = parseSqlTables(text, dialect);
      if (result.kinds.length === 0) result = approximateSqlTables(text);
    } catch {
      result = approximateSqlTables(text);
    }
  }
  if (parserLoaded) cache.set(key, result);
  return result;
}
