import { z } from "zod";
import { MatcherSchema, parseDuration } from "@vigil/config";

/**
 * The bodies the query API takes, defined once: the routes parse with these schemas
 * (one validation style: a refused body is a 400 naming each problem), the OpenAPI
 * document describes them with their JSON Schema, and the CLI builds the same types.
 */

/** POST /api/verify: checkpoints the caller kept elsewhere, to check the ledger against. */
export const VerifyRequest = z.strictObject({
  witnesses: z.array(
    z.object({
      chainId: z.string(),
      size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      note: z.string(),
    }),
  ),
});

/** POST /api/alerts/{id}/ack. */
export const AckRequest = z.strictObject({
  note: z.string().max(2000).optional(),
});

/** POST /api/silences. */
export const SilenceRequest = z.strictObject({
  matchers: MatcherSchema.refine((m) => Object.values(m).some((v) => v !== undefined && v.length > 0), {
    message: "a silence needs at least one matcher (agent, detector, severity, environment or kind)",
  }),
  reason: z.string().trim().min(1, "say why: the reason is kept with the silence"),
  /** How long from now ("2h"), or an end time. */
  duration: z
    .string()
    .refine((d) => parseDuration(d) !== undefined, 'must be a duration such as "30m", "2h" or "1d"')
    .optional(),
  ends_at: z.iso.datetime({ offset: true }).optional(),
  starts_at: z.iso.datetime({ offset: true }).optional(),
});

/** POST /api/agents/{id}/tokens. */
export const CreateTokenRequest = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  /** An ISO time, or a duration from now ("90d"). */
  expires: z
    .string()
    .refine(
      (e) => parseDuration(e) !== undefined || !Number.isNaN(Date.parse(e)),
      'must be an ISO time or a duration like "90d"',
    )
    .optional(),
  environment: z.string().trim().min(1).optional(),
});

/** The SQL dialects the grants advisor writes. */
export const GRANT_DIALECTS = ["postgresql", "mysql", "clickhouse"] as const;

/** POST /api/agents/{id}/grants: least-privilege GRANTs for one credential, from what it did. */
export const GrantsRequest = z.strictObject({
  credential: z.string().min(1),
  dialect: z.enum(GRANT_DIALECTS).default("postgresql"),
  database: z.string().optional(),
  /** The credential's GRANTs today: the answer also says what they allow beyond use. */
  current: z.string().optional(),
  environment: z.string().optional(),
  since: z.string().optional(),
});

/** POST /api/decisions/{id}/approve and /deny: a person's answer to a gate request. */
export const DecisionAnswer = z.strictObject({
  justification: z.string().trim().min(1, "say why: the justification is kept with the decision"),
});

/** POST /api/sql: one read-only statement. */
export const SqlRequest = z.strictObject({
  sql: z.string().trim().min(1, "send one SELECT statement"),
});

/** Every request body, by the route that takes it (method and OpenAPI path). */
export const REQUEST_BODIES = {
  "post /api/verify": VerifyRequest,
  "post /api/alerts/{id}/ack": AckRequest,
  "post /api/silences": SilenceRequest,
  "post /api/agents/{id}/tokens": CreateTokenRequest,
  "post /api/agents/{id}/grants": GrantsRequest,
  "post /api/decisions/{id}/approve": DecisionAnswer,
  "post /api/decisions/{id}/deny": DecisionAnswer,
  "post /api/sql": SqlRequest,
} as const;

/** A body as a client writes it (before defaults and trimming). */
export type RequestBody<S extends z.ZodType> = z.input<S>;

/** Each problem of a refused body, as one line a person can act on. */
export function bodyProblems(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}
