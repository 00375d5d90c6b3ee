import { join } from "node:path";
import type { Logger } from "@vigil/common";
import { createMetricsRegistry, startHttpServer, startOpsServer } from "@vigil/common";
import { approvalRequestSender } from "@vigil/alerting";
import { resolveSecret, serverConnection } from "@vigil/config";
import type { Environment, StoreRole, VigilConfig } from "@vigil/config";
import { DEFAULT_SQL_LIMITS, createApiApp } from "@vigil/service-api";
import { AuditJudge, BaselineCache, RecentBatches } from "@vigil/detect";
import { jobBus } from "@vigil/jobs";
import {
  BaselineBuilder,
  DetectionLoop,
  checkpointWitnesses,
  deliveryOptions,
  registerWorkerMetrics,
  startDelivery,
} from "@vigil/service-worker";
import type { DeliveryService } from "@vigil/service-worker";
import type { ApiDeps } from "@vigil/service-api";
import { createIngestService, registerIngestMetrics } from "@vigil/service-ingest";
import type { IngestService } from "@vigil/service-ingest";
import { Checkpointer, applyRetention, loadOrCreateSigningKey, openStoreClient, runMigrations } from "@vigil/store";
import type { ClickHouseClient, StorePlacement } from "@vigil/store";

export interface AllInOne {
  ingestPort: number;
  apiPort: number;
  /** The operations port (/healthz, /readyz, /metrics), when VIGIL_METRICS_PORT is set. */
  opsPort: number | undefined;
  client: ClickHouseClient;
  ingest: IngestService;
  checkpointer: Checkpointer;
  /** Signs the gate's decision chain (this ingest's decisions@<chain>). */
  decisionCheckpointer: Checkpointer;
  detection: DetectionLoop;
  /** Present when alert routing is configured. */
  delivery: DeliveryService | undefined;
  /** Drains in-flight requests, flushes pending rows, closes the store. */
  stop(): Promise<void>;
}

/**
 * The store placement the environment asks for: a server URL (as the given service's
 * own ClickHouse user), else embedded under the data dir.
 */
export function placementFor(env: Environment, role: StoreRole): StorePlacement {
  if (env.clickhouseUrl === undefined) return { mode: "embedded", dataDir: env.dataDir };
  return serverConnection(env, role, role);
}

/**
 * One client per service role. Embedded, they are one (chDB binds a single data
 * directory per process); on a server, each connects as its own least-privileged user.
 */
function openClients(env: Environment): Record<StoreRole, ClickHouseClient> {
  if (env.clickhouseUrl === undefined) {
    const client = openStoreClient(placementFor(env, "ingest"));
    return { migrate: client, ingest: client, worker: client, api: client, sql: client };
  }
  return {
    migrate: openStoreClient(placementFor(env, "migrate")),
    ingest: openStoreClient(placementFor(env, "ingest")),
    worker: openStoreClient(placementFor(env, "worker")),
    api: openStoreClient(placementFor(env, "api")),
    // The SQL endpoint's own user: SELECT on the readable tables and nothing else.
    sql: openStoreClient(placementFor(env, "sql")),
  };
}

/**
 * Every part of the all-in-one, built and wired, with no server listening yet: the store
 * migrated, the keys loaded, detection, baselines, delivery, ingest and the checkpoint
 * signers created, and the API's dependencies complete. `startAllInOne` starts it.
 */
interface AllInOneParts {
  clients: Record<StoreRole, ClickHouseClient>;
  ingest: IngestService;
  apiApp: ReturnType<typeof createApiApp>;
  checkpointer: Checkpointer;
  decisionCheckpointer: Checkpointer;
  detection: DetectionLoop;
  delivery: DeliveryService | undefined;
  registry: ReturnType<typeof createMetricsRegistry>;
  /** Stops every part (after the servers are closed), in dependency order. */
  stop(): Promise<void>;
}

/** The composition root of `npm start`: ingest, the worker's loops and the API on one store. */
async function composeAllInOne(env: Environment, config: VigilConfig, logger: Logger): Promise<AllInOneParts> {
  const clients = openClients(env);
  const placement = env.clickhouseCluster === undefined ? {} : { cluster: env.clickhouseCluster };
  const applied = await runMigrations(clients.migrate, placement);
  await applyRetention(clients.migrate, config.retention, placement);
  logger.info("store ready", {
    placement: env.clickhouseUrl === undefined ? "embedded" : "server",
    migrationsApplied: applied,
  });

  const key = loadOrCreateSigningKey(env.signingKeyFile, env.ledgerName, env.ledgerVerifierKey);
  // The confirmation gate's own key: approvals are signed with it, never with the ledger's.
  const approvalKey = loadOrCreateSigningKey(env.approvalKeyFile, "vigil-approvals");
  const pendingSender = approvalRequestSender(
    config,
    env.variables,
    env.publicUrl,
    logger.child({ service: "approvals" }),
  );
  const workerLogger = logger.child({ service: "worker" });
  const baselineCache = new BaselineCache(clients.worker);
  // Without Redis detection runs here alone: ingest hands it each committed batch's rows
  // rather than have it read them back (with Redis, another process may be the worker).
  // Detection and baselines are asked for through the job bus: BullMQ when REDIS_URL is
  // set (a worker consumes it here, or in `npm run start:worker`), else in this process.
  const bus = jobBus(env.redisUrl, logger);
  const recent = bus.inProcess ? new RecentBatches() : undefined;
  const detection = new DetectionLoop(clients.worker, workerLogger, {
    ...(recent === undefined ? {} : { recent }),
    agents: new Map(config.agents.map((a) => [a.id, a])),
    detection: config.detection,
    baselines: baselineCache,
    ...(config.audit.sources.length > 0 ? { audit: new AuditJudge(config.audit) } : {}),
  });
  const baselines = new BaselineBuilder(clients.worker, workerLogger, config.detection, baselineCache);
  await bus.serve(
    { detect: () => detection.trigger(), rebuildBaselines: () => baselines.rebuild() },
    { baselinesEveryMs: env.baselineIntervalMs },
  );
  // Alert delivery, when a route is configured: stored notifications, then BullMQ or in-process lanes.
  const delivery = startDelivery(clients.worker, config, deliveryOptions(env, logger));
  const ingest = await createIngestService({
    approvalKey: approvalKey.publicKey,
    ...(pendingSender === undefined ? {} : { onPendingDecision: pendingSender }),
    client: clients.ingest,
    config,
    logger,
    maxPendingRows: env.maxPendingRows,
    maxPendingBytes: env.maxPendingBytes,
    pipelineThreads: env.ingestThreads,
    chainId: env.chainId ?? "main",
    journalFile: join(env.dataDir, `ingest-${env.chainId ?? "main"}.journal`),
    auditPositionsDir: join(env.dataDir, "audit-positions"),
    handOffSpans: recent !== undefined,
    onBatchCommitted: (entry, spans) => {
      if (spans !== undefined) recent?.put(entry.batchId, spans);
      bus.wakeDetection({ chainId: entry.chainId, seq: entry.seq });
    },
  });
  detection.start(env.detectIntervalMs);
  // Checkpoints are stored with the worker's rights (on a server, ingest may not write
  // them): of the spans' chain, and of the gate's decision chain (decisions@<chain>).
  const [checkpointer, decisionCheckpointer] = [ingest.ledger, ingest.decisionLog].map((chain) => {
    const c = new Checkpointer(
      clients.worker,
      chain,
      key,
      `${env.ledgerName}/${chain.chainId}`,
      checkpointWitnesses(env, config),
    );
    c.start(env.checkpointIntervalMs, (err) =>
      logger.warn("checkpoint failed", { error: err instanceof Error ? err : String(err) }),
    );
    return c;
  }) as [Checkpointer, Checkpointer];

  // The embedded engine runs one statement at a time: a reader's query holds ingest's
  // writes for as long as it runs. So there it gets a short time slice (always: a long
  // query started while agents are quiet would hold the next write as long), and starts
  // only when no write is waiting (or after a second, so a reader is never starved).
  const embedded = env.clickhouseUrl === undefined;
  const writesFirst = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ingest.batcher.flush(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000))),
    ]).finally(() => clearTimeout(timer));
  };
  const apiDeps: ApiDeps = {
    client: clients.api,
    sqlClient: clients.sql,
    config,
    hostName: env.hostName,
    sqlLimits: {
      ...DEFAULT_SQL_LIMITS,
      ...(embedded && env.embeddedSqlSliceSeconds < env.sqlTimeoutSeconds
        ? { maxExecutionSeconds: env.embeddedSqlSliceSeconds, slicedForIngest: true }
        : { maxExecutionSeconds: env.sqlTimeoutSeconds }),
    },
    ...(embedded ? { writesFirst } : {}),
    logger: logger.child({ service: "api" }),
    slackSigningSecret: resolveSecret(config.approvals.slack_signing_secret, env.variables),
    approvalKey,
    baselines: bus,
    decisionLog: ingest.decisionLog,
    ledgerKey: { name: key.name, publicKey: key.publicKey },
    ...(env.checkpointWitnessFile === undefined ? {} : { witnessFile: env.checkpointWitnessFile }),
    checkpointer,
  };

  // The operations port (/healthz, /readyz, /metrics), when VIGIL_METRICS_PORT is set.
  const registry = createMetricsRegistry("vigil");
  registerIngestMetrics(registry, ingest);
  const workerMetrics = registerWorkerMetrics(registry, {
    client: clients.worker,
    detection,
    deliverer: delivery?.deliverer,
    receivers: delivery?.receivers ?? [],
    redisUrl: env.redisUrl,
  });
  return {
    clients,
    ingest,
    apiApp: createApiApp(apiDeps),
    checkpointer,
    decisionCheckpointer,
    detection,
    delivery,
    registry,
    stop: async () => {
      await workerMetrics.close();
      await ingest.drain();
      ingest.stop();
      await bus.close();
      await detection.stop();
      await baselines.stop();
      await delivery?.close();
      checkpointer.stop();
      decisionCheckpointer.stop();
      for (const c of [checkpointer, decisionCheckpointer])
        await c
          .checkpointIfGrown()
          .catch((err: unknown) => logger.warn("final checkpoint failed", { error: String(err) }));
      await Promise.all([...new Set(Object.values(clients))].map((c) => c.close()));
    },
  };
}

/**
 * Runs ingest, detection and the API in one process on one store, as `npm start` does:
 * everything is composed first (the store migrated), then the servers listen.
 */
export async function startAllInOne(env: Environment, config: VigilConfig, logger: Logger): Promise<AllInOne> {
  const parts = await composeAllInOne(env, config, logger);
  const client = parts.clients.ingest;
  const api = await startHttpServer(parts.apiApp, env.apiPort, env.host);
  const ingestServer = await startHttpServer(parts.ingest.app, env.ingestPort, env.host);
  const ops =
    env.metricsPort === undefined
      ? undefined
      : await startOpsServer(env.metricsPort, env.host, parts.registry, async () => ({
          ready: (await client.ping()).success,
          reason: "the store does not answer",
        }));
  logger.info("listening", {
    ingestPort: ingestServer.port,
    apiPort: api.port,
    opsPort: ops?.port ?? null,
    ingestThreads: env.ingestThreads,
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all([ingestServer.close(), api.close(), ops?.close()]);
      await parts.stop();
      logger.info("stopped");
    })();
    return stopping;
  };
  return {
    ingestPort: ingestServer.port,
    apiPort: api.port,
    opsPort: ops?.port,
    client,
    ingest: parts.ingest,
    checkpointer: parts.checkpointer,
    decisionCheckpointer: parts.decisionCheckpointer,
    detection: parts.detection,
    delivery: parts.delivery,
    stop,
  };
}
