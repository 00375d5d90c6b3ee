import type { Alert } from "@vigil/store";
import { alertFor } from "../model";
import type { Detector } from "../model";

/** A credential was found (and redacted) in what an agent sent: it must be rotated. */
export const secretInPrompt: Detector = {
  name: "secret_in_prompt",
  detect({ spans, nowMs }) {
    const alerts: Alert[] = [];
    for (const span of spans) {
      const found = span.integrity.redactions;
      if (found.length === 0) continue;
      const families = [...new Set(found.map((r) => r.rule))];
      alerts.push(
        alertFor(
          span,
          {
            detector: "secret_in_prompt",
            score: 85,
            summary: `${span.agentId} sent a credential (${families.join(", ")}) in ${found[0]?.location ?? "a span"}`,
            explanation:
              `Ingest found ${found.length} credential(s) in this span and stored only redaction markers. ` +
              "The credential left the agent's process: rotate it (match it by fingerprint).",
            evidence: { redactions: found },
            credentials: [...new Set(found.map((r) => `${r.rule}:${r.fingerprint}`))],
          },
          nowMs,
        ),
      );
    }
    return Promise.resolve(alerts);
  },
};
