import type { GroupLabel, Matcher } from "@vigil/config";
import type { Alert } from "@vigil/store";

/** Detectors that are declared rules or policies (the rest learn baselines). */
export const RULE_DETECTORS: ReadonlySet<string> = new Set([
  "destructive_without_approval",
  "injection_then_action",
  "secret_in_prompt",
  "impersonation",
  "policy_violation",
  "backdated_spans",
  "span_id_reuse",
]);

/**
 * Detectors that flag a first time (a tool, table, host, credential, peer or environment
 * new to the agent). The inbox collapses them per agent and detector, so a flood of
 * novelty cannot push a rule's alert out of sight.
 */
export const FIRST_TIME_DETECTORS: readonly string[] = [
  "new_table",
  "new_table_operation",
  "new_tool",
  "new_host",
  "new_peer_agent",
  "new_credential",
  "credential_new_agent",
  "credential_new_host",
  "new_environment",
];

export type AlertLabels = Record<GroupLabel, string>;

/** The labels routing, grouping, silences and inhibition match on. */
export function labelsOf(alert: Alert): AlertLabels {
  return {
    agent: alert.agentId,
    detector: alert.detector,
    severity: alert.severity,
    environment: alert.environment,
    kind: RULE_DETECTORS.has(alert.detector) ? "rule" : "learned",
    session: alert.sessionId,
  };
}

/** Every label the matcher names has one of the listed values (an empty matcher matches all). */
export function matches(
  matcher: Matcher | Record<string, readonly string[]> | undefined,
  labels: AlertLabels,
): boolean {
  if (matcher === undefined) return true;
  for (const [label, values] of Object.entries(matcher) as Array<[string, readonly string[] | undefined]>) {
    if (values === undefined) continue;
    if (!values.includes(labels[label as GroupLabel])) return false;
  }
  return true;
}
