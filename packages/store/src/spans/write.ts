import type { ClickHouseClient } from "@clickhouse/client";
import { Readable } from "node:stream";
import { SPAN_INSERT_COLUMNS } from "./rows";

// Objects and arrays in the JSON columns arrive as raw JSON and are stored as their text.
const INSERT_SPANS = `INSERT INTO spans (${SPAN_INSERT_COLUMNS.join(", ")})
SETTINGS input_format_json_read_objects_as_strings = 1, input_format_json_read_arrays_as_strings = 1
FORMAT JSONCompactEachRow`;

/**
 * Inserts one pre-encoded batch (lines from `encodeSpanRows`) as a single INSERT. A batch below
 * ClickHouse's max_insert_block_size (about a million rows) is written as one part,
 * so it is committed whole or not at all.
 */
export async function insertSpanBatch(client: ClickHouseClient, body: string): Promise<void> {
  // A string chunk, not a Buffer: the embedded connection concatenates text, so a Buffer
  // would cost two extra copies of a batch that can be tens of megabytes.
  const result = await client.exec({ query: INSERT_SPANS, values: Readable.from([body]) });
  result.stream.destroy();
}
