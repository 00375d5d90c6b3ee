import type { ClickHouseClient } from "@clickhouse/client";
import { SPAN_INSERT_COLUMNS, SPAN_READ_BACK_EXPRESSIONS, formatSpanRow } from "../spans/rows";
import { sortLeaves } from "./entry";
import { leafHash } from "./merkle";

const BATCH_ID = SPAN_INSERT_COLUMNS.indexOf("batch_id");
const TRACE_ID = SPAN_INSERT_COLUMNS.indexOf("trace_id");
const SPAN_ID = SPAN_INSERT_COLUMNS.indexOf("span_id");

/** One stored row as its canonical line (what the ledger hashed at ingest) and leaf hash. */
export interface StoredLeaf {
  traceId: string;
  spanId: string;
  line: string;
  leaf: Buffer;
}

/**
 * Reads the rows of some batches back and recomputes each row's canonical line and leaf
 * hash, grouped by batch with leaves sorted (the order the batch root was built in).
 */
export async function readBatchLeaves(
  client: ClickHouseClient,
  batchIds: readonly string[],
): Promise<Map<string, StoredLeaf[]>> {
  const byBatch = new Map<string, StoredLeaf[]>();
  if (batchIds.length === 0) return byBatch;
  const rs = await client.query({
    query: `SELECT ${SPAN_READ_BACK_EXPRESSIONS.join(", ")} FROM spans WHERE batch_id IN {batchIds:Array(UUID)}`,
    query_params: { batchIds },
    format: "JSONCompactEachRow",
  });
  for (const values of await rs.json<unknown[]>()) {
    const line = formatSpanRow(values);
    const batchId = values[BATCH_ID] as string;
    let list = byBatch.get(batchId);
    if (list === undefined) byBatch.set(batchId, (list = []));
    list.push({ traceId: values[TRACE_ID] as string, spanId: values[SPAN_ID] as string, line, leaf: leafHash(line) });
  }
  for (const list of byBatch.values()) list.sort((a, b) => Buffer.compare(a.leaf, b.leaf));
  return byBatch;
}

/** Sorted leaf hashes of one batch's stored rows. */
export function leavesOf(rows: readonly StoredLeaf[]): Buffer[] {
  return sortLeaves(rows.map((r) => r.leaf));
}
