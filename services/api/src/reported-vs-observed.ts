import { AUDIT_FORMAT_SYSTEMS } from "@vigil/config";
import type { VigilConfig } from "@vigil/config";
import { reportOf } from "@vigil/facts";
import { auditRecordDetails, findSpansOfOrigin } from "@vigil/store";
import type { ClickHouseClient, DetectSpan, StoredSpan } from "@vigil/store";
import { isoOfNs } from "./views";

export type ObservedStatus = "matched" | "unreported" | "discrepancy";

/** The database systems whose audit logs cover an agent (some source maps a user to it). */
function auditedSystems(config: VigilConfig, agentId: string): Set<string> {
  return new Set(
    config.audit.sources
      .filter((s) => s.users.some((u) => u.agent === agentId))
      .flatMap((s) => AUDIT_FORMAT_SYSTEMS[s.format]),
  );
}

const windowOf = (config: VigilConfig): bigint => BigInt(config.audit.match_window_seconds) * 1_000_000_000n;

/**
 * Reported vs observed, for a page of steps: an audit record is "matched" when a span
 * of the agent reports its statement within the match window, else "unreported"; an
 * agent's database step is "matched" when a database the agent is mapped on logged it,
 * else a "discrepancy" (reported, never seen). Absent for steps no audit source covers.
 */
export async function observedStatus(
  client: ClickHouseClient,
  config: VigilConfig,
  agentId: string,
  page: readonly StoredSpan[],
): Promise<Map<string, ObservedStatus>> {
  const out = new Map<string, ObservedStatus>();
  const audited = auditedSystems(config, agentId);
  const steps = page.filter((s) => s.origin === "db-audit" || audited.has(s.facts.dbSystem));
  if (steps.length === 0) return out;
  const windowNs = windowOf(config);
  const times = steps.map((s) => BigInt(s.startTimeUnixNano));
  const from = String(times.reduce((a, b) => (b < a ? b : a)) - windowNs);
  const to = String(times.reduce((a, b) => (b > a ? b : a)) + windowNs);
  const [reported, seen] = await Promise.all([
    findSpansOfOrigin(client, agentId, "agent", from, to),
    findSpansOfOrigin(client, agentId, "db-audit", from, to),
  ]);
  for (const s of steps) {
    if (s.origin === "db-audit") out.set(s.spanId, reportOf(s, reported, windowNs) ? "matched" : "unreported");
    // The record reports nothing of itself: the step is seen when it reports a record.
    else out.set(s.spanId, seen.some((a) => reportOf(a, [s], windowNs)) ? "matched" : "discrepancy");
  }
  return out;
}

/** One database audit record, beside the agent's step that reported it (if any). */
export interface DatabaseRecordView {
  time: string;
  source: string;
  databaseUser: string;
  database: string;
  command: string;
  statement: string;
  tables: string[];
  destructive: boolean;
  /** Why the database refused the statement; "" when it ran. */
  error: string;
  status: "matched" | "unreported";
  reportedBy: { traceId: string; spanId: string; sessionId: string } | null;
}

/** At most this many records beside one session: a long session of a busy database user is paged by the activity API. */
const MAX_RECORDS = 500;

/**
 * What the databases logged under an agent's database users from `fromNs` to `toNs`
 * (widened by the match window), each record with the step that reports it. Empty for
 * an agent no audit source covers.
 */
export async function databaseRecords(
  client: ClickHouseClient,
  config: VigilConfig,
  agentId: string,
  fromNs: string,
  toNs: string,
): Promise<DatabaseRecordView[]> {
  if (auditedSystems(config, agentId).size === 0) return [];
  const windowNs = windowOf(config);
  const from = String(BigInt(fromNs) - windowNs);
  const to = String(BigInt(toNs) + windowNs);
  const [records, reported] = await Promise.all([
    findSpansOfOrigin(client, agentId, "db-audit", from, to, MAX_RECORDS),
    findSpansOfOrigin(client, agentId, "agent", String(BigInt(from) - windowNs), String(BigInt(to) + windowNs)),
  ]);
  const details = await auditRecordDetails(
    client,
    records.map((r) => r.traceId),
  );
  return records.map((r: DetectSpan) => {
    const detail = details.get(r.traceId);
    const by = reportOf(r, reported, windowNs);
    return {
      time: isoOfNs(r.startTimeUnixNano),
      source: detail?.source ?? "",
      databaseUser: detail?.user ?? "",
      database: detail?.database ?? "",
      command: detail?.command ?? r.facts.dbOperation,
      statement: detail?.statement ?? "",
      tables: r.facts.dbTables,
      destructive: r.facts.destructive,
      error: detail?.error ?? "",
      status: by === undefined ? "unreported" : "matched",
      reportedBy: by === undefined ? null : { traceId: by.traceId, spanId: by.spanId, sessionId: by.sessionId },
    };
  });
}

/**
 * The databases' side of a session, for its API and console views: each step's observed
 * status, and the records every session agent's database users left while it ran (from
 * its first step's start to its last step's end), each naming its agent.
 */
export async function sessionDatabaseSide(
  client: ClickHouseClient,
  config: VigilConfig,
  spans: readonly StoredSpan[],
): Promise<{ observed: Map<string, ObservedStatus>; records: Array<DatabaseRecordView & { agentId: string }> }> {
  const agents = [...new Set(spans.map((s) => s.agentId))];
  const startNs = spans[0]?.startTimeUnixNano ?? "0";
  let endNs = startNs;
  for (const s of spans) if (BigInt(s.endTimeUnixNano) > BigInt(endNs)) endNs = s.endTimeUnixNano;
  const perAgent = await Promise.all(
    agents.map(async (agentId) => {
      const [observed, records] = await Promise.all([
        observedStatus(
          client,
          config,
          agentId,
          spans.filter((s) => s.agentId === agentId),
        ),
        databaseRecords(client, config, agentId, startNs, endNs),
      ]);
      return { observed, records: records.map((r) => ({ agentId, ...r })) };
    }),
  );
  return {
    observed: new Map(perAgent.flatMap((p) => [...p.observed])),
    records: perAgent.flatMap((p) => p.records),
  };
}
