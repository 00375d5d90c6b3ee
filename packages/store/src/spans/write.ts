import type { ClickHouseClient } from "@clickhouse/client";
import { Readable } from "node:stream";
import { embeddedEngine } from "../client";
import { SPAN_INSERT_COLUMNS } from "./rows";

// Objects and arrays in the JSON columns arrive as raw JSON and are stored as their text.
const INSERT_SETTINGS = { input_format_json_read_objects_as_strings: 1, input_format_json_read_arrays_as_strings: 1 };
const insertInto = (table: string): string => `INSERT INTO ${table} (${SPAN_INSERT_COLUMNS.join(", ")})
SETTINGS ${Object.entries(INSERT_SETTINGS)
  .map(([k, v]) => `${k} = ${v}`)
  .join(", ")}
FORMAT JSONCompactEachRow`;

/**
 * Inserts one pre-encoded batch (lines from `encodeSpanRows`, as text or as UTF-8 chunks)
 * as a single INSERT. A batch below ClickHouse's max_insert_block_size (about a million
 * rows) is written as one part, so it is committed whole or not at all.
 *
 * On the embedded engine the bytes go to chDB's raw insert, which takes a Buffer without
 * copying it into a string first; on a server, as the HTTP request body. `table` is
 * another table of the spans table's columns (the bench's bare copy); never input.
 */
export async function insertSpanBatch(
  client: ClickHouseClient,
  rows: string | readonly Buffer[],
  table: "spans" | "spans_bare" = "spans",
): Promise<void> {
  const engine = embeddedEngine(client);
  if (engine !== undefined) {
    const values =
      typeof rows === "string" ? Buffer.from(rows, "utf8") : rows.length === 1 ? rows[0] : Buffer.concat(rows);
    if (values === undefined || values.length === 0) return;
    await engine.rawInsert({
      table,
      columns: SPAN_INSERT_COLUMNS,
      values,
      format: "JSONCompactEachRow",
      settings: INSERT_SETTINGS,
    });
    return;
  }
  const result = await client.exec({
    query: insertInto(table),
    values: Readable.from(typeof rows === "string" ? [rows] : rows),
  });
  result.stream.destroy();
}

/**
 * ClickHouse error codes that mean the engine read a value in the rows and refused it
 * (not that the store is down, full or busy): parse errors, bad escapes, values out of
 * a type's range. Only these make retrying each request's rows alone worthwhile; an
 * outage would fail every retry too, and TOO_MANY_PARTS would be made worse by them.
 */
const ROW_REJECTION_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
]);

/** Whether an INSERT failed because the engine refused a value in its rows. */
export function isRowRejection(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // @clickhouse/client's ClickHouseError carries the code; chDB only the message.
  const code = (err as { code?: unknown }).code;
  const parsed =
    typeof code === "string" && /^\d+$/.test(code) ? Number(code) : Number(/\bCode: (\d+)\./.exec(err.message)?.[1]);
  return ROW_REJECTION_CODES.has(parsed);
}
