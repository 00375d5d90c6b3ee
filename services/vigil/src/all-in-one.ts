import { join } from "node:path";
import type { Logger } from "@vigil/common";
import { createMetricsRegistry, startHttpServer, startOpsServer } from "@vigil/common";
import { approvalRequestSender } from "@vigil/alerting";
import { resolveSecret, serverConnection } from "@vigil/config";
import type { Environment, StoreRole, VigilConfig } from "@vigil/config";
import { DEFAULT_SQL_LIMITS, createApiApp } from "@vigil/service-api";
import { AuditJudge, BaselineCache, RecentBatches } from "@vigil/detect";
import { BaselinesQueue, DetectQueue } from "@vigil/jobs";
import {
  BaselineBuilder,
  DetectionLoop,
  checkpointWitnesses,
  startBaselinesWorker,
  deliveryOptions,
  registerWorkerMetrics,
  startDelivery,
  startDetectWorker,
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
 * Runs ingest and the API in one process on one store, as `npm start` does. The API
 * listens first so `/readyz` can say "not ready" while migrations run.
 */
export async function startAllInOne(env: Environment, config: VigilConfig, logger: Logger): Promise<AllInOne> {
  const clients = openClients(env);
  const client = clients.ingest;
  let migrated = false;
  // The API answers /readyz (not ready) while migrations run; the integrity parts of its
  // dependencies are filled in once the ledger is open.
  // The embedded engine runs one statement at a time: a reader's query holds ingest's
  // writes for as long as it runs. So there it gets a short time slice (always: a long
  // query started while agents are quiet would hold the next write as long), and starts
  // only when no write is waiting (or after a second, so a reader is never starved).
  const embedded = env.clickhouseUrl === undefined;
  const lane: { batcher?: { flush(): Promise<void> } } = {};
  const writesFirst = async (): Promise<void> => {
    const ingestBatcher = lane.batcher;
    if (ingestBatcher === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ingestBatcher.flush(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000))),
    ]).finally(() => clearTimeout(timer));
  };
  const apiDeps: ApiDeps = {
    client: clients.api,
    sqlClient: clients.sql,
    config,
    migrated: () => migrated,
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
  };
  const api = await startHttpServer(createApiApp(apiDeps), env.apiPort, env.host);
  const applied = await runMigrations(clients.migrate, {
    ...(env.clickhouseCluster === undefined ? {} : { cluster: env.clickhouseCluster }),
  });
  await applyRetention(clients.migrate, config.retention, {
    ...(env.clickhouseCluster === undefined ? {} : { cluster: env.clickhouseCluster }),
  });
  migrated = true;
  logger.info("store ready", {
    placement: env.clickhouseUrl === undefined ? "embedded" : "server",
    migrationsApplied: applied,
  });

  const key = loadOrCreateSigningKey(env.signingKeyFile, env.ledgerName, env.ledgerVerifierKey);
  // The confirmation gate's own key: approvals are signed with it, never with the ledger's.
  const approvalKey = loadOrCreateSigningKey(env.approvalKeyFile, "vigil-approvals");
  apiDeps.approvalKey = approvalKey;
  const pendingSender = approvalRequestSender(
    config,
    env.variables,
    env.publicUrl,
    logger.child({ service: "approvals" }),
  );
  // Detection: woken after each committed batch, through BullMQ when REDIS_URL is set
  // (a worker consumes it here, or in `npm run start:worker`), else directly.
  const workerLogger = logger.child({ service: "worker" });
  const baselineCache = new BaselineCache(clients.worker);
  // Without Redis detection runs here alone: ingest hands it each committed batch's rows
  // rather than have it read them back (with Redis, another process may be the worker).
  const recent = env.redisUrl === undefined ? new RecentBatches() : undefined;
  const detection = new DetectionLoop(clients.worker, workerLogger, {
    ...(recent === undefined ? {} : { recent }),
    agents: new Map(config.agents.map((a) => [a.id, a])),
    detection: config.detection,
    baselines: baselineCache,
    ...(config.audit.sources.length > 0 ? { audit: new AuditJudge(config.audit) } : {}),
  });
  const baselines = new BaselineBuilder(clients.worker, workerLogger, config.detection, baselineCache);
  const queue = env.redisUrl === undefined ? undefined : new DetectQueue(env.redisUrl, logger);
  const queueWorker = env.redisUrl === undefined ? undefined : startDetectWorker(env.redisUrl, detection, logger);
  // Baselines: rebuilt on a timer here, or by a BullMQ job scheduler when REDIS_URL is set.
  const baselinesQueue = env.redisUrl === undefined ? undefined : new BaselinesQueue(env.redisUrl);
  const baselinesWorker =
    env.redisUrl === undefined ? undefined : startBaselinesWorker(env.redisUrl, baselines, workerLogger);
  if (baselinesQueue === undefined) {
    baselines.start(env.baselineIntervalMs);
    void baselines.rebuild().catch(() => undefined); // the timer retries and logs
  } else
    await baselinesQueue
      .keepScheduled(env.baselineIntervalMs)
      .catch((err: unknown) => logger.warn("baseline schedule not set; Redis did not answer", { error: String(err) }));
  apiDeps.baselines = {
    rebuild: async () =>
      baselinesQueue === undefined
        ? { status: "done", ...(await baselines.rebuild()) }
        : { status: "queued", jobId: await baselinesQueue.request() },
  };
  // Alert delivery, when a route is configured: stored notifications, then BullMQ or in-process lanes.
  const delivery = startDelivery(clients.worker, config, deliveryOptions(env, logger));
  const ingest = await createIngestService({
    approvalKey: approvalKey.publicKey,
    ...(pendingSender === undefined ? {} : { onPendingDecision: pendingSender }),
    client,
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
      if (queue === undefined) void detection.trigger();
      else queue.notify({ chainId: entry.chainId, seq: entry.seq });
    },
  });
  detection.start(env.detectIntervalMs);
  const witnessFile = env.checkpointWitnessFile;
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
  apiDeps.decisionLog = ingest.decisionLog;
  apiDeps.ledgerKey = { name: key.name, publicKey: key.publicKey };
  if (witnessFile !== undefined) apiDeps.witnessFile = witnessFile;
  apiDeps.checkpointer = checkpointer;
  lane.batcher = ingest.batcher;
  const ingestServer = await startHttpServer(ingest.app, env.ingestPort, env.host);
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
  const ops =
    env.metricsPort === undefined
      ? undefined
      : await startOpsServer(env.metricsPort, env.host, registry, async () => ({
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
      await workerMetrics.close();
      await ingest.drain();
      ingest.stop();
      await detection.stop();
      await baselines.stop();
      await delivery?.close();
      await queueWorker?.close();
      await queue?.close();
      await baselinesWorker?.close();
      await baselinesQueue?.close();
      checkpointer.stop();
      decisionCheckpointer.stop();
      for (const c of [checkpointer, decisionCheckpointer])
        await c
          .checkpointIfGrown()
          .catch((err: unknown) => logger.warn("final checkpoint failed", { error: String(err) }));
      await Promise.all([...new Set(Object.values(clients))].map((c) => c.close()));
      logger.info("stopped");
    })();
    return stopping;
  };
  return {
    ingestPort: ingestServer.port,
    apiPort: api.port,
    opsPort: ops?.port,
    client,
    ingest,
    checkpointer,
    decisionCheckpointer,
    detection,
    delivery,
    stop,
  };
}
