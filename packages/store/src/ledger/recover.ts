import type { ClickHouseClient } from "@clickhouse/client";
import type { Ledger } from "./ledger";
import { leavesOf, readBatchLeaves } from "./read-back";

/**
 * Ledgers the batches a crash left stored but not in the ledger: ingest was killed
 * between a batch's INSERT and its ledger entry. Their requests were never acknowledged,
 * and their retries are answered from the stored digests, so the rows are the ones the
 * agents sent; without an entry, verify would report them as rows outside the ledger.
 *
 * Only batches received before `receivedBeforeMs` are taken (the process's start, less
 * a margin), so a batch another live ingest replica is about to ledger is left to it.
 * Returns the batches ledgered.
 */
export async function ledgerOrphanBatches(
  client: ClickHouseClient,
  ledger: Ledger,
  receivedBeforeMs: number,
): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT toString(batch_id) AS b, toString(toUnixTimestamp64Milli(max(received_at))) AS last_ms FROM spans
            WHERE received_at >= (SELECT ifNull(max(created_at), toDateTime64(0, 3, 'UTC')) - INTERVAL 1 HOUR FROM ledger)
              AND received_at < fromUnixTimestamp64Milli({before:Int64}, 'UTC')
              AND batch_id NOT IN (SELECT batch_id FROM ledger)
            GROUP BY batch_id ORDER BY last_ms, b`,
    query_params: { before: receivedBeforeMs },
    format: "JSONEachRow",
  });
  const orphans = (await rs.json<{ b: string }>()).map((r) => r.b);
  for (const batchId of orphans) {
    const rows = (await readBatchLeaves(client, [batchId])).get(batchId) ?? [];
    await ledger.append(batchId, leavesOf(rows));
  }
  return orphans;
}
