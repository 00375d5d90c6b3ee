import type { AgentConfig } from "@vigil/config";
import { policyBreaches } from "@vigil/detect";
import type { SpanFacts } from "@vigil/facts";
import type { Action } from "./action";

/** What the agent did before, for the triggers judged against its history. */
export interface KnownActivity {
  hosts: ReadonlySet<string>;
  /** "table:OPERATION" pairs the agent has run. */
  tableOperations: ReadonlySet<string>;
  credentials: ReadonlySet<string>;
  /** "credential@host" pairs the agent has used. */
  credentialHosts: ReadonlySet<string>;
}

export interface Verdict {
  decision: "allow" | "deny" | "pending";
  /** Why, in words a person reads: every answer explains itself. */
  reasons: string[];
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The gate's answer to an action, from its facts and the agent's declared config:
 * `deny` when it is outside a policy marked blocking, `pending` when it is of a kind the
 * agent's `approvals.require` sends to a human (irreversible by default), `allow`
 * otherwise. No store read here (the caller reads `known` only for agents whose
 * triggers need their history): the answer is immediate, cheap enough before every action.
 */
export function decide(
  action: Action,
  facts: SpanFacts,
  agent: AgentConfig | undefined,
  nowMs: number,
  known?: KnownActivity,
): Verdict {
  if (agent === undefined) return { decision: "deny", reasons: ["the agent is not declared in Vigil's config"] };
  const breaches =
    agent.policy === undefined
      ? []
      : policyBreaches(
          {
            facts,
            kind: action.kind === "tool" ? 1 : 3,
            startTimeUnixNano: String(BigInt(nowMs) * 1_000_000n),
          } as Parameters<typeof policyBreaches>[0],
          agent.policy,
          agent.timezone,
        );
  if (breaches.length > 0 && agent.policy?.blocking === true)
    return { decision: "deny", reasons: breaches.map((b) => `${b} (the policy blocks it)`) };
  const require = new Set(agent.approvals.require);
  const needs: string[] = [];
  const destructiveTool = action.kind === "tool" && agent.policy?.destructive_tools?.includes(action.name) === true;
  if (require.has("destructive") && (facts.destructive || destructiveTool))
    needs.push(`irreversible: ${facts.destructiveReason || `tool ${facts.tool} is declared destructive`}`);
  if (require.has("outside_policy")) needs.push(...breaches);
  if (require.has("outbound_write") && action.kind === "http" && WRITE_METHODS.has(action.method.toUpperCase()))
    needs.push(`writes to ${facts.outboundHost} (${action.method.toUpperCase()})`);
  const writes = action.kind === "http" && WRITE_METHODS.has(action.method.toUpperCase());
  if (require.has("new_host_write") && writes && known !== undefined && !known.hosts.has(facts.outboundHost))
    needs.push(`writes to ${facts.outboundHost}, a host this agent never used`);
  if (require.has("new_table_write") && known !== undefined)
    for (const t of facts.dbTablesWritten)
      if (!known.tableOperations.has(`${t}:${facts.dbOperation}`))
        needs.push(`${facts.dbOperation} on ${t}, which this agent never did`);
  const credential = facts.credentialId;
  if (require.has("new_credential_use") && credential !== "" && known !== undefined) {
    if (!known.credentials.has(credential)) needs.push(`uses credential ${credential}, which this agent never used`);
    else if (facts.outboundHost !== "" && !known.credentialHosts.has(`${credential}@${facts.outboundHost}`))
      needs.push(`uses credential ${credential} toward ${facts.outboundHost}, where this agent never used it`);
  }
  if (needs.length > 0) return { decision: "pending", reasons: needs };
  return {
    decision: "allow",
    reasons: [
      breaches.length > 0
        ? `outside the policy (${breaches.join("; ")}), which this agent's approvals do not send to a human`
        : "within the declared policy and not of a kind this agent's approvals send to a human",
    ],
  };
}
