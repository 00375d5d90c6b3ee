import { findSessionlessTraceSpans, sessionsOfTraces, traceKey, tracesInSeveralRequests } from "@vigil/store";
import { actionOf } from "./actions";
import type { ClickHouseClient, DetectSpan } from "@vigil/store";

/**
 * Sessions across requests. Agents often name the session only on a trace's root span,
 * and the OpenTelemetry batch processor exports a trace's children before their root, in
 * earlier requests. Stored rows keep what the agent sent; detection judges each span by
 * its trace's session (the `trace_sessions` lookup table, filled as spans are stored),
 * and when a root arrives after its children, judges those children again by the rules
 * that read a session's history.
 */

/**
 * The spans, each acting one without a session of its own given its trace's session
 * where one is known. Only acting spans (actionOf) are judged by the session rules; the
 * rest keep their own (empty) session, which spares a lookup per step for agents that
 * name no sessions at all.
 */
export async function withTraceSessions(client: ClickHouseClient, spans: readonly DetectSpan[]): Promise<DetectSpan[]> {
  const sessionless = spans.filter((s) => s.sessionId === "" && actionOf(s) !== undefined);
  if (sessionless.length === 0) return [...spans];
  const known = await sessionsOfTraces(client, sessionless);
  return spans.map((s) => {
    const sessionId =
      s.sessionId === "" && actionOf(s) !== undefined ? known.get(traceKey(s.agentId, s.traceId)) : undefined;
    return sessionId === undefined ? s : { ...s, sessionId };
  });
}

/**
 * The spans stored before this step (outside `batchIds`) without a session, in the
 * traces whose root span this step brings with a session: judged without one when they
 * came, now given their trace's session. Only traces that reached the store in more than
 * one request can have such spans (the trace index keeps a row per request: a
 * primary-key read); children start within their root's time, which bounds the read of them to the
 * agent's primary-key range of those roots.
 */
export async function lateRootChildren(
  client: ClickHouseClient,
  spans: readonly DetectSpan[],
  batchIds: readonly string[],
): Promise<DetectSpan[]> {
  const roots = new Map<string, DetectSpan[]>();
  for (const s of spans) {
    if (s.parentSpanId !== "" || s.sessionId === "" || s.origin !== "agent") continue;
    const of = roots.get(s.agentId);
    if (of === undefined) roots.set(s.agentId, [s]);
    else of.push(s);
  }
  if (roots.size === 0) return [];
  const children: DetectSpan[] = [];
  const split = await tracesInSeveralRequests(
    client,
    [...roots.values()].flat().map((s) => s.traceId),
  );
  for (const [agentId, all] of roots) {
    const of = all.filter((s) => split.has(s.traceId));
    if (of.length === 0) continue;
    const from = of.reduce(
      (m, s) => (BigInt(s.startTimeUnixNano) < m ? BigInt(s.startTimeUnixNano) : m),
      BigInt(of[0]?.startTimeUnixNano ?? 0),
    );
    const to = of.reduce((m, s) => (BigInt(s.endTimeUnixNano) > m ? BigInt(s.endTimeUnixNano) : m), 0n);
    const traceIds = [...new Set(of.map((s) => s.traceId))];
    children.push(...(await findSessionlessTraceSpans(client, agentId, traceIds, String(from), String(to), batchIds)));
  }
  return children.length === 0 ? [] : (await withTraceSessions(client, children)).filter((s) => s.sessionId !== "");
}
