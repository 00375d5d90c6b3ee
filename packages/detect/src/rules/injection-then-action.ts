import type { Alert, DetectSpan } from "@vigil/store";
import { injectionSignals } from "../injection";
import { alertFor } from "../model";
import type { Detector } from "../model";
import { loadSessionHistory, notAfter } from "../session-history";

/** The step changes something or reaches out: what an injected instruction would want. */
function actionOf(span: DetectSpan): string | undefined {
  const f = span.facts;
  if (f.destructive) return `destructive operation (${f.destructiveReason})`;
  if (f.dbTablesWritten.length > 0) return `write to ${f.dbTablesWritten.join(", ")}`;
  if (f.outboundHost !== "" && span.kind === 3) return `outbound call to ${f.outboundHost}`;
  if (f.credentialId !== "") return `use of credential ${f.credentialId}`;
  if (f.peerAgent !== "" && span.kind === 3) return `call to agent ${f.peerAgent}`;
  return undefined;
}

/**
 * An input that looks like a prompt injection, followed in the same session by a write,
 * a destructive operation, an outbound call, a credential use or a call to another
 * agent (the pattern Invariant's trace rules describe). Fires on the first occurrence.
 */
export const injectionThenAction: Detector = {
  name: "injection_then_action",
  async detect({ client, spans, nowMs }) {
    const actions = spans.filter((s) => s.sessionId !== "" && actionOf(s) !== undefined);
    if (actions.length === 0) return [];
    const history = await loadSessionHistory(client, actions);
    const alerts: Alert[] = [];
    for (const span of actions) {
      const inputs = history.get(`${span.agentId}\n${span.sessionId}`)?.inputs ?? [];
      const cause = inputs
        .filter((i) => notAfter(i.startNs, span.startTimeUnixNano))
        .map((i) => ({ ...i, signals: injectionSignals(i.input) }))
        .find((i) => i.signals.length > 0);
      if (cause === undefined) continue;
      const action = actionOf(span) as string;
      alerts.push(
        alertFor(
          span,
          {
            detector: "injection_then_action",
            score: 95,
            summary: `${span.agentId} performed a ${action} after an input that looks like a prompt injection`,
            explanation:
              `Earlier in session ${span.sessionId}, an input matched injection patterns (${cause.signals.join(", ")}); ` +
              `this step then performed a ${action}. Check whether the agent followed the injected instruction.`,
            evidence: {
              action,
              injectedInput: cause.input.slice(0, 2000),
              injectedSpan: { traceId: cause.traceId, spanId: cause.spanId },
              signals: cause.signals,
            },
            spanIds: [span.spanId, cause.spanId],
          },
          nowMs,
        ),
      );
    }
    return alerts;
  },
};
