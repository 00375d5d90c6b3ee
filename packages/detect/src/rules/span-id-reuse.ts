import type { Alert, ClickHouseClient, DetectSpan } from "@vigil/store";
import { alertFor } from "../model";
import type { Detector } from "../model";

/**
 * The same (trace id, span id) stored twice with different content. A span is immutable
 * once it ends and an exporter's retry resends the same bytes, so two different spans
 * under one pair of ids are an agent choosing ids: a decoy sent under a destructive
 * step's ids once took that step's alert id. Every stored copy is kept and judged; this
 * rule says the ids were reused.
 */
export const spanIdReuse: Detector = {
  name: "span_id_reuse",
  async detect({ client, spans, nowMs }) {
    const byAgent = new Map<string, DetectSpan[]>();
    for (const s of spans) byAgent.set(s.agentId, [...(byAgent.get(s.agentId) ?? []), s]);
    const alerts: Alert[] = [];
    for (const [agentId, mine] of byAgent) {
      const reused = await reusedIds(client, agentId, [...new Set(mine.map((s) => s.traceId))]);
      const flagged = new Set<string>();
      for (const span of mine) {
        const key = `${span.traceId}/${span.spanId}`;
        const variants = reused.get(key);
        if (variants === undefined || flagged.has(key)) continue;
        flagged.add(key);
        alerts.push(
          alertFor(
            span,
            {
              detector: "span_id_reuse",
              score: 75,
              summary: `${agentId} sent ${variants.count} different spans under one trace and span id`,
              explanation:
                "A span does not change once it has ended, and an exporter's retry resends the same span. Different " +
                "spans under the same ids mean the ids were chosen, for instance to pass a harmful step off under " +
                "the ids of a harmless one; every copy is stored and judged on its own.",
              evidence: { traceId: span.traceId, spanId: span.spanId, variants: variants.count, names: variants.names },
              subject: `reuse/${key}`,
            },
            nowMs,
          ),
        );
      }
    }
    return alerts;
  },
};

/** (trace/span) → how many different contents the agent stored under it, when more than one. */
async function reusedIds(
  client: ClickHouseClient,
  agentId: string,
  traceIds: readonly string[],
): Promise<Map<string, { count: number; names: string[] }>> {
  if (traceIds.length === 0) return new Map();
  // The trace index gives the time range to read, so the primary key (agent, time) does the work.
  const rs = await client.query({
    query: `SELECT trace_id AS t, span_id AS s, uniqExact(cityHash64(name, start_time, end_time, attributes, events)) AS n,
              groupUniqArray(10)(name) AS names
            FROM spans
            WHERE agent_id = {agentId:String}
              AND start_time >= (SELECT min(start_time) FROM span_trace_index WHERE agent_id = {agentId:String} AND trace_id IN {traces:Array(String)})
              AND start_time <= (SELECT max(end_time) FROM span_trace_index WHERE agent_id = {agentId:String} AND trace_id IN {traces:Array(String)})
              AND trace_id IN {traces:Array(String)}
            GROUP BY trace_id, span_id HAVING n > 1`,
    query_params: { agentId, traces: traceIds },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ t: string; s: string; n: string | number; names: string[] }>();
  return new Map(rows.map((r) => [`${r.t}/${r.s}`, { count: Number(r.n), names: r.names }]));
}
