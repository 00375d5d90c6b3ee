import type { ClickHouseClient } from "@clickhouse/client";
import { MAX_PARAM_VALUES, inSlices } from "../query-params";

/** Key of one agent's trace in the maps below. */
export const traceKey = (agentId: string, traceId: string): string => `${agentId}\n${traceId}`;

/**
 * The session each of these (agent, trace) pairs belongs to, where any span of the trace
 * named one (see trace-sessions-schema.ts). A trace whose spans named several sessions
 * belongs to the one named first (by start time): one answer for every reader.
 */
export async function sessionsOfTraces(
  client: ClickHouseClient,
  traces: ReadonlyArray<{ agentId: string; traceId: string }>,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (traces.length === 0) return found;
  const wanted = new Set(traces.map((t) => traceKey(t.agentId, t.traceId)));
  const agents = [...new Set(traces.map((t) => t.agentId))];
  const rows = await inSlices([...new Set(traces.map((t) => t.traceId))], async (traceIds) => {
    const rs = await client.query({
      query: `SELECT agent_id, trace_id, argMin(session_id, start_time) AS first_session FROM trace_sessions
              WHERE agent_id IN {agents:Array(String)} AND trace_id IN {traceIds:Array(String)}
              GROUP BY agent_id, trace_id`,
      query_params: { agents, traceIds },
      format: "JSONEachRow",
    });
    return rs.json<{ agent_id: string; trace_id: string; first_session: string }>();
  });
  for (const r of rows) {
    const key = traceKey(r.agent_id, r.trace_id);
    if (wanted.has(key)) found.set(key, r.first_session);
  }
  return found;
}

/**
 * Of these traces, those whose spans reached the store in more than one request: the
 * trace index's view writes a row per trace per request (migration 18), keyed by trace id.
 */
export async function tracesInSeveralRequests(
  client: ClickHouseClient,
  traceIds: readonly string[],
): Promise<Set<string>> {
  if (traceIds.length === 0) return new Set();
  const rows = await inSlices([...new Set(traceIds)], async (slice) => {
    const rs = await client.query({
      query: `SELECT trace_id FROM span_trace_index WHERE trace_id IN {traceIds:Array(String)}
              GROUP BY trace_id HAVING count() > 1`,
      query_params: { traceIds: slice },
      format: "JSONEachRow",
    });
    return rs.json<{ trace_id: string }>();
  });
  return new Set(rows.map((r) => r.trace_id));
}

/**
 * The traces of one agent that named these sessions and reached the store in more than
 * one request (only those can hold steps stored without the session), with their
 * session: one round trip, both lookups by primary key.
 */
export async function splitTracesOfSessions(
  client: ClickHouseClient,
  agentId: string,
  sessionIds: readonly string[],
): Promise<Map<string, string>> {
  const traces = new Map<string, string>();
  if (sessionIds.length === 0) return traces;
  if (sessionIds.length > MAX_PARAM_VALUES) {
    for (let i = 0; i < sessionIds.length; i += MAX_PARAM_VALUES)
      for (const [t, s] of await splitTracesOfSessions(client, agentId, sessionIds.slice(i, i + MAX_PARAM_VALUES)))
        traces.set(t, s);
    return traces;
  }
  const rs = await client.query({
    query: `SELECT trace_id, argMin(session_id, start_time) AS first_session FROM trace_sessions
            WHERE agent_id = {agentId:String} AND session_id IN {sessions:Array(String)}
              AND trace_id IN (
                SELECT trace_id FROM span_trace_index
                WHERE trace_id IN (SELECT trace_id FROM trace_sessions
                                   WHERE agent_id = {agentId:String} AND session_id IN {sessions:Array(String)})
                GROUP BY trace_id HAVING count() > 1)
            GROUP BY trace_id`,
    query_params: { agentId, sessions: sessionIds },
    format: "JSONEachRow",
  });
  for (const r of await rs.json<{ trace_id: string; first_session: string }>()) traces.set(r.trace_id, r.first_session);
  return traces;
}
