import type { Alert } from "@vigil/store";
import { injectionSignals } from "../injection";
import { alertFor } from "../model";
import type { Detector } from "../model";
import { actionOf } from "../actions";
import { notAfter } from "../session-history";

/**
 * An input that looks like a prompt injection, followed in the same session by a write,
 * a destructive operation, an outbound call, a credential use or a call to another
 * agent (the pattern Invariant's trace rules describe). Fires on the first occurrence.
 */
export const injectionThenAction: Detector = {
  name: "injection_then_action",
  async detect({ spans, sessions, nowMs }) {
    const actions = spans.filter((s) => s.sessionId !== "" && actionOf(s) !== undefined);
    if (actions.length === 0) return [];
    const history = await sessions.history();
    const alerts: Alert[] = [];
    for (const span of actions) {
      const inputs = history.get(`${span.agentId}\n${span.sessionId}`)?.inputs ?? [];
      const injected = inputs
        .filter((i) => notAfter(i.startNs, span.startTimeUnixNano))
        .map((i) => ({ ...i, signals: injectionSignals(i.input) }))
        .filter((i) => i.signals.length > 0);
      const [cause] = injected;
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
              // The way the injected text came to the action: the input it arrived in (a
              // tool's result, a message), each later step still given it (a model call
              // whose prompt carried that result), then this step.
              path: [
                ...injected.map((i, n) => ({
                  step: n === 0 ? "injected input" : "carried it",
                  traceId: i.traceId,
                  spanId: i.spanId,
                  excerpt: i.input.slice(0, 200),
                })),
                { step: "action", traceId: span.traceId, spanId: span.spanId, excerpt: action },
              ],
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
