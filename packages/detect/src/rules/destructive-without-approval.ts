import type { Alert } from "@vigil/store";
import { alertFor } from "../model";
import type { Detector } from "../model";
import { notAfter } from "../session-history";

/**
 * A destructive operation (DROP, TRUNCATE, ALTER, DELETE, UPDATE without WHERE) with no
 * approved human approval earlier in the same session. Fires on the first occurrence.
 */
export const destructiveWithoutApproval: Detector = {
  name: "destructive_without_approval",
  async detect({ spans, sessions, nowMs }) {
    const destructive = spans.filter((s) => s.facts.destructive);
    if (destructive.length === 0) return [];
    const history = await sessions.history();
    const alerts: Alert[] = [];
    for (const span of destructive) {
      const h = history.get(`${span.agentId}\n${span.sessionId}`);
      const approved = h?.approvals.find((a) => a.status === "approved" && notAfter(a.startNs, span.startTimeUnixNano));
      if (approved !== undefined) continue;
      const what = `${span.facts.destructiveReason}${span.facts.dbTables.length > 0 ? ` on ${span.facts.dbTables.join(", ")}` : ""}`;
      alerts.push(
        alertFor(
          span,
          {
            detector: "destructive_without_approval",
            score: 95,
            summary: `${span.agentId} ran ${what} without a human approval`,
            explanation:
              span.sessionId === ""
                ? "The step destroys data and belongs to no session, so no approval can precede it."
                : `No approved vigil.approval precedes this step in session ${span.sessionId}` +
                  `${h !== undefined && h.approvals.length > 0 ? ` (approvals seen: ${h.approvals.map((a) => `${a.approvalId}=${a.status}`).join(", ")})` : ""}.`,
            evidence: {
              operation: span.facts.dbOperation,
              reason: span.facts.destructiveReason,
              tables: span.facts.dbTables,
              statementKinds: span.facts.dbStatementKinds,
              tool: span.facts.tool,
              approvalsInSession: h?.approvals ?? [],
            },
          },
          nowMs,
        ),
      );
    }
    return alerts;
  },
};
