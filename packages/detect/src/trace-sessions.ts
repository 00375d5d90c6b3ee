import { findSessionlessTraceSpans, sessionsOfTraces, traceKey } from "@vigil/store";
import type { ClickHouseClient, DetectSpan } from "@vigil/store";

/**
 * Sessions across requests. Agents often name the session only on a trace's root span,
 * and the OpenTelemetry batch processor exports a trace's children before their root, in
 * earlier requests. Stored rows keep what the agent sent; detection judges each span by
 * its trace's session (the `trace_sessions` lookup table, filled as spans are stored),
 * and when a root arrives after its children, judges those children again by the rules
 * that read a session's history.
 */

/** The spans, each without a session of its own given its trace's session where one is known. */
export async function withTraceSessions(client: ClickHouseClient, spans: readonly DetectSpan[]): Promise<DetectSpan[]> {
  const sessionless = spans.filter((s) => s.sessionId === "");
  if (sessionless.length === 0) return [...spans];
  const known = await sessionsOfTraces(client, sessionless);
  return spans.map((s) => {
    const sessionId = s.sessionId === "" ? known.get(traceKey(s.agentId, s.traceId)) : undefined;
    return sessionId === undefined ? s : { ...s, sessionId };
  });
}

/**
 * The spans stored before this step (outside `batchIds`) without a session, in the
 * traces whose root span this step brings with a session: judged without one when they
 * came, now given their trace's session. Children start within their root's time, which
 * bounds the read to the agent's primary-key range of those roots.
 */
export async function lateRootChildren(
  client: ClickHouseClient,
  spans: readonly DetectSpan[],
  batchIds: readonly string[],
): Promise<DetectSpan[]> {
  const roots = new Map<string, DetectSpan[]>();
  for (const s of spans) {
    if (s.parentSpanId !== "" || s.sessionId === "" || s.origin !== "agent") continue;
    roots.set(s.agentId, [...(roots.get(s.agentId) ?? []), s]);
  }
  const children: DetectSpan[] = [];
  for (const [agentId, of] of roots) {
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
