import { createLogger, createMetricsRegistry, runMain, startOpsServer } from "@vigil/common";
import { ConfigError } from "@vigil/common";
import { loadVigilConfig, parseVigilConfig, readEnvironment, serverConnection } from "@vigil/config";
import { AuditJudge, BaselineCache } from "@vigil/detect";
import { loadOrCreateSigningKey, openStoreClient } from "@vigil/store";
import { CheckpointSigner, checkpointWitnesses } from "./checkpoint-signer";
import { BaselineBuilder } from "./baseline-builder";
import { DetectionLoop } from "./detection-loop";
import { deliveryOptions, startDelivery } from "./delivery";
import { registerWorkerMetrics } from "./metrics";
import { jobBus } from "@vigil/jobs";

// `npm run start:worker`: detection, baselines, delivery and checkpoint signing as their
// own process, on a ClickHouse server (as the worker user) and Redis. One worker runs
// the alert dispatcher; more replicas add detection and delivery capacity. The ledger's
// signing key lives here, never in the agent-facing ingest.
await runMain("vigil-worker", async () => {
  const env = readEnvironment(process.env);
  if (env.redisUrl === undefined)
    throw new ConfigError(["REDIS_URL: the separate worker consumes BullMQ queues and needs Redis"]);
  const redisUrl = env.redisUrl;
  const logger = createLogger(env.logLevel, { process: "vigil-worker" });
  const client = openStoreClient(serverConnection(env, "worker", "the worker"));
  // The same YAML as the other services: policies, timezones, cold start, alert routing.
  const config = env.configPath === undefined ? parseVigilConfig("{}") : loadVigilConfig(env.configPath);
  const baselineCache = new BaselineCache(client);
  const loop = new DetectionLoop(client, logger, {
    agents: new Map(config.agents.map((a) => [a.id, a])),
    detection: config.detection,
    baselines: baselineCache,
    ...(config.audit.sources.length > 0 ? { audit: new AuditJudge(config.audit) } : {}),
  });
  const builder = new BaselineBuilder(client, logger, config.detection, baselineCache);
  const bus = jobBus(redisUrl, logger);
  await bus.serve(
    { detect: () => loop.trigger(), rebuildBaselines: () => builder.rebuild() },
    { baselinesEveryMs: env.baselineIntervalMs },
  );
  const delivery = startDelivery(client, config, deliveryOptions(env, logger));
  loop.start(env.detectIntervalMs);
  void loop.trigger();
  const key = loadOrCreateSigningKey(env.signingKeyFile, env.ledgerName, env.ledgerVerifierKey);
  const signer = new CheckpointSigner(client, key, env.ledgerName, checkpointWitnesses(env, config), logger);
  signer.start(env.checkpointIntervalMs);
  const registry = createMetricsRegistry("worker");
  const metrics = registerWorkerMetrics(registry, {
    client,
    detection: loop,
    deliverer: delivery?.deliverer,
    receivers: delivery?.receivers ?? [],
    redisUrl,
  });
  const ops = await startOpsServer(env.metricsPort ?? 9464, env.host, registry, async () => ({
    ready: (await client.ping()).success,
    reason: "the store does not answer",
  }));
  logger.info("worker started", { opsPort: ops.port, catchUpSeconds: env.detectIntervalMs / 1000 });
  return {
    stop: async () => {
      await signer.stop();
      await bus.close();
      await builder.stop();
      await delivery?.close();
      await loop.stop();
      await metrics.close();
      await ops.close();
      await client.close();
    },
  };
});
