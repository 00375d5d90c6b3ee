import type { Alert, DetectSpan } from "@vigil/store";
import { hourHistogramBefore } from "@vigil/store";
import { alertFor, snapshotOf } from "../model";
import type { DetectionContext, Detector } from "../model";

/** Share of an agent's activity below which an hour counts as "essentially never". */
const RARE_HOUR_SHARE = 0.005;
/** How long after it was built a baseline snapshot stands for "the history before now". */
const SNAPSHOT_REACH_MS = 3_600_000;

const hourFormats = new Map<string, Intl.DateTimeFormat>();

/** The hour of day of a nanosecond timestamp in a timezone (a formatter per zone: building one costs more than using it). */
export function hourIn(startNs: string, timeZone: string): number {
  const ms = Number(BigInt(startNs) / 1_000_000n);
  let format = hourFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hour12: false, timeZone });
    hourFormats.set(timeZone, format);
  }
  return Number(format.format(ms)) % 24;
}

/** The UTC hour of a nanosecond timestamp, without a BigInt or a Date (it runs for every span). */
function utcHourOf(startNs: string): number {
  return Math.floor(Number(startNs.slice(0, -6)) / 3_600_000) % 24;
}

/**
 * Activity at an hour of the day where this agent has essentially never been active
 * (under 0.5% of its history), and separately a credential used at an hour it never is.
 * One alert per agent (or credential) per hour. Learned: silent while learning.
 */
export const offHours: Detector = {
  name: "off_hours",
  async detect(ctx: DetectionContext) {
    const alerts: Alert[] = [];
    const raised = new Set<string>();
    const credentialCounts = new Map<string, Map<string, number>>();
    // The aggregates already include the step's own spans: count those once, to judge
    // each span against the history before the step.
    const inStep = new Map<string, number>();
    const bump = (key: string): void => void inStep.set(key, (inStep.get(key) ?? 0) + 1);
    const histograms = new Map<string, number[]>();
    const firstInStep = new Map<string, string>();
    for (const s of ctx.spans) {
      const k = `${s.agentId}\n${s.facts.environment}`;
      const f = firstInStep.get(k);
      if (f === undefined || BigInt(s.startTimeUnixNano) < BigInt(f)) firstInStep.set(k, s.startTimeUnixNano);
      const hour = utcHourOf(s.startTimeUnixNano);
      bump(s.agentId);
      bump(`${s.agentId}\n${hour}`);
      if (s.facts.credentialId !== "") {
        bump(`${s.agentId}\n${s.facts.credentialId}`);
        bump(`${s.agentId}\n${s.facts.credentialId}@${hour}`);
      }
    }
    for (const span of ctx.spans) {
      if (await ctx.activity.learning(span, ctx.detection)) continue;
      const utcHour = utcHourOf(span.startTimeUnixNano);
      const tz = ctx.agents.get(span.agentId)?.timezone ?? "UTC";
      const hourKey = span.startTimeUnixNano.slice(0, -12); // this span's event-time hour (units of 1000 s)
      // History as it stood before the step's first span of this agent (event time).
      const agentKey = `${span.agentId}\n${span.facts.environment}`;
      let before = histograms.get(agentKey);
      if (before === undefined) {
        const first = firstInStep.get(agentKey) as string;
        const firstMs = Number(BigInt(first) / 1_000_000n);
        const snapshot = await snapshotOf(ctx, span);
        // A snapshot built shortly before the step's first span is the history before it
        // (short of the last minutes, which do not move an hour's share); otherwise read.
        before =
          snapshot !== undefined && snapshot.builtAtMs <= firstMs && firstMs - snapshot.builtAtMs < SNAPSHOT_REACH_MS
            ? snapshot.hours
            : await hourHistogramBefore(
                ctx.client,
                span.agentId,
                span.facts.environment,
                Math.floor(firstMs / 300_000) * 300,
                ctx.origin,
              );
        histograms.set(agentKey, before);
      }
      const atHour = before[utcHour] ?? 0;
      const total = before.reduce((a, b) => a + b, 0);
      const activity = `${span.agentId}/activity/${span.facts.environment}/${hourKey}`;
      if (total > 0 && atHour / total < RARE_HOUR_SHARE && !raised.has(activity)) {
        raised.add(activity);
        alerts.push(
          offHoursAlert(
            span,
            ctx,
            `activity/${span.facts.environment}/${hourKey}`,
            hourIn(span.startTimeUnixNano, tz),
            tz,
            {
              hourShare: atHour / total,
              spansAtHour: atHour,
              totalSpans: total,
            },
          ),
        );
      }
      const credential = span.facts.credentialId;
      if (credential === "") continue;
      const subject = `credential/${credential}/${hourKey}`;
      if (raised.has(`${span.agentId}/${subject}`)) continue;
      const key = `${span.agentId}\n${span.facts.environment}`;
      let counts = credentialCounts.get(key);
      if (counts === undefined) {
        counts = await credentialHistory(ctx, span.agentId, span.facts.environment);
        credentialCounts.set(key, counts);
      }
      const credTotal = (counts.get(credential) ?? 0) - (inStep.get(`${span.agentId}\n${credential}`) ?? 0);
      const credAtHour =
        (counts.get(`${credential}@${utcHour}`) ?? 0) - (inStep.get(`${span.agentId}\n${credential}@${utcHour}`) ?? 0);
      // Judged only on a substantial history of the credential (a step holding most of it
      // would otherwise leave too little to compare with).
      if (credTotal >= ctx.detection.learning_min_spans && credAtHour / credTotal < RARE_HOUR_SHARE) {
        raised.add(`${span.agentId}/${subject}`);
        alerts.push(
          offHoursAlert(
            span,
            ctx,
            subject,
            hourIn(span.startTimeUnixNano, tz),
            tz,
            { credential, usesAtHour: credAtHour, totalUses: credTotal },
            `credential ${credential} used`,
          ),
        );
      }
    }
    return alerts;
  },
};

/** Uses of every credential of an agent in the step, in total and per UTC hour, in one read each. */
async function credentialHistory(
  ctx: DetectionContext,
  agentId: string,
  environment: string,
): Promise<Map<string, number>> {
  const credentials = [
    ...new Set(
      ctx.spans.filter((s) => s.agentId === agentId && s.facts.credentialId !== "").map((s) => s.facts.credentialId),
    ),
  ];
  const hourly = credentials.flatMap((c) => Array.from({ length: 24 }, (_, h) => `${c}@${h}`));
  const [totals, hours] = await Promise.all([
    ctx.activity.seen(agentId, environment, "credential", credentials),
    ctx.activity.seen(agentId, environment, "credential_hour", hourly),
  ]);
  const out = new Map<string, number>();
  for (const [k, v] of [...totals, ...hours]) out.set(k, v.calls);
  return out;
}

function offHoursAlert(
  span: DetectSpan,
  ctx: DetectionContext,
  subject: string,
  localHour: number,
  tz: string,
  evidence: Record<string, unknown>,
  what = "activity",
): Alert {
  return alertFor(
    span,
    {
      detector: "off_hours",
      score: what === "activity" ? 60 : 80,
      summary: `${span.agentId}: ${what} at ${String(localHour).padStart(2, "0")}:00 ${tz}, an hour it is essentially never active`,
      explanation: `Less than ${RARE_HOUR_SHARE * 100}% of this ${what === "activity" ? "agent's activity" : "credential's use"} ever happened at this hour.`,
      evidence: { ...evidence, localHour, timezone: tz },
      subject,
    },
    ctx.nowMs,
  );
}
