import { createClient } from "@clickhouse/client";
import type { ClickHouseClient } from "@clickhouse/client";

type ClientOptions = NonNullable<Parameters<typeof createClient>[0]>;
import { createChdbConnection } from "chdb/connection";
import type { ChdbExtension } from "chdb/connection";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

/** The embedded engine behind a client opened by openStoreClient, for its chDB-only calls. */
const embeddedEngines = new WeakMap<ClickHouseClient, ChdbExtension>();

/**
 * The chDB extension of an embedded client (raw inserts that hand a Buffer to the engine
 * without copying it through a string), or undefined on a server.
 */
export function embeddedEngine(client: ClickHouseClient): ChdbExtension | undefined {
  return embeddedEngines.get(client);
}

/** Where the store lives: in this process (chDB) or on a ClickHouse server. */
export type StorePlacement =
  { mode: "embedded"; dataDir: string } | { mode: "server"; url: string; username?: string; password?: string };

/**
 * Opens the one ClickHouse client every Vigil component uses. Embedded mode hands
 * `@clickhouse/client` a chDB connection (ClickHouse in-process, data under
 * `<dataDir>/clickhouse`); server mode gives it a URL. Everything above this function
 * is the same SQL in both placements.
 *
 * chDB binds one data directory per process, so call this once per process.
 *
 * @example
 * const client = openStoreClient({ mode: "embedded", dataDir: "./data" });
 */
export function openStoreClient(placement: StorePlacement): ClickHouseClient {
  if (placement.mode === "embedded") {
    const path = resolve(placement.dataDir, "clickhouse");
    mkdirSync(path, { recursive: true });
    // chdb types its connection against @clickhouse/client-common, which the client now
    // bundles under its own declarations: the shapes are the same, the names differ.
    const chdb = createChdbConnection({ path });
    const connection = chdb as unknown as NonNullable<ClientOptions["connection"]>;
    const client = createClient({ connection });
    embeddedEngines.set(client, chdb.chdb);
    return client;
  }
  return createClient({
    url: placement.url,
    ...(placement.username === undefined ? {} : { username: placement.username }),
    ...(placement.password === undefined ? {} : { password: placement.password }),
    clickhouse_settings: {
      date_time_input_format: "best_effort",
      // Over Distributed tables (a cluster, or a reader over shards) an IN or JOIN subquery
      // runs once across all shards and its result goes to each: correct whatever the
      // subquery's table is sharded by. No effect on a single server.
      distributed_product_mode: "global",
      // An INSERT into a Distributed table answers once the shard has the rows, not
      // when they are queued on this node: an acknowledged write is a stored write.
      distributed_foreground_insert: 1,
    },
  });
}

export type { ClickHouseClient };
