import { createHash } from "node:crypto";
import type { AgentConfig, DetectionConfig } from "@vigil/config";
import type { Alert, BaselineSnapshot, ClickHouseClient, DetectSpan, RowOrigin, Severity } from "@vigil/store";
import type { ActivityCache } from "./learned/profiles";
import type { BaselineCache } from "./learned/baseline-cache";
import type { SessionHistoryCache } from "./session-history";

/** What a detector sees: the spans of the batches being examined, the store to look back in, and the config. */
export interface DetectionContext {
  client: ClickHouseClient;
  spans: readonly DetectSpan[];
  nowMs: number;
  /** Declared agents (policies, timezones) by id. */
  agents: ReadonlyMap<string, AgentConfig>;
  detection: DetectionConfig;
  /** Per-agent history for this step, read once and shared by the learned detectors. */
  activity: ActivityCache;
  /** The latest baseline snapshots, used where they answer exactly what a detector would query. */
  baselines: BaselineCache;
  /** Approvals and inputs earlier in the sessions of the step's acting spans, read once. */
  sessions: SessionHistoryCache;
  /**
   * Whose rows the step judges: the agents' reports, or the databases' audit records of
   * them (the learned detectors then judge against the history the databases saw).
   */
  origin: RowOrigin;
}

export const DEFAULT_DETECTION: DetectionConfig = {
  learning_days: 7,
  learning_min_spans: 500,
  call_volume_floor: 50,
  backfill_after_minutes: 10,
};

/** One detector: a name, and a function from new spans to alerts. */
export interface Detector {
  name: string;
  detect(ctx: DetectionContext): Promise<Alert[]>;
}

/**
 * The agent's latest baseline snapshot where it describes the rows being judged. The
 * snapshots are built from what agents reported; the databases' side is always read.
 */
export async function snapshotOf(ctx: DetectionContext, span: DetectSpan): Promise<BaselineSnapshot | undefined> {
  return ctx.origin === "agent" ? ctx.baselines.get(span.agentId, span.facts.environment) : undefined;
}

/** Severity bands over the 0-100 score, as Elastic's anomaly scores use them. */
export function severityOf(score: number): Severity {
  if (score >= 90) return "critical";
  if (score >= 75) return "high";
  if (score >= 50) return "medium";
  if (score >= 25) return "low";
  return "info";
}

/**
 * Builds an alert about `span`. The id is derived from the detector and `subject`, so
 * examining the same span again yields the same alert id. By default the subject is the
 * span: its ids and what it did. The ids alone are the agent's to choose, so a decoy
 * span sent under the same trace and span ids as a DROP would have taken the DROP's
 * alert id, and the DROP's alert would have been dropped as a repeat.
 */
export function alertFor(
  span: DetectSpan,
  a: {
    detector: string;
    score: number;
    summary: string;
    explanation: string;
    evidence: Record<string, unknown>;
    credentials?: string[];
    spanIds?: string[];
    /** What the alert is about, for its id and grouping fingerprint (default: the span). */
    subject?: string;
  },
  nowMs: number,
): Alert {
  const observed = span.origin === "db-audit";
  // What the database saw and what the agent reported are separate findings, each with its own id.
  const subject = `${observed ? "observed/" : ""}${a.subject ?? `${span.traceId}/${span.spanId}/${spanContentDigest(span)}`}`;
  return {
    alertId: createHash("sha256").update(`${a.detector}\n${span.agentId}\n${subject}`).digest("hex").slice(0, 32),
    createdAtMs: nowMs,
    eventTimeNs: span.startTimeUnixNano,
    detector: a.detector,
    severity: severityOf(a.score),
    score: a.score,
    agentId: span.agentId,
    environment: span.facts.environment,
    sessionId: span.sessionId,
    traceId: span.traceId,
    spanIds: a.spanIds ?? [span.spanId],
    // A learned detector's summary speaks of the agent: say it is the database's finding.
    // The audit judge's own alerts (their evidence sets out what was observed) say so already.
    summary: observed && !("observed" in a.evidence) ? `the database's audit log: ${a.summary}` : a.summary,
    explanation: a.explanation,
    evidence: observed ? { ...a.evidence, origin: span.origin } : a.evidence,
    input: span.facts.input,
    credentials: a.credentials ?? (span.facts.credentialId === "" ? [] : [span.facts.credentialId]),
    fingerprint: `${a.detector}:${span.agentId}:${span.facts.environment}`,
  };
}

/** A digest of what a stored span says it did: name, start and every fact. */
function spanContentDigest(span: DetectSpan): string {
  return createHash("sha256")
    .update(JSON.stringify([span.name, span.startTimeUnixNano, span.facts]))
    .digest("hex")
    .slice(0, 16);
}
