import { credentialUsers } from "@vigil/store";
import type { Alert, DetectSpan, SeenValue } from "@vigil/store";
import { alertFor } from "../model";
import type { DetectionContext, Detector } from "../model";
import { notAfter } from "../session-history";

interface NoveltySpec {
  name: string;
  /** The agent_activity dimension and the span's values for it. */
  dimension: string;
  values: (span: DetectSpan) => string[];
  score: number;
  summary: (span: DetectSpan, value: string) => string;
  explanation: (span: DetectSpan, value: string) => string;
  /** When set, a value is only judged if this other dimension's value is already known (first DELETE on a known table). */
  requireKnown?: { dimension: string; value: (value: string) => string };
}

/**
 * "First time this agent does X": X's first occurrence in the agent's history (per
 * environment, event time) is this span. Learned: silent while the agent is learning.
 */
function noveltyDetector(spec: NoveltySpec): Detector {
  return {
    name: spec.name,
    async detect(ctx: DetectionContext) {
      const alerts: Alert[] = [];
      // One lookup per agent/environment for all values of the step. A step holds tens of
      // thousands of spans: each span's values are computed once, and grouped without
      // building a key string per span.
      const groups = new Map<string, Map<string, { spans: DetectSpan[]; values: string[][] }>>();
      for (const span of ctx.spans) {
        const values = spec.values(span);
        if (values.length === 0) continue;
        let byEnvironment = groups.get(span.agentId);
        if (byEnvironment === undefined) groups.set(span.agentId, (byEnvironment = new Map()));
        let group = byEnvironment.get(span.facts.environment);
        if (group === undefined) byEnvironment.set(span.facts.environment, (group = { spans: [], values: [] }));
        group.spans.push(span);
        group.values.push(values);
      }
      for (const group of [...groups.values()].flatMap((m) => [...m.values()])) {
        const { agentId, facts } = group.spans[0] as DetectSpan;
        const distinct = new Set<string>();
        for (const vs of group.values) for (const v of vs) distinct.add(v);
        const values = [...distinct];
        const seen = await ctx.activity.seen(agentId, facts.environment, spec.dimension, values);
        const prerequisites =
          spec.requireKnown === undefined
            ? undefined
            : await ctx.activity.seen(
                agentId,
                facts.environment,
                spec.requireKnown.dimension,
                values.map(spec.requireKnown.value),
              );
        for (let i = 0; i < group.spans.length; i++) {
          const span = group.spans[i] as DetectSpan;
          for (const value of group.values[i] as string[]) {
            const history = seen.get(value);
            // New: the value's first occurrence is this span (or it is not aggregated yet).
            if (history !== undefined && !notAfter(span.startTimeUnixNano, history.firstSeenNs)) continue;
            if (spec.requireKnown !== undefined) {
              const pre = prerequisites?.get(spec.requireKnown.value(value));
              if (
                pre === undefined ||
                !notAfter(pre.firstSeenNs, span.startTimeUnixNano) ||
                pre.firstSeenNs === span.startTimeUnixNano
              )
                continue;
            }
            if (await ctx.activity.learning(span, ctx.detection)) continue;
            alerts.push(
              alertFor(
                span,
                {
                  detector: spec.name,
                  score: spec.score,
                  summary: spec.summary(span, value),
                  explanation: spec.explanation(span, value),
                  evidence: { dimension: spec.dimension, value, environment: facts.environment, firstOccurrence: true },
                  subject: `${facts.environment}/${spec.dimension}/${value}`,
                },
                ctx.nowMs,
              ),
            );
          }
        }
      }
      return alerts;
    },
  };
}

const env = (s: DetectSpan): string => (s.facts.environment === "" ? "" : ` in ${s.facts.environment}`);

export const newTable = noveltyDetector({
  name: "new_table",
  dimension: "table",
  values: (s) => s.facts.dbTables,
  score: 70,
  summary: (s, t) => `${s.agentId} touched table ${t} for the first time${env(s)}`,
  explanation: (s, t) =>
    `In its whole history ${s.agentId} never used table ${t} before this ${s.facts.dbOperation || "statement"}.`,
});

export const newTableOperation = noveltyDetector({
  name: "new_table_operation",
  dimension: "table_operation",
  values: (s) => (s.facts.dbOperation === "" ? [] : s.facts.dbTables.map((t) => `${t}:${s.facts.dbOperation}`)),
  score: 75,
  summary: (s, v) => `${s.agentId} ran ${v.split(":").at(-1)} on ${v.split(":")[0]} for the first time${env(s)}`,
  explanation: (s, v) =>
    `${s.agentId} knows table ${v.split(":")[0]} but never ran ${v.split(":").at(-1)} on it before.`,
  requireKnown: { dimension: "table", value: (v) => v.split(":")[0] ?? v },
});

export const newTool = noveltyDetector({
  name: "new_tool",
  dimension: "tool",
  values: (s) => (s.facts.tool === "" ? [] : [s.facts.tool]),
  score: 60,
  summary: (s, t) => `${s.agentId} used tool ${t} for the first time${env(s)}`,
  explanation: (s, t) => `${s.agentId} never called the tool ${t} before.`,
});

export const newHost = noveltyDetector({
  name: "new_host",
  dimension: "host",
  values: (s) => (s.facts.outboundHost === "" || s.kind !== 3 ? [] : [s.facts.outboundHost]),
  score: 65,
  summary: (s, h) => `${s.agentId} called ${h} for the first time${env(s)}`,
  explanation: (s, h) => `${s.agentId} never sent a request to ${h} before.`,
});

export const newPeerAgent = noveltyDetector({
  name: "new_peer_agent",
  dimension: "peer",
  values: (s) => (s.facts.peerAgent === "" ? [] : [s.facts.peerAgent]),
  score: 70,
  summary: (s, p) => `${s.agentId} called agent ${p} for the first time${env(s)}`,
  explanation: (s, p) => `No call between ${s.agentId} and ${p} was ever recorded before.`,
});

export const credentialNewHost = noveltyDetector({
  name: "credential_new_host",
  dimension: "credential_host",
  values: (s) =>
    s.facts.credentialId === "" || s.facts.outboundHost === ""
      ? []
      : [`${s.facts.credentialId}@${s.facts.outboundHost}`],
  score: 75,
  summary: (s, v) =>
    `${s.agentId} sent credential ${v.split("@")[0]} to ${v.split("@").slice(1).join("@")} for the first time`,
  explanation: (s, v) => `Credential ${v.split("@")[0]} was used by ${s.agentId} before, but never with this host.`,
  requireKnown: { dimension: "credential", value: (v) => v.split("@")[0] ?? v },
});

/**
 * A credential used for the first time: by anyone (new_credential), or by an agent that
 * never used it while others did (credential_new_agent: lateral movement).
 */
export const newCredential: Detector = {
  name: "new_credential",
  async detect(ctx) {
    const alerts: Alert[] = [];
    const byCredential = new Map<string, DetectSpan[]>();
    for (const s of ctx.spans) {
      if (s.facts.credentialId === "") continue;
      const list = byCredential.get(s.facts.credentialId);
      if (list === undefined) byCredential.set(s.facts.credentialId, [s]);
      else list.push(s);
    }
    // Most uses are by an agent that used the credential before: its own history (read
    // once per step) settles those; only first uses need who else used the credential.
    const firstUses = new Map<string, DetectSpan[]>();
    for (const [credential, spans] of byCredential) {
      const histories = new Map<string, SeenValue | undefined>(); // per agent and environment
      for (const span of spans) {
        const key = `${span.agentId}\n${span.facts.environment}`;
        if (!histories.has(key))
          histories.set(
            key,
            (await ctx.activity.seen(span.agentId, span.facts.environment, "credential", [credential])).get(credential),
          );
        const mine = histories.get(key);
        if (mine !== undefined && !notAfter(span.startTimeUnixNano, mine.firstSeenNs)) continue;
        firstUses.set(credential, [...(firstUses.get(credential) ?? []), span]);
      }
    }
    const usersOf = await credentialUsers(ctx.client, [...firstUses.keys()], ctx.origin);
    for (const [credential, spans] of firstUses) {
      const users = usersOf.get(credential) ?? [];
      for (const span of spans) {
        const mine = users.find((u) => u.value === span.agentId);
        if (mine !== undefined && !notAfter(span.startTimeUnixNano, mine.firstSeenNs)) continue; // used before by this agent
        if (await ctx.activity.learning(span, ctx.detection)) continue;
        const others = users.filter(
          (u) =>
            u.value !== span.agentId &&
            notAfter(u.firstSeenNs, span.startTimeUnixNano) &&
            u.firstSeenNs !== span.startTimeUnixNano,
        );
        const lateral = others.length > 0;
        alerts.push(
          alertFor(
            span,
            {
              detector: lateral ? "credential_new_agent" : "new_credential",
              score: lateral ? 85 : 70,
              summary: lateral
                ? `${span.agentId} used credential ${credential}, until now used only by ${others.map((o) => o.value).join(", ")}`
                : `${span.agentId} used credential ${credential}, never seen before`,
              explanation: lateral
                ? "A credential moving to an agent that never held it is how lateral movement looks: check how it got there."
                : "No agent ever used this credential before.",
              evidence: { credential, previousUsers: others.map((o) => o.value), host: span.facts.outboundHost },
              credentials: [credential],
              subject: `credential/${credential}`,
            },
            ctx.nowMs,
          ),
        );
      }
    }
    return alerts;
  },
};
