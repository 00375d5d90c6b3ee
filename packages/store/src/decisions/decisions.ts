import type { ClickHouseClient } from "@clickhouse/client";

export type DecisionEvent = "requested" | "allowed" | "denied" | "approved" | "expired";
export type DecisionStatus = "pending" | "allowed" | "denied" | "approved" | "expired";

/** One gate request and where it stands. */
export interface Decision {
  decisionId: string;
  agentId: string;
  sessionId: string;
  traceId: string;
  actionKind: string;
  actionDigest: string;
  rendering: string;
  description: string;
  facts: Record<string, unknown>;
  /** Why Vigil answered or asked as it did. */
  reasons: string[];
  requestedAtMs: number;
  expiresAtMs: number;
  status: DecisionStatus;
  /** Who answered (vigil for its own answers), why, and when; empty while pending. */
  decidedBy: string;
  justification: string;
  decidedAtMs: number;
  /** The signed approval token, for the agent only (never listed by the API). */
  token: string;
}

export interface DecisionRow {
  decisionId: string;
  event: DecisionEvent;
  atMs: number;
  agentId: string;
  sessionId: string;
  traceId: string;
  actionKind: string;
  actionDigest: string;
  rendering: string;
  description: string;
  facts: string;
  reasons: string[];
  actor: string;
  justification: string;
  expiresAtMs: number;
  token: string;
}

/** A stored row as the DecisionRow that was written (what the ledger's canonical line is made of). */
export function decisionRowOf(r: StoredDecisionRow): DecisionRow {
  return {
    decisionId: r.decision_id,
    event: r.event,
    atMs: Number(r.at_ms),
    agentId: r.agent_id,
    sessionId: r.session_id,
    traceId: r.trace_id,
    actionKind: r.action_kind,
    actionDigest: r.action_digest,
    rendering: r.rendering,
    description: r.description,
    facts: r.facts,
    reasons: r.reasons,
    actor: r.actor,
    justification: r.justification,
    expiresAtMs: Number(r.expires_ms),
    token: r.token,
  };
}

/** Inserts decision rows as one batch of the decision ledger (see DecisionLog, which hashes and ledgers them). */
export async function insertDecisionRows(
  client: ClickHouseClient,
  rows: readonly DecisionRow[],
  batchId: string,
): Promise<void> {
  if (rows.length === 0) return;
  await client.insert({
    table: "decisions",
    format: "JSONEachRow",
    values: rows.map((row) => ({
      batch_id: batchId,
      decision_id: row.decisionId,
      event: row.event,
      at: String(row.atMs),
      agent_id: row.agentId,
      session_id: row.sessionId,
      trace_id: row.traceId,
      action_kind: row.actionKind,
      action_digest: row.actionDigest,
      rendering: row.rendering,
      description: row.description,
      facts: row.facts,
      reasons: row.reasons,
      actor: row.actor,
      justification: row.justification,
      expires_at: String(row.expiresAtMs),
      token: row.token,
    })),
  });
}

/** A decision row as SELECT_DECISIONS reads it back (times as millisecond digits). */
export interface StoredDecisionRow {
  batch: string;
  decision_id: string;
  event: DecisionEvent;
  at_ms: string;
  agent_id: string;
  session_id: string;
  trace_id: string;
  action_kind: string;
  action_digest: string;
  rendering: string;
  description: string;
  facts: string;
  reasons: string[];
  actor: string;
  justification: string;
  expires_ms: string;
  token: string;
}

/** Every column of a decision row, as StoredDecisionRow; the one read of the table's rows. */
export const SELECT_DECISIONS = `SELECT toString(batch_id) AS batch, decision_id, event, toString(toUnixTimestamp64Milli(at)) AS at_ms, agent_id, session_id, trace_id,
  action_kind, action_digest, rendering, description, facts, reasons, actor, justification,
  toString(toUnixTimestamp64Milli(expires_at)) AS expires_ms, token FROM decisions`;

/** Folds a decision's rows (in time order) into its state: the first answer after the request is final. */
function fold(rows: StoredDecisionRow[], nowMs: number): Decision[] {
  const byId = new Map<string, StoredDecisionRow[]>();
  for (const r of rows) byId.set(r.decision_id, [...(byId.get(r.decision_id) ?? []), r]);
  const out: Decision[] = [];
  for (const list of byId.values()) {
    const request = list.find((r) => r.event === "requested") ?? list[0];
    if (request === undefined) continue;
    const answer = list.find((r) => r.event !== "requested");
    const expiresAtMs = Number(request.expires_ms);
    const expired = answer === undefined && nowMs >= expiresAtMs;
    out.push({
      decisionId: request.decision_id,
      agentId: request.agent_id,
      sessionId: request.session_id,
      traceId: request.trace_id,
      actionKind: request.action_kind,
      actionDigest: request.action_digest,
      rendering: request.rendering,
      description: request.description,
      facts: JSON.parse(request.facts || "{}") as Record<string, unknown>,
      reasons: request.reasons,
      requestedAtMs: Number(request.at_ms),
      expiresAtMs,
      status:
        answer === undefined
          ? expired
            ? "expired"
            : "pending"
          : answer.event === "requested"
            ? "pending"
            : answer.event,
      decidedBy: answer?.actor ?? (expired ? "vigil" : ""),
      justification: answer?.justification ?? (expired ? "no one decided before the request expired" : ""),
      decidedAtMs: answer === undefined ? (expired ? expiresAtMs : 0) : Number(answer.at_ms),
      token: answer?.event === "approved" ? answer.token : "",
    });
  }
  return out.sort((a, b) => b.requestedAtMs - a.requestedAtMs);
}

export async function findDecision(
  client: ClickHouseClient,
  decisionId: string,
  nowMs = Date.now(),
): Promise<Decision | undefined> {
  const rs = await client.query({
    query: `${SELECT_DECISIONS} WHERE decision_id = {id:String} ORDER BY at, event = 'requested' DESC`,
    query_params: { id: decisionId },
    format: "JSONEachRow",
  });
  return fold(await rs.json<StoredDecisionRow>(), nowMs)[0];
}

/** Recent decisions, newest first, optionally of one status or agent. */
export async function listDecisions(
  client: ClickHouseClient,
  filter: { status?: DecisionStatus; agentId?: string; limit?: number } = {},
  nowMs = Date.now(),
): Promise<Decision[]> {
  const rs = await client.query({
    query: `${SELECT_DECISIONS} WHERE decision_id IN (
              SELECT decision_id FROM decisions WHERE event = 'requested'
              ${filter.agentId === undefined ? "" : "AND agent_id = {agent:String}"}
              ORDER BY at DESC LIMIT {scan:UInt32})
            ORDER BY at, event = 'requested' DESC`,
    query_params: { agent: filter.agentId ?? "", scan: Math.min(5000, (filter.limit ?? 100) * 5) },
    format: "JSONEachRow",
  });
  const all = fold(await rs.json<StoredDecisionRow>(), nowMs);
  return (filter.status === undefined ? all : all.filter((d) => d.status === filter.status)).slice(
    0,
    filter.limit ?? 100,
  );
}

/** Approvals spans used since `sinceMs` (verified at ingest): each decision id and the span that used it. */
export async function usedApprovals(
  client: ClickHouseClient,
  sinceMs: number,
): Promise<Array<{ decisionId: string; span: string }>> {
  const rs = await client.query({
    query: `SELECT approval_id AS d, any(concat(trace_id, '/', span_id)) AS s FROM spans
            WHERE received_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') AND approval_status = 'verified'
            GROUP BY approval_id`,
    query_params: { since: sinceMs },
    format: "JSONEachRow",
  });
  return (await rs.json<{ d: string; s: string }>()).map((r) => ({ decisionId: r.d, span: r.s }));
}
