import { MAX_PARAM_VALUES, inSlices, splitTracesOfSessions } from "@vigil/store";
import type { ClickHouseClient, DetectSpan } from "@vigil/store";
import { actionOf } from "./actions";

/**
 * How far back a session's history is read: approvals and injected inputs older than
 * this before the step are not considered (sessions are hours, not days).
 */
const SESSION_LOOKBACK_NS = 24n * 3_600_000_000_000n;

/** Words every injection pattern contains one of: the store returns only those inputs. */
export const INJECTION_CUES = [
  "ignore",
  "disregard",
  "forget",
  "override",
  "you are now",
  "you are no longer",
  "act as",
  "dan mode",
  "system prompt",
  "instructions",
  "forward",
  "send",
  "email",
  "upload",
  "post",
  "exfiltrate",
  "copy",
  "[system",
  "[inst",
  "<system",
  "<instruction",
  "###",
];

interface HistoryRow {
  session_id: string;
  start_ns: string;
  trace_id: string;
  span_id: string;
  input: string;
  approval_id: string;
  approval_status: string;
}

/** What came before a span in its session: approvals and inputs (the session's causal history). */
export interface SessionHistory {
  approvals: Array<{ startNs: string; approvalId: string; status: string }>;
  inputs: Array<{ startNs: string; traceId: string; spanId: string; input: string }>;
}

/**
 * Reads, for each session of the given spans, its approvals and its non-empty inputs,
 * one query per agent, counting the steps that named no session in the session's traces.
 * Sessions are per agent: another agent's approval does not count.
 *
 * The spans are read from the earliest start of these sessions (the session index knows
 * it) rather than from a day back: the bloom filter on session_id cannot skip granules
 * when a step asks for hundreds of sessions, and a day of a busy agent's spans is what
 * made detection, and with it acknowledge latency, slower the longer a soak ran.
 */
export async function loadSessionHistory(
  client: ClickHouseClient,
  spans: readonly DetectSpan[],
): Promise<Map<string, SessionHistory>> {
  const bySessionSet = new Map<string, Set<string>>();
  for (const s of spans) {
    if (s.sessionId === "") continue;
    const set = bySessionSet.get(s.agentId) ?? new Set<string>();
    set.add(s.sessionId);
    bySessionSet.set(s.agentId, set);
  }
  // An agent's sessions in slices a query parameter can carry (see MAX_PARAM_VALUES).
  const byAgent: Array<[string, Set<string>]> = [];
  for (const [agentId, all] of bySessionSet) {
    const list = [...all];
    for (let i = 0; i < list.length; i += MAX_PARAM_VALUES)
      byAgent.push([agentId, new Set(list.slice(i, i + MAX_PARAM_VALUES))]);
  }
  const history = new Map<string, SessionHistory>();
  const earliest = spans.reduce(
    (min, s) => (BigInt(s.startTimeUnixNano) < min ? BigInt(s.startTimeUnixNano) : min),
    BigInt(spans[0]?.startTimeUnixNano ?? "0"),
  );
  for (const [agentId, sessions] of byAgent) {
    const params = {
      agentId,
      sessions: [...sessions],
      from: String(earliest - SESSION_LOOKBACK_NS),
      cues: INJECTION_CUES,
    };
    const read = async (rows: string, extra: Record<string, unknown> = {}): Promise<HistoryRow[]> => {
      const rs = await client.query({
        query: `SELECT session_id, toString(toUnixTimestamp64Nano(start_time)) AS start_ns, trace_id, span_id, input,
                  approval_id, approval_status
                FROM spans
                WHERE agent_id = {agentId:String} AND ${rows}
                  AND start_time >= greatest(fromUnixTimestamp64Nano({from:Int64}, 'UTC'), (
                    SELECT min(start_time) FROM span_session_index
                    WHERE session_id IN {sessions:Array(String)} AND agent_id = {agentId:String}))
                  AND (approval_status != '' OR multiSearchAnyCaseInsensitive(input, {cues:Array(String)}))`,
        query_params: { ...params, ...extra },
        format: "JSONEachRow",
      });
      return rs.json<HistoryRow>();
    };
    // The steps that name the session (its bloom filter skips the rest), and those that
    // name none in its traces: only traces stored in more than one request have such
    // steps (within one request they inherit the session), usually none.
    const rows = await read("session_id IN {sessions:Array(String)}");
    const split = await splitTracesOfSessions(client, agentId, [...sessions]);
    const splitRows = await inSlices([...split.keys()], (traceIds) =>
      read("trace_id IN {traceIds:Array(String)} AND session_id = ''", { traceIds }),
    );
    for (const r of splitRows) rows.push({ ...r, session_id: split.get(r.trace_id) ?? "" });
    for (const r of rows) {
      if (!sessions.has(r.session_id)) continue;
      const key = `${agentId}\n${r.session_id}`;
      const h = history.get(key) ?? { approvals: [], inputs: [] };
      if (r.approval_status !== "")
        h.approvals.push({ startNs: r.start_ns, approvalId: r.approval_id, status: r.approval_status });
      if (r.input !== "")
        h.inputs.push({ startNs: r.start_ns, traceId: r.trace_id, spanId: r.span_id, input: r.input });
      history.set(key, h);
    }
    // In start order, as the rules read them (the second read's rows came after).
    for (const [key, h] of history)
      if (key.startsWith(`${agentId}\n`)) {
        h.inputs.sort(byStart);
        h.approvals.sort(byStart);
      }
  }
  return history;
}

/** Start order of decimal nanosecond strings. */
const byStart = (a: { startNs: string }, b: { startNs: string }): number =>
  a.startNs.length !== b.startNs.length
    ? a.startNs.length - b.startNs.length
    : a.startNs < b.startNs
      ? -1
      : a.startNs > b.startNs
        ? 1
        : 0;

/** a <= b for decimal strings without leading zeros. */
export function notAfter(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a <= b;
}

/**
 * The session history of one detection step, read once (one query per agent) for every
 * span that acts (writes, destroys, reaches out, uses a credential) and shared by the
 * rules that look back in the session: approvals before a destructive step, injected
 * inputs before an action.
 */
export class SessionHistoryCache {
  private read: Promise<Map<string, SessionHistory>> | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly spans: readonly DetectSpan[],
  ) {}

  history(): Promise<Map<string, SessionHistory>> {
    this.read ??= loadSessionHistory(
      this.client,
      this.spans.filter((s) => s.sessionId !== "" && actionOf(s) !== undefined),
    );
    return this.read;
  }
}
