import type { Logger } from "@vigil/common";
import type { VigilConfig } from "@vigil/config";
import { initSqlParser } from "@vigil/facts";
import { insertSpanBatch, recentRequestDigests } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import type { Hono } from "hono";
import { createIngestApp, DEFAULT_LIMITS } from "./app";
import type { IngestLimits } from "./app";
import { TokenRegistry } from "./auth";
import { SpanBatcher } from "./batcher";
import { RequestDedup } from "./dedup";
import { IngestStats } from "./stats";

export interface IngestServiceOptions {
  client: ClickHouseClient;
  config: VigilConfig;
  logger: Logger;
  limits?: IngestLimits;
  /** Rows per INSERT at most (default 50,000: large parts, bounded memory). */
  maxBatchRows?: number;
  /** Rows waiting to be stored past which requests get 429 (default 400,000). */
  maxPendingRows?: number;
  /** How long a stored request body is remembered for retries (default 1 hour). */
  dedupWindowMs?: number;
}

export interface IngestService {
  app: Hono<never>;
  stats: IngestStats;
  batcher: SpanBatcher;
  /** Waits until everything accepted so far is committed. */
  drain(): Promise<void>;
}

/**
 * Wires the ingest receiver to a store: token registry from the config, group-commit
 * batcher writing to ClickHouse, and the retry dedup set reloaded from the store.
 */
export async function createIngestService(options: IngestServiceOptions): Promise<IngestService> {
  await initSqlParser();
  const windowMs = options.dedupWindowMs ?? 3600_000;
  const dedup = new RequestDedup(windowMs, 1_000_000);
  for (const digest of await recentRequestDigests(options.client, Date.now() - windowMs)) dedup.markCommitted(digest);

  const stats = new IngestStats();
  const logger = options.logger.child({ service: "ingest" });
  const batcher = new SpanBatcher({
    maxBatchRows: options.maxBatchRows ?? 50_000,
    maxPendingRows: options.maxPendingRows ?? 400_000,
    retryAfterSeconds: 1,
    write: async (body, rows, batchId) => {
      const started = performance.now();
      await insertSpanBatch(options.client, body);
      logger.debug("batch committed", { batchId, rows, ms: Math.round(performance.now() - started) });
    },
  });
  const app = createIngestApp({
    tokens: TokenRegistry.fromConfig(options.config),
    batcher,
    dedup,
    stats,
    logger,
    limits: options.limits ?? DEFAULT_LIMITS,
    extract: { agentHosts: agentHostsOf(options.config) },
  });
  return { app: app as unknown as Hono<never>, stats, batcher, drain: () => batcher.flush() };
}

/** Host name → agent id, from the agents that declare where they can be reached. */
function agentHostsOf(config: VigilConfig): Map<string, string> {
  const hosts = new Map<string, string>();
  for (const agent of config.agents) for (const host of agent.hosts) hosts.set(host.toLowerCase(), agent.id);
  return hosts;
}
