import type { PolicyConfig } from "@vigil/config";
import type { YAMLMap, YAMLSeq } from "yaml";
import { Document } from "yaml";
import type { Observed, ObservedItem } from "./observe";

/** Policy fields the advisor fills, with the observed dimension each comes from. */
const FIELDS = [
  ["tools", "tool"],
  ["table_operations", "table_operation"],
  ["tables", "table"],
  ["credentials", "credential"],
  ["hosts", "host"],
  ["peers", "peer"],
] as const;
type Field = (typeof FIELDS)[number][0];

/** One item used too seldom to allow without a look. */
export interface ReviewItem {
  field: Field | "hours";
  value: string;
  calls: number;
  sessions: number;
  sampleSessions: string[];
}

export interface PolicySuggestion {
  policy: PolicyConfig;
  /** Used, but rarely: not in `policy` until someone has checked the sessions. */
  review: ReviewItem[];
}

/**
 * The policy that allows exactly what the agent used regularly in the window. Rare uses
 * (fewer sessions than the threshold) are listed for review instead: the one DELETE an
 * agent ran once is exactly what a reviewer must look at before allowing it.
 */
export function suggestPolicy(observed: Observed): PolicySuggestion {
  const policy: PolicyConfig = {};
  const review: ReviewItem[] = [];
  for (const [field, dimension] of FIELDS) {
    const items = observed.items[dimension];
    policy[field] = items
      .filter((i) => !i.rare)
      .map((i) => i.value)
      .sort();
    for (const i of items.filter((x) => x.rare)) review.push(reviewOf(field, i));
  }
  // Hours: from the first to the last regular hour, in the agent's timezone; hours used
  // only rarely outside that range are for review.
  const regular = observed.hourItems.filter((i) => !i.rare).map((i) => Number(i.value));
  if (regular.length > 0) {
    const from = Math.min(...regular);
    const to = Math.max(...regular) + 1;
    if (from > 0 || to < 24) policy.hours = `${from}-${to}`;
    for (const i of observed.hourItems)
      if (Number(i.value) < from || Number(i.value) >= to)
        review.push({
          field: "hours",
          value: `${i.value}:00`,
          calls: i.calls,
          sessions: i.sessions,
          sampleSessions: i.sampleSessions,
        });
  }
  if (observed.environment !== "") policy.environments = [observed.environment];
  return { policy, review };
}

function reviewOf(field: Field, i: ObservedItem): ReviewItem {
  return { field, value: i.value, calls: i.calls, sessions: i.sessions, sampleSessions: i.sampleSessions };
}

/** What changes between the declared policy and what the agent used. */
export interface PolicyDiff {
  /** Allowed by the declared policy, never used in the window: permissions to cut. */
  unused: Partial<Record<Field, string[]>>;
  /** Used in the window, not allowed by the declared policy (each also raised an alert). */
  notAllowed: Partial<Record<Field, string[]>>;
  /** Fields the declared policy leaves open (anything allowed) although the agent used few values. */
  unrestricted: Field[];
}

export function diffPolicy(observed: Observed, declared: PolicyConfig | undefined): PolicyDiff {
  const diff: PolicyDiff = { unused: {}, notAllowed: {}, unrestricted: [] };
  for (const [field, dimension] of FIELDS) {
    const used = new Set(observed.items[dimension].map((i) => i.value));
    const allowed = declared?.[field];
    if (allowed === undefined) {
      if (used.size > 0) diff.unrestricted.push(field);
      continue;
    }
    const norm = (v: string) => (field === "table_operations" ? v.toUpperCase() : v);
    const allowedSet = new Set(allowed.map(norm));
    const unused = allowed.filter((a) => ![...used].some((u) => norm(u) === norm(a)));
    const notAllowed = [...used].filter((u) => !allowedSet.has(norm(u)));
    if (unused.length > 0) diff.unused[field] = unused.sort();
    if (notAllowed.length > 0) diff.notAllowed[field] = notAllowed.sort();
  }
  return diff;
}

/**
 * The suggestion as the `policy:` block of Vigil's config, ready for a pull request:
 * rare uses appear as comments naming their sessions, not as allowed values.
 */
export function policyYaml(agentId: string, suggestion: PolicySuggestion, observed: Observed): string {
  const doc = new Document({ agents: [{ id: agentId, policy: suggestion.policy }] });
  doc.commentBefore =
    ` Suggested by Vigil from ${observed.spans} spans in ${observed.sessions} sessions of ${agentId}` +
    `${observed.environment === "" ? "" : ` in ${observed.environment}`}, ` +
    `${new Date(observed.fromMs).toISOString().slice(0, 10)} to ${new Date(observed.toMs).toISOString().slice(0, 10)}.\n` +
    " Merge the policy block into the agent's entry. Anything outside it alerts (policy_violation).";
  const policy = ((doc.get("agents") as YAMLSeq).items[0] as YAMLMap).get("policy") as YAMLMap;
  if (suggestion.review.length > 0) {
    policy.commentBefore =
      " Used rarely, so NOT allowed until reviewed (add to the list above if legitimate):\n" +
      suggestion.review
        .map(
          (r) =>
            `   ${r.field}: ${r.value} (${r.calls} use(s)${r.sampleSessions.length > 0 ? `, sessions ${r.sampleSessions.join(", ")}` : ""})`,
        )
        .join("\n");
  }
  return doc.toString({ lineWidth: 0 });
}
