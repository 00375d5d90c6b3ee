import { createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { approvalRequestSender } from "@vigil/alerting";
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  runMain,
  startHttpServer,
  startOpsServer,
} from "@vigil/common";
import { loadVigilConfig, readEnvironment, serverConnection } from "@vigil/config";
import { jobBus } from "@vigil/jobs";
import { openStoreClient } from "@vigil/store";
import { registerIngestMetrics } from "./metrics";
import { createIngestService } from "./service";

// `npm run start:ingest`: the OTLP receiver as its own process (replicas behind a load
// balancer, each with its own ledger chain), on a ClickHouse server, as the ingest user.
// It wakes detection through Redis when REDIS_URL is set. It holds no signing key: the
// worker signs checkpoints of every chain from what is stored.
await runMain("vigil-ingest", async () => {
  const env = readEnvironment(process.env);
  if (env.configPath === undefined)
    throw new ConfigError(["VIGIL_CONFIG: the separate ingest needs the config file (agents and tokens)"]);
  const config = loadVigilConfig(env.configPath);
  const logger = createLogger(env.logLevel, { process: "vigil-ingest" });
  const client = openStoreClient(serverConnection(env, "ingest", "ingest"));
  // Detection is woken through Redis when REDIS_URL is set; else the worker catches up on its timer.
  const bus = jobBus(env.redisUrl, logger);
  const chainId = env.chainId ?? env.hostName;
  // Approval tokens are checked with the public half only: the API signs them (and may
  // create the key after ingest starts, so the file is read when first needed).
  let approvalPublic: KeyObject | undefined;
  const approvalKey = () =>
    (approvalPublic ??= existsSync(env.approvalPublicKeyFile)
      ? createPublicKey(readFileSync(env.approvalPublicKeyFile))
      : undefined);
  if (approvalKey() === undefined)
    logger.warn("no approval public key yet: approval tokens on spans are unverified until it appears", {
      file: env.approvalPublicKeyFile,
    });
  const pendingSender = approvalRequestSender(config, env.variables, env.publicUrl, logger);
  const ingest = await createIngestService({
    approvalKey,
    ...(pendingSender === undefined ? {} : { onPendingDecision: pendingSender }),
    client,
    config,
    logger,
    chainId,
    maxPendingRows: env.maxPendingRows,
    maxPendingBytes: env.maxPendingBytes,
    pipelineThreads: env.ingestThreads,
    // One journal per chain, in ingest's data directory (a volume that survives restarts).
    journalFile: join(env.dataDir, `ingest-${chainId.replace(/[^\w.-]/g, "_")}.journal`),
    auditPositionsDir: join(env.dataDir, "audit-positions"),
    onBatchCommitted: (entry) => bus.wakeDetection({ chainId: entry.chainId, seq: entry.seq }),
  });
  const registry = createMetricsRegistry("ingest");
  registerIngestMetrics(registry, ingest);
  const ops = await startOpsServer(env.metricsPort ?? 9464, env.host, registry, async () => ({
    ready: (await client.ping()).success,
    reason: "the store does not answer",
  }));
  const server = await startHttpServer(ingest.app, env.ingestPort, env.host);
  logger.info("listening", { ingestPort: server.port, opsPort: ops.port, chainId });
  return {
    stop: async () => {
      await server.close();
      await ingest.drain();
      ingest.stop();
      await bus.close();
      await ops.close();
      await client.close();
    },
  };
});
