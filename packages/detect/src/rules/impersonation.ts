import type { Alert } from "@vigil/store";
import { alertFor } from "../model";
import type { Detector } from "../model";

/** A span claimed to come from another agent than the one whose token sent it. */
export const impersonation: Detector = {
  name: "impersonation",
  detect({ spans, nowMs }) {
    const alerts: Alert[] = [];
    for (const span of spans) {
      const claimed = span.integrity.impersonatedAgent;
      if (claimed === "") continue;
      alerts.push(
        alertFor(
          span,
          {
            detector: "impersonation",
            score: 90,
            summary: `${span.agentId} sent a span claiming to be ${claimed}`,
            explanation:
              `The span was sent with ${span.agentId}'s token but names ${claimed} as its agent. It is stored under ` +
              `${span.agentId}. Either the agent's token is used by another workload, or the agent is trying to act as ${claimed}.`,
            evidence: { tokenAgent: span.agentId, claimedAgent: claimed },
          },
          nowMs,
        ),
      );
    }
    return Promise.resolve(alerts);
  },
};
