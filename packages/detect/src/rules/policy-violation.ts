import type { PolicyConfig } from "@vigil/config";
import type { Alert, DetectSpan } from "@vigil/store";
import { hourIn } from "../learned/off-hours";
import { alertFor } from "../model";
import type { Detector } from "../model";

/** Every way a span steps outside a declared policy. */
export function policyBreaches(
  span: Pick<DetectSpan, "facts" | "kind" | "startTimeUnixNano">,
  policy: PolicyConfig,
  timezone: string,
): string[] {
  const f = span.facts;
  const out: string[] = [];
  const outside = (allowed: string[] | undefined, value: string, what: string): void => {
    if (allowed !== undefined && value !== "" && !allowed.includes(value)) out.push(`${what} ${value} is not allowed`);
  };
  outside(policy.tools, f.tool, "tool");
  // Fail closed: under an allow-list, a step of that kind whose fact cannot be read is not
  // let through silently (a tool span without a tool name, a statement whose tables could
  // not be read, an outbound call without a host).
  if (policy.tools !== undefined && f.tool === "" && f.operation === "execute_tool")
    out.push("a tool step whose tool could not be identified");
  if (
    policy.tables !== undefined &&
    f.dbTables.length === 0 &&
    f.dbSystem !== "" &&
    (f.dbTablesApproximate || f.dbStatementKinds.length === 0)
  )
    out.push("a database step whose tables could not be identified");
  // (An MCP request's server is its peer: over stdio or in memory it has no host.)
  if (
    policy.hosts !== undefined &&
    span.kind === 3 &&
    f.outboundHost === "" &&
    f.dbSystem === "" &&
    f.operation === "" &&
    f.mcpMethod === "" &&
    f.mcpServer === ""
  )
    out.push("an outbound call whose host could not be identified");
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
