import type { ClickHouseClient } from "@clickhouse/client";
import { Readable } from "node:stream";
import { embeddedEngine } from "../client";
import { SPAN_INSERT_COLUMNS } from "./rows";

// Objects and arrays in the JSON columns arrive as raw JSON and are stored as their text.
const INSERT_SETTINGS = { input_format_json_read_objects_as_strings: 1, input_format_json_read_arrays_as_strings: 1 };
const INSERT_SPANS = `INSERT INTO spans (${SPAN_INSERT_COLUMNS.join(", ")})
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
 * copying it into a string first; on a server, as the HTTP request body.
 */
export async function insertSpanBatch(client: ClickHouseClient, rows: string | readonly Buffer[]): Promise<void> {
  const engine = embeddedEngine(client);
  if (engine !== undefined) {
    const values =
      typeof rows === "string" ? Buffer.from(rows, "utf8") : rows.length === 1 ? rows[0] : Buffer.concat(rows);
    if (values === undefined || values.length === 0) return;
    await engine.rawInsert({
      table: "spans",
      columns: SPAN_INSERT_COLUMNS,
      values,
      format: "JSONCompactEachRow",
      settings: INSERT_SETTINGS,
    });
    return;
  }
  const result = await client.exec({
    query: INSERT_SPANS,
    values: Readable.from(typeof rows === "string" ? [rows] : rows),
  });
  result.stream.destroy();
}
