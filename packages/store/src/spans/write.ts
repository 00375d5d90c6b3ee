import type { ClickHouseClient } from "@clickhouse/client";
import { Readable } from "node:stream";
import { SPAN_INSERT_COLUMNS } from "./rows";

const INSERT_SPANS = `INSERT INTO spans (${SPAN_INSERT_COLUMNS.join(", ")}) FORMAT JSONCompactEachRow`;

/**
 * Inserts one pre-encoded batch (from `withBatchId`) as a single INSERT. A batch below
 * ClickHouse's max_insert_block_size (about a million rows) is written as one part,
 * so it is committed whole or not at all.
 */
export async function insertSpanBatch(client: ClickHouseClient, body: string): Promise<void> {
  const result = await client.exec({ query: INSERT_SPANS, values: Readable.from([Buffer.from(body)]) });
  result.stream.destroy();
}
