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
export const newEnvironment: Detector = {
  name: "new_environment",
  async detect(ctx) {
    const alerts: Alert[] = [];
    const byAgent = new Map<string, DetectSpan[]>();
    for (const s of ctx.spans)
      if (s.facts.environment !== "") byAgent.set(s.agentId, [...(byAgent.get(s.agentId) ?? []), s]);
    for (const [agentId, spans] of byAgent) {
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
    }
    return alerts;
  },
};
