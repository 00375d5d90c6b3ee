import { createLogger, runMain } from "@vigil/common";
import { loadVigilConfig, readEnvironment, serverConnection } from "@vigil/config";
import { applyRetention, federateShards, openStoreClient, runMigrations } from "@vigil/store";

// `npm run migrate`: applies the schema on a ClickHouse server as the migrate user (the
// only one with DDL rights), on a cluster when VIGIL_CLICKHOUSE_CLUSTER is set; run it
// before starting the separate services (a Kubernetes Job, a compose one-off). With
// VIGIL_CLICKHOUSE_SHARDS it instead makes this server the read side of shards that were
// each migrated on their own (one Distributed table per table).
await runMain("vigil-migrate", async () => {
  const env = readEnvironment(process.env);
  const logger = createLogger(env.logLevel, { process: "vigil-migrate" });
  const client = openStoreClient(serverConnection(env, "migrate", "migrate"));
  if (env.clickhouseShards !== undefined) {
    await federateShards(client, env.clickhouseShards);
    logger.info("shards federated", { cluster: env.clickhouseShards });
    await client.close();
    process.exit(0);
  }
  const applied = await runMigrations(client, {
    ...(env.clickhouseCluster === undefined ? {} : { cluster: env.clickhouseCluster }),
  });
  // Retention lives in the config; without one, tables keep everything.
  const config = env.configPath === undefined ? undefined : loadVigilConfig(env.configPath);
  await applyRetention(client, config?.retention ?? {}, {
    ...(env.clickhouseCluster === undefined ? {} : { cluster: env.clickhouseCluster }),
  });
  logger.info("migrations applied", {
    applied,
    cluster: env.clickhouseCluster ?? null,
    retention: config?.retention ?? {},
  });
  await client.close();
  process.exit(0);
});
