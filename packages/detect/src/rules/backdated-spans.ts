import type { Alert, DetectSpan } from "@vigil/store";
import { alertFor } from "../model";
import type { Detector } from "../model";

/** A span that ended this long before Vigil received it was backdated (exporters buffer for seconds, not hours). */
const BACKDATED_AFTER_MS = 3600_000;
const DAY_MS = 86_400_000;

/**
 * Spans the agent dated long before Vigil received them. The event time is the agent's
 * to state: a step dated into the agent's first days would be judged as old history and
 * make its tool look known (`exfil_tool` sent 9.5 days in the past raised nothing). Such
 * steps are backfill (marked at ingest) and train nothing; this rule says that an agent
 * sent them: every such batch of an agent raises one alert, from the first span, with
 * how many, how old, and which tools. History an administrator imports is not backfill.
 */
export const backdatedSpans: Detector = {
  name: "backdated_spans",
  async detect({ spans, nowMs }) {
    const byAgent = new Map<string, DetectSpan[]>();
    for (const s of spans) {
      const lateMs = s.receivedAtMs - Number(BigInt(s.endTimeUnixNano) / 1_000_000n);
      if (s.integrity.backfill && lateMs > BACKDATED_AFTER_MS) {
        const group = byAgent.get(s.agentId);
        if (group === undefined) byAgent.set(s.agentId, [s]);
        else group.push(s);
      }
    }
    const alerts: Alert[] = [];
    for (const [agentId, late] of byAgent) {
      const first = late[0] as DetectSpan;
      const oldestMs = Math.min(...late.map((s) => Number(BigInt(s.startTimeUnixNano) / 1_000_000n)));
      const days = (first.receivedAtMs - oldestMs) / DAY_MS;
      const tools = [...new Set(late.map((s) => s.facts.tool).filter((t) => t !== ""))].slice(0, 20);
      alerts.push(
        alertFor(
          first,
          {
            detector: "backdated_spans",
            score: late.length >= 100 || days >= 1 ? 80 : 55,
            summary: `${agentId} sent ${late.length} span(s) dated up to ${days >= 1 ? `${days.toFixed(1)} days` : `${Math.round(days * 24)} h`} before Vigil received them`,
            explanation:
              "The event time is the agent's to state. Steps dated into the past are judged against history as if " +
              "they were old, and can make a new tool, table or host look known; an exporter delivers within seconds, " +
              "so Vigil flags steps received more than an hour after they say they ended; they train nothing. Import " +
              "real history as an admin (POST /v1/import/traces), not through an agent's token.",
            evidence: {
              spans: late.length,
              oldestEventTime: new Date(oldestMs).toISOString(),
              receivedAt: new Date(first.receivedAtMs).toISOString(),
              tools,
            },
            spanIds: late.slice(0, 50).map((s) => s.spanId),
          },
          nowMs,
        ),
      );
    }
    return alerts;
  },
};
