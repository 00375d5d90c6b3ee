import { environmentsFirstSeen } from "@vigil/store";
import type { Alert, DetectSpan } from "@vigil/store";
import { alertFor } from "../model";
import type { Detector } from "../model";
import { notAfter } from "../session-history";

/**
 * An agent's first step in an environment, when it has history elsewhere. The span
 * names its environment, so a new one once meant a fresh profile in which every learned
 * detector was silent ("environment hopping"); now the first step there is itself an
 * alert, and the agent is judged by its whole profile (see ActivityCache).
 */
/** Per store: the environments each agent is known to have used (only ever grows). */
const KNOWN = new WeakMap<object, Map<string, Set<string>>>();
function knownEnvironments(client: object): Map<string, Set<string>> {
  let m = KNOWN.get(client);
  if (m === undefined) KNOWN.set(client, (m = new Map()));
  return m;
}

export const newEnvironment: Detector = {
  name: "new_environment",
  async detect(ctx) {
    const alerts: Alert[] = [];
    const byAgent = new Map<string, DetectSpan[]>();
    for (const s of ctx.spans)
      if (s.facts.environment !== "") {
        const group = byAgent.get(s.agentId);
        if (group === undefined) byAgent.set(s.agentId, [s]);
        else group.push(s);
      }
    const known = knownEnvironments(ctx.client);
    for (const [agentId, spans] of byAgent) {
      // Almost every step is in environments already known before it: no query then (a
      // query per step held the embedded engine from ingest's writes: half the throughput).
      const seenBefore = known.get(agentId);
      if (seenBefore !== undefined && spans.every((s) => seenBefore.has(s.facts.environment))) continue;
      const firstSeen = await environmentsFirstSeen(ctx.client, agentId);
      const flagged = new Set<string>();
      for (const span of spans) {
        const env = span.facts.environment;
        const first = firstSeen.get(env);
        if (flagged.has(env) || (first !== undefined && !notAfter(span.startTimeUnixNano, first))) continue;
        const elsewhere = [...firstSeen].filter(([e, ns]) => e !== env && BigInt(ns) < BigInt(span.startTimeUnixNano));
        if (elsewhere.length === 0) continue; // a new agent, not a new environment
        if (await ctx.activity.learning(span, ctx.detection)) continue;
        flagged.add(env);
        const others = elsewhere.map(([e]) => e || "(none)").join(", ");
        alerts.push(
          alertFor(
            span,
            {
              detector: "new_environment",
              score: 70,
              summary: `${agentId} acted in environment ${env} for the first time`,
              explanation:
                `Until now ${agentId} ran in ${others}. A new environment has no history of its own, so ` +
                "Vigil judges the agent there by its whole profile and flags the first step (declare an agent's " +
                "environments in its config to refuse spans of any other).",
              evidence: { environment: env, knownEnvironments: elsewhere.map(([e]) => e) },
              subject: `environment/${env}`,
            },
            ctx.nowMs,
          ),
        );
      }
      // Environments that existed before this step's spans are known for good.
      const earliest = spans.reduce(
        (m, s) => (BigInt(s.startTimeUnixNano) < m ? BigInt(s.startTimeUnixNano) : m),
        BigInt(spans[0]?.startTimeUnixNano ?? "0"),
      );
      const set = known.get(agentId) ?? new Set<string>();
      for (const [env, ns] of firstSeen) if (BigInt(ns) < earliest || flagged.has(env)) set.add(env);
      known.set(agentId, set);
    }
    return alerts;
  },
};
