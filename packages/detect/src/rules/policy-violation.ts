import type { PolicyConfig } from "@vigil/config";
import type { Alert, DetectSpan } from "@vigil/store";
import { hourIn } from "../learned/off-hours";
import { alertFor } from "../model";
import type { Detector } from "../model";

/** Every way a span steps outside a declared policy. */
export function policyBreaches(span: DetectSpan, policy: PolicyConfig, timezone: string): string[] {
  const f = span.facts;
  const out: string[] = [];
  const outside = (allowed: string[] | undefined, value: string, what: string): void => {
    if (allowed !== undefined && value !== "" && !allowed.includes(value)) out.push(`${what} ${value} is not allowed`);
  };
  outside(policy.tools, f.tool, "tool");
  for (const t of f.dbTables) outside(policy.tables, t, "table");
  outside(
    policy.operations?.map((o) => o.toUpperCase()),
    f.dbOperation,
    "operation",
  );
  for (const k of f.dbStatementKinds)
    if (k !== f.dbOperation)
      outside(
        policy.operations?.map((o) => o.toUpperCase()),
        k,
        "operation",
      );
  if (policy.table_operations !== undefined && f.dbOperation !== "") {
    const allowed = new Set(policy.table_operations.map((p) => p.toUpperCase()));
    for (const t of f.dbTables)
      if (!allowed.has(`${t}:${f.dbOperation}`.toUpperCase()))
        out.push(`operation ${f.dbOperation} on table ${t} is not allowed`);
  }
  outside(policy.credentials, f.credentialId, "credential");
  if (span.kind === 3) outside(policy.hosts, f.outboundHost, "host");
  outside(policy.peers, f.peerAgent, "call to agent");
  outside(policy.environments, f.environment, "environment");
  if (policy.hours !== undefined) {
    const [from, to] = policy.hours.split("-").map(Number) as [number, number];
    const hour = hourIn(span.startTimeUnixNano, timezone);
    const inside = from <= to ? hour >= from && hour < to : hour >= from || hour < to;
    if (!inside)
      out.push(
        `activity at ${String(hour).padStart(2, "0")}:00 ${timezone} is outside the allowed hours ${policy.hours}`,
      );
  }
  if (policy.destructive_tools?.includes(f.tool) === true && !f.destructive)
    out.push(`tool ${f.tool} is declared destructive`);
  return [...new Set(out)];
}

/**
 * A declared policy (config `policy:` of the agent) is broken: fires on the first
 * occurrence, no learning.
 */
export const policyViolation: Detector = {
  name: "policy_violation",
  detect({ spans, agents, nowMs }) {
    const alerts: Alert[] = [];
    for (const span of spans) {
      const agent = agents.get(span.agentId);
      if (agent?.policy === undefined) continue;
      const breaches = policyBreaches(span, agent.policy, agent.timezone);
      if (breaches.length === 0) continue;
      alerts.push(
        alertFor(
          span,
          {
            detector: "policy_violation",
            score: 90,
            summary: `${span.agentId} broke its declared policy: ${breaches[0]}${breaches.length > 1 ? ` (+${breaches.length - 1} more)` : ""}`,
            explanation:
              "The agent's policy in the Vigil config does not allow this step. Declared policies fire on the first occurrence.",
            evidence: { breaches, policy: agent.policy },
          },
          nowMs,
        ),
      );
    }
    return Promise.resolve(alerts);
  },
};
