import type { KeyObject } from "node:crypto";
import type { Logger } from "@vigil/common";
import type { VigilConfig } from "@vigil/config";
import { initSqlParser } from "@vigil/facts";
import { pipelineRunner } from "./pipeline-runner";
import {
  DecisionLog,
  Ledger,
  insertSpanBatch,
  isRowRejection,
  ledgerOrphanBatches,
  recentRequestDigests,
  usedApprovals,
} from "@vigil/store";
import type { Decision, DetectSpan, LedgerEntry } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import type { Hono } from "hono";
import { createIngestApp, DEFAULT_LIMITS } from "./app";
import type { IngestLimits } from "./app";
import { LiveTokenRegistry } from "./auth";
import { SpanBatcher } from "./batcher";
import { LeafJournal } from "./journal";
import { UnresolvedBatches } from "./reconcile";
import { RequestDedup } from "./dedup";
import { IngestStats } from "./stats";
import { AuditIntake } from "./audit-intake";
import { AuditFileFollower } from "@vigil/audit";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DigestRegistry } from "@vigil/common";
import { ApprovalVerifier, DecisionWriter, createGateApp } from "./gate";

export interface IngestServiceOptions {
  client: ClickHouseClient;
  config: VigilConfig;
  logger: Logger;
  limits?: IngestLimits;
  /** Rows per INSERT at most (default 50,000: large parts, bounded memory). */
  maxBatchRows?: number;
  /** Rows waiting to be stored past which requests get 429 (default 400,000). */
  maxPendingRows?: number;
  /** Row text waiting to be stored (bytes) at which requests get 429 (default 512 MiB). */
  maxPendingBytes?: number;
  /** How long a stored request body is remembered for retries (default 1 hour). */
  dedupWindowMs?: number;
  /** The ledger chain this ingest process appends to (one per ingest process; default "main"). */
  chainId?: string;
  /** Wait before ledgering batches a crash left unledgered (default 10 s). */
  orphanMarginMs?: number;
  /**
   * The leaf journal's file (one per chain, beside ingest): lets a restarted ingest ledger
   * what a crash left unledgered without reading span rows. Unset: no journal.
   */
  journalFile?: string;
  /**
   * Called after each batch's ledger entry is stored (to wake detection), with the
   * batch's rows as detection sees them when `handOffSpans` is set (undefined for a batch
   * settled after a crash: detection reads those from the store). Must not throw or block.
   */
  onBatchCommitted?: (entry: LedgerEntry, spans?: readonly DetectSpan[]) => void;
  /**
   * Hand each committed batch's rows to `onBatchCommitted` as detection sees them, so a
   * detection in this process need not read back what was just written. Costs a small
   * object per row; for the all-in-one only.
   */
  handOffSpans?: boolean;
  /** The public key approval tokens are checked with (the confirmation gate), read when first needed; unset or undefined: none verify. */
  approvalKey?: KeyObject | (() => KeyObject | undefined);
  /** Where the audit file readers keep their positions (one file per source); unset: audit files are not read. */
  auditPositionsDir?: string;
  /** How often audit files are polled (default 500 ms). */
  auditPollMs?: number;
  /** Called with each gate request that waits for a human (to post it to Slack). Must not throw. */
  onPendingDecision?: (decision: Decision) => void;
  /** Threads the pipeline runs on beside the main thread (default 0: on the main thread). */
  pipelineThreads?: number;
}

/** How long after start ingest waits before ledgering batches a crash left unledgered. */
const ORPHAN_MARGIN_MS = 10_000;

/** How often tokens created or revoked through the API are picked up. */
const TOKEN_REFRESH_MS = 2000;

export interface IngestService {
  app: Hono<never>;
  ledger: Ledger;
  /** The gate's ledgered decisions (an all-in-one's API records people's answers here too). */
  decisionLog: DecisionLog;
  stats: IngestStats;
  batcher: SpanBatcher;
  /** Database audit records into the store (the file readers and /v1/logs hand them here). */
  audit: AuditIntake;
  /** The readers of audit log files, one per source with a `file`. */
  auditFollowers: AuditFileFollower[];
  /** Config tokens plus tokens created through the API (re-read every few seconds). */
  tokens: LiveTokenRegistry;
  /** Batches refused while their rows may be stored, until settled against the store. */
  unresolved: UnresolvedBatches;
  /** Waits until everything accepted so far is committed. */
  drain(): Promise<void>;
  /** Stops the background work (token refresh, reconciling, orphan recovery). */
  stop(): void;
}

/**
 * Wires the ingest receiver to a store: token registry from the config, group-commit
 * batcher writing to ClickHouse, and the retry dedup set reloaded from the store.
 */
export async function createIngestService(options: IngestServiceOptions): Promise<IngestService> {
  await initSqlParser();
  const startedAtMs = Date.now();
  const ledger = await Ledger.open(options.client, options.chainId ?? "main");
  const windowMs = options.dedupWindowMs ?? 3600_000;
  const dedup = new RequestDedup(windowMs, 1_000_000);
  for (const digest of await recentRequestDigests(options.client, Date.now() - windowMs)) dedup.markCommitted(digest);

  const stats = new IngestStats();
  const logger = options.logger.child({ service: "ingest" });
  // A crash between a batch's INSERT and its ledger entry leaves rows outside the ledger.
  // Ledger them once no live replica can still be about to (ORPHAN_MARGIN_MS after start).
  const recoverOrphans = async (): Promise<void> => {
    const orphans = await ledgerOrphanBatches(options.client, ledger, startedAtMs - 1000);
    if (orphans.length > 0)
      logger.warn("ledgered batches a crash left stored but unledgered", {
        batches: orphans.length,
        batchIds: orphans,
      });
  };
  const orphanTimer = setTimeout(
    () =>
      void recoverOrphans().catch((err: unknown) =>
        logger.warn("orphan batch recovery failed", { error: String(err) }),
      ),
    options.orphanMarginMs ?? ORPHAN_MARGIN_MS,
  );
  orphanTimer.unref();
  // The leaf journal: what a crash left possibly stored but unledgered is settled from it
  // at start, without reading span content back (ingest's server user may not).
  const opened = options.journalFile === undefined ? undefined : LeafJournal.open(options.journalFile);
  const journal = opened?.journal;
  const unresolved = new UnresolvedBatches(
    options.client,
    ledger,
    dedup,
    logger,
    (entry) => options.onBatchCommitted?.(entry),
    (batchId) => journal?.done(batchId),
  );
  for (const batch of opened?.unfinished ?? []) unresolved.add(batch);
  if ((opened?.unfinished.length ?? 0) > 0) {
    logger.warn("settling batches a previous process left possibly stored but unledgered", {
      batches: opened?.unfinished.length,
    });
    await unresolved.settleAll();
  }
  unresolved.start(1000);
  const batcher = new SpanBatcher({
    maxBatchRows: options.maxBatchRows ?? 50_000,
    maxPendingRows: options.maxPendingRows ?? 400_000,
    maxPendingBytes: options.maxPendingBytes ?? 512 * 1024 * 1024,
    retryAfterSeconds: 1,
    write: async (batch) => {
      const started = performance.now();
      journal?.record(batch);
      await insertSpanBatch(options.client, batch.chunks);
      stats.inserted(batch.rows, performance.now() - started);
    },
    // Values are checked before they join a batch; should the engine still refuse one,
    // only the request that holds it fails.
    isRowRejection,
    // Rows that may be stored although their requests were refused: settled before retries.
    onUnresolved: (batch) => unresolved.add(batch),
    // Requests are acknowledged only once the ledger holds their batch too. A batch whose
    // entry could not be written shows up in verify; its retried requests are answered
    // from dedup. The next INSERT does not wait for this.
    commit: async (batch) => {
      const entry = await ledger.append(batch.id, batch.leaves);
      journal?.done(batch.id);
      logger.debug("batch committed", { batchId: batch.id, rows: batch.rows, seq: entry.seq });
      options.onBatchCommitted?.(entry, batch.spans);
    },
  });
  const tokens = new LiveTokenRegistry(options.config, options.client);
  await tokens.refresh();
  tokens.start(TOKEN_REFRESH_MS, (err) =>
    logger.warn("token refresh failed; the last tokens stay in force", { error: String(err) }),
  );
  // Approvals used in the last day stay used after a restart.
  const approvalKey = options.approvalKey;
  const approvals = new ApprovalVerifier(typeof approvalKey === "function" ? approvalKey : () => approvalKey);
  approvals.seed(await usedApprovals(options.client, Date.now() - 24 * 3600_000), Date.now());
  const auditIntake = new AuditIntake(options.config.audit, {
    batcher,
    dedup,
    stats,
    logger,
    handOffSpans: options.handOffSpans === true,
  });
  const auditTokens = new DigestRegistry(
    options.config.audit.sources.flatMap((s) => s.tokens.map((t) => ({ sha256Hex: t.sha256, value: s.id }))),
  );
  // Audit log files Vigil follows itself: records go through the same intake as /v1/logs.
  const followers =
    options.auditPositionsDir === undefined
      ? []
      : options.config.audit.sources.flatMap((source) => {
          if (source.file === undefined) return [];
          mkdirSync(options.auditPositionsDir as string, { recursive: true });
          const follower = new AuditFileFollower({
            file: source.file,
            format: source.format,
            positionFile: join(options.auditPositionsDir as string, `${source.id}.position.json`),
            deliver: async (records) => {
              const r = await auditIntake.store(source.id, records, Date.now());
              if (r.rejected > 0)
                logger.warn("audit log lines Vigil could not read", {
                  source: source.id,
                  lines: r.rejected,
                  reasons: r.reasons,
                });
            },
            logger,
          });
          follower.start(options.auditPollMs ?? 500);
          return [follower];
        });
  // Administrators import an agent's history as trusted (POST /v1/import/traces).
  const adminKeys = new DigestRegistry(
    options.config.api_keys.filter((k) => k.role === "admin").map((k) => ({ sha256Hex: k.sha256, value: k.name })),
  );
  const declared = new Map(options.config.agents.map((a) => [a.id, a]));
  const importers = {
    keys: adminKeys,
    agent: (agentId: string) => {
      const a = declared.get(agentId);
      return a === undefined
        ? undefined
        : {
            agentId,
            environment: undefined,
            claims: new Set([a.id, ...a.claims]),
            environments: new Set(a.environments),
          };
    },
  };
  const pipeline = pipelineRunner(options.pipelineThreads ?? 0, approvals);
  const app = createIngestApp({
    pipeline,
    approvals,
    importers,
    backfillAfterMs: options.config.detection.backfill_after_minutes * 60_000,
    audit: { intake: auditIntake, tokens: auditTokens },
    tokens,
    batcher,
    dedup,
    stats,
    logger,
    limits: options.limits ?? DEFAULT_LIMITS,
    extract: { agentHosts: agentHostsOf(options.config) },
    handOffSpans: options.handOffSpans === true,
  });
  // The gate's decisions are ledgered on this ingest's own chain (decisions@<chain>).
  const decisionLog = await DecisionLog.open(options.client, options.chainId ?? "main", (err) =>
    logger.warn("a decision batch is stored but not ledgered yet; retrying with the next", { error: String(err) }),
  );
  const decisions = new DecisionWriter(decisionLog, logger);
  app.route(
    "/",
    createGateApp({
      writer: decisions,
      log: decisionLog,
      tokens,
      client: options.client,
      config: options.config,
      logger,
      ...(options.onPendingDecision === undefined ? {} : { onPending: options.onPendingDecision }),
    }),
  );
  return {
    app: app as unknown as Hono<never>,
    ledger,
    decisionLog,
    stats,
    batcher,
    audit: auditIntake,
    tokens,
    unresolved,
    auditFollowers: followers,
    drain: async () => {
      await batcher.flush();
      await decisions.flush();
    },
    stop: () => {
      tokens.stop();
      unresolved.stop();
      clearTimeout(orphanTimer);
      for (const f of followers) void f.stop();
      void decisions.close();
      void pipeline.close();
    },
  };
}

/** Host name → agent id, from the agents that declare where they can be reached. */
function agentHostsOf(config: VigilConfig): Map<string, string> {
  const hosts = new Map<string, string>();
  for (const agent of config.agents) for (const host of agent.hosts) hosts.set(host.toLowerCase(), agent.id);
  return hosts;
}
