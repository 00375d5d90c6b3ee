import type { Alert } from "@vigil/store";
import { alertFor } from "../model";
import type { Detector } from "../model";
import { notAfter } from "../session-history";

/**
 * A destructive operation (DROP, TRUNCATE, ALTER, DELETE, UPDATE without WHERE) that does
 * not carry an approval Vigil signed for exactly it (the confirmation gate's token,
 * verified at ingest). Approvals the agent reports itself are shown as unverified and do
 * not count, unless the agent's `approvals.accept_self_reported` says they may (for
 * agents that cannot call the gate): then an approved one earlier in the session does.
 */
export const destructiveWithoutApproval: Detector = {
  name: "destructive_without_approval",
  async detect({ spans, sessions, agents, nowMs }) {
    const destructive = spans.filter((s) => s.facts.destructive);
    if (destructive.length === 0) return [];
    const history = await sessions.history();
    const alerts: Alert[] = [];
    for (const span of destructive) {
      if (span.facts.approvalStatus === "verified") continue;
      const h = history.get(`${span.agentId}\n${span.sessionId}`);
      const selfReported = h?.approvals.find(
        (a) => a.status === "approved" && notAfter(a.startNs, span.startTimeUnixNano),
      );
      if (selfReported !== undefined && agents.get(span.agentId)?.approvals.accept_self_reported === true) continue;
      const token = span.facts.approvalStatus.startsWith("unverified:")
        ? ` It carried an approval token that did not verify: ${span.facts.approvalStatus.slice("unverified:".length)}.`
        : "";
      const reported =
        selfReported === undefined
          ? ""
          : ` The agent reported approval ${selfReported.approvalId} itself, which is not evidence: only approvals Vigil signed count.`;
      const what = `${span.facts.destructiveReason}${span.facts.dbTables.length > 0 ? ` on ${span.facts.dbTables.join(", ")}` : ""}`;
      alerts.push(
        alertFor(
          span,
          {
            detector: "destructive_without_approval",
            score: 95,
            summary: `${span.agentId} ran ${what} without a human approval`,
            explanation: `The step destroys data and carries no approval Vigil signed for it.${token}${reported}`,
            evidence: {
              operation: span.facts.dbOperation,
              reason: span.facts.destructiveReason,
              tables: span.facts.dbTables,
              statementKinds: span.facts.dbStatementKinds,
              tool: span.facts.tool,
              approvalStatus: span.facts.approvalStatus,
              approvalId: span.facts.approvalId,
              selfReportedApprovals: (h?.approvals ?? []).map((a) => ({ ...a, verified: false })),
            },
          },
          nowMs,
        ),
      );
    }
    return alerts;
  },
};
