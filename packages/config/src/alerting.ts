import { readFileSync } from "node:fs";
import { z } from "zod";
import type { EnvironmentVariables } from "./environment";

/**
 * Alert routing, in the shape of Prometheus Alertmanager's: receivers, a routing tree
 * with grouping and timing, inhibition rules. Secrets (Slack webhook URLs, PagerDuty
 * routing keys, webhook signing secrets) are never inline: they name an environment
 * variable or a file.
 */

/** "30s", "5m", "4h", "500ms", "1d" → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) return undefined;
  return (
    Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms" | "s" | "m" | "h" | "d"]
  );
}

const Duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, 'must be a duration such as "500ms", "30s", "5m", "4h" or "1d"');

export const SecretRefSchema = z.union(
  [
    z.strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name") }),
    z.strictObject({ file: z.string().min(1) }),
  ],
  { error: "must be {env: NAME} or {file: /path}: secrets are never written in the config itself" },
);
export type SecretRef = z.infer<typeof SecretRefSchema>;

/** Reads a secret reference; undefined when there is none, the variable is unset or the file unreadable. */
export function resolveSecret(ref: SecretRef | undefined, env: EnvironmentVariables): string | undefined {
  if (ref === undefined) return undefined;
  if ("env" in ref) {
    const v = env[ref.env];
    return v === undefined || v === "" ? undefined : v;
  }
  try {
    const v = readFileSync(ref.file, "utf8").trim();
    return v === "" ? undefined : v;
  } catch {
    return undefined;
  }
}

const Url = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

export const ReceiverSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1-63 characters of a-z, 0-9, '.', '_' or '-'"),
    slack: z.strictObject({ webhook_url: SecretRefSchema }).optional(),
    pagerduty: z
      .strictObject({
        routing_key: SecretRefSchema,
        /** The Events API v2 endpoint (a regional or test endpoint may replace it). */
        url: Url.default("https://events.pagerduty.com/v2/enqueue"),
      })
      .optional(),
    webhook: z.strictObject({ url: Url, secret: SecretRefSchema }).optional(),
    /** Deliveries per second to this receiver (default: Slack 1, PagerDuty 2, webhook 10). */
    rate_per_second: z.number().positive().max(1000).optional(),
  })
  .refine((r) => [r.slack, r.pagerduty, r.webhook].filter((x) => x !== undefined).length === 1, {
    message: "a receiver is exactly one of slack, pagerduty or webhook",
  });
export type ReceiverConfig = z.infer<typeof ReceiverSchema>;

const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;

/** Matches alerts by label; every given label must match one of its values. */
export const MatcherSchema = z.strictObject({
  detector: z.array(z.string().min(1)).optional(),
  severity: z.array(z.enum(SEVERITIES)).optional(),
  agent: z.array(z.string().min(1)).optional(),
  environment: z.array(z.string()).optional(),
  /** "rule" (declared rules and policies) or "learned" (baselines). */
  kind: z.array(z.enum(["rule", "learned"])).optional(),
});
export type Matcher = z.infer<typeof MatcherSchema>;

/** Labels an alert can be grouped by. */
export const GROUP_LABELS = ["agent", "detector", "severity", "environment", "kind", "session"] as const;
export type GroupLabel = (typeof GROUP_LABELS)[number];

export interface RouteConfig {
  receiver?: string | undefined;
  match?: Matcher | undefined;
  group_by?: GroupLabel[] | undefined;
  group_wait?: string | undefined;
  group_interval?: string | undefined;
  repeat_interval?: string | undefined;
  /** Resolve a group this long after its last alert (the condition cleared); default: only when acknowledged. */
  resolve_timeout?: string | undefined;
  continue?: boolean | undefined;
  routes?: RouteConfig[] | undefined;
}

export const RouteSchema: z.ZodType<RouteConfig> = z.lazy(() =>
  z.strictObject({
    receiver: z.string().min(1).optional(),
    match: MatcherSchema.optional(),
    group_by: z.array(z.enum(GROUP_LABELS)).optional(),
    group_wait: Duration.optional(),
    group_interval: Duration.optional(),
    repeat_interval: Duration.optional(),
    resolve_timeout: Duration.optional(),
    continue: z.boolean().optional(),
    routes: z.array(RouteSchema).optional(),
  }),
);

/** Alerts matching `target` are muted while an alert matching `source` with the same `equal` labels is within `window`. */
export const InhibitRuleSchema = z.strictObject({
  source: MatcherSchema,
  target: MatcherSchema,
  equal: z.array(z.enum(GROUP_LABELS)).default(["agent"]),
  window: Duration.default("1h"),
});
export type InhibitRuleConfig = z.infer<typeof InhibitRuleSchema>;
