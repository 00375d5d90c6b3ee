import type { Alert, DetectSpan } from "@vigil/store";
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
  // Within the batches of one detection step, with no store query: a check against every
  // stored span of the same traces made detection's queries grow with the traffic (the
  // trace ids of a busy step do not fit in a request), so copies sent far apart are not
  // compared here; each is still stored and alerted on by its own content.
  detect({ spans, nowMs }) {
    // Group by ids first: almost every id pair has one span, and only pairs with more
    // than one need their contents compared (a step holds tens of thousands of spans).
    const byIds = new Map<string, DetectSpan[]>();
    for (const s of spans) {
      const key = `${s.agentId}\n${s.traceId}/${s.spanId}`;
      const group = byIds.get(key);
      if (group === undefined) byIds.set(key, [s]);
      else group.push(s);
    }
    const alerts: Alert[] = [];
    for (const group of byIds.values()) {
      if (group.length < 2) continue;
      const span = group[0] as DetectSpan;
      const contents = new Set(
        group.map((g) => JSON.stringify([g.name, g.startTimeUnixNano, g.endTimeUnixNano, g.facts])),
      );
      if (contents.size < 2) continue;
      const names = new Set(group.map((g) => g.name));
      alerts.push(
        alertFor(
          span,
          {
            detector: "span_id_reuse",
            score: 75,
            summary: `${span.agentId} sent ${contents.size} different spans under one trace and span id`,
            explanation:
              "A span does not change once it has ended, and an exporter's retry resends the same span. Different " +
              "spans under the same ids mean the ids were chosen, for instance to pass a harmful step off under " +
              "the ids of a harmless one; every copy is stored and judged on its own.",
            evidence: { traceId: span.traceId, spanId: span.spanId, variants: contents.size, names: [...names] },
            subject: `reuse/${span.traceId}/${span.spanId}`,
          },
          nowMs,
        ),
      );
    }
    return Promise.resolve(alerts);
  },
};
