import { ConfigError, createLogger } from "@vigil/common";
import { loadVigilConfig, parseVigilConfig, readEnvironment } from "@vigil/config";
import { BaselineCache } from "@vigil/detect";
import { openStoreClient } from "@vigil/store";
import { DetectionLoop } from "./detection-loop";
import { BaselineBuilder } from "./baseline-builder";
import { deliveryOptions, startDelivery } from "./delivery";
import { BaselinesQueue, startBaselinesWorker, startDetectWorker } from "./queue";

// `npm run start:worker`: the detection worker as its own process, on a ClickHouse server
// (an embedded store belongs to the one process that opened it) and Redis.
try {
  const env = readEnvironment(process.env);
  const problems: string[] = [];
  if (env.redisUrl === undefined)
    problems.push("REDIS_URL: the separate worker consumes BullMQ queues and needs Redis");
  if (env.clickhouseUrl === undefined) {
    problems.push(
      "CLICKHOUSE_URL: the separate worker needs a ClickHouse server (the embedded store runs inside `npm start`)",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const logger = createLogger(env.logLevel, { process: "vigil-worker" });
  const { username, password } = env.clickhouseCredentials.worker;
  const client = openStoreClient({
    mode: "server",
    url: env.clickhouseUrl as string,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  });
  // The same YAML as the other services: policies, timezones, cold start, alert routing.
  const config = env.configPath === undefined ? parseVigilConfig("{}") : loadVigilConfig(env.configPath);
  const baselineCache = new BaselineCache(client);
  const loop = new DetectionLoop(client, logger, {
    agents: new Map(config.agents.map((a) => [a.id, a])),
    detection: config.detection,
    baselines: baselineCache,
  });
  const worker = startDetectWorker(env.redisUrl as string, loop, logger);
  const builder = new BaselineBuilder(client, logger, config.detection, baselineCache);
  const delivery = startDelivery(client, config, deliveryOptions(env, logger));
  const baselinesWorker = startBaselinesWorker(env.redisUrl as string, builder, logger);
  const baselinesQueue = new BaselinesQueue(env.redisUrl as string);
  await baselinesQueue.keepScheduled(env.baselineIntervalMs);
  loop.start(env.detectIntervalMs);
  void loop.trigger();
  logger.info("worker started", { queue: "vigil-detect", catchUpSeconds: env.detectIntervalMs / 1000 });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      void (async () => {
        await worker.close();
        await baselinesWorker.close();
        await baselinesQueue.close();
        await builder.stop();
        await delivery?.close();
        await loop.stop();
        await client.close();
        process.exit(0);
      })();
    });
  }
} catch (err) {
  process.stderr.write(
    `vigil-worker: ${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`,
  );
  process.exit(1);
}
