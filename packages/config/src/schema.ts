import { z } from "zod";
import { AUDIT_FORMATS, UNMAPPED_DB_USER_AGENT } from "./audit";
import { InhibitRuleSchema, ReceiverSchema, RouteSchema, SecretRefSchema } from "./alerting";
import type { RouteConfig } from "./alerting";

const SHA256_HEX = /^[0-9a-f]{64}$/;
const AGENT_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** An ingest token, stored only as the SHA-256 of the bearer value. */
export const TokenSchema = z.strictObject({
  sha256: z.string().regex(SHA256_HEX, "must be the lowercase hex SHA-256 of the token (64 characters)"),
  /** A label for listing and rotation ("ci-2026-11"). */
  name: z.string().min(1).optional(),
  /** After this instant the token is refused. */
  expires: z.iso
    .datetime({ offset: true, message: "must be an ISO 8601 date-time, e.g. 2026-12-31T00:00:00Z" })
    .optional(),
  /** When set, the token may only write spans of this deployment environment. */
  environment: z.string().min(1).optional(),
  /**
   * The credential id the agent's spans name for this database user (`vigil.credential.id`):
   * its audit records then count as uses of that credential, so what the agent reported
   * and what the database saw add up to one history (the advisor's GRANTs included).
   * Without it, records name the credential `<system>:<user>`.
   */
  credential: z.string().min(1).optional(),
});

const HOURS = /^([01]?\d|2[0-3])-([01]?\d|2[0-4])$/;

/**
 * What an agent is allowed to do. Anything outside a declared list raises a
 * policy_violation on its first occurrence, with no learning period. Omitted lists
 * allow anything.
 */
export const PolicySchema = z.strictObject({
  tools: z.array(z.string().min(1)).optional(),
  tables: z.array(z.string().min(1)).optional(),
  /** Database operations (SELECT, INSERT, UPDATE, DELETE, DROP, ...), any table. */
  operations: z.array(z.string().min(1)).optional(),
  /** Operations allowed on each table, "table:OPERATION" (invoices:SELECT): the least-privilege form. */
  table_operations: z
    .array(z.string().regex(/^[^:\s]+:[A-Za-z_ ]+$/, 'must look like "table:OPERATION", e.g. invoices:SELECT'))
    .optional(),
  credentials: z.array(z.string().min(1)).optional(),
  hosts: z.array(z.string().min(1)).optional(),
  peers: z.array(z.string().min(1)).optional(),
  /** Allowed hours of the day in the agent's timezone, "8-18" (end exclusive). */
  hours: z.string().regex(HOURS, 'must look like "8-18" (start hour, end hour, 0-24)').optional(),
  environments: z.array(z.string().min(1)).optional(),
  /** Tools that destroy data even though no SQL says so. */
  destructive_tools: z.array(z.string().min(1)).optional(),
  /** When true, the confirmation gate denies actions outside this policy (not only alerts on them). */
  blocking: z.boolean().optional(),
});

/** What the confirmation gate asks a human for, per agent. */
export const AgentApprovalsSchema = z.strictObject({
  /**
   * Which actions need a human: irreversible ones (destructive SQL, declared destructive
   * tools), ones outside the declared policy, outbound writes (POST/PUT/PATCH/DELETE),
   * and, judged against the agent's history, outbound writes to a host it never used,
   * writes to a table it never wrote, and a credential used outside its pattern (one the
   * agent never used, or toward a host it never used it with).
   */
  require: z
    .array(
      z.enum([
        "destructive",
        "outside_policy",
        "outbound_write",
        "new_host_write",
        "new_table_write",
        "new_credential_use",
      ]),
    )
    .default(["destructive"]),
  /** Minutes a request waits for a decision (fractions allowed); expiry is a denial. */
  timeout_minutes: z.number().min(0.05).max(1440).default(15),
  /**
   * Accept approvals the agent reports itself (vigil.approval.* spans), for agents that
   * cannot call the gate. Off: only approvals Vigil signed count.
   */
  accept_self_reported: z.boolean().default(false),
});

/** Where approval requests go, and who may answer them from Slack. */
export const ApprovalsSchema = z.strictObject({
  /** Slack receivers (by name) that get each pending request with Approve / Deny buttons. */
  receivers: z.array(z.string().min(1)).default([]),
  /** The Slack app's signing secret: Vigil checks every interactivity request against it. */
  slack_signing_secret: SecretRefSchema.optional(),
  /** Slack user ids allowed to approve; empty: anyone in the channel (every decision names its approver). */
  slack_approvers: z.array(z.string().min(1)).default([]),
});

export const AgentSchema = z.strictObject({
  id: z
    .string()
    .regex(AGENT_ID, "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"),
  tokens: z.array(TokenSchema).min(1, "an agent needs at least one token"),
  /** Host names at which this agent serves other agents: a CLIENT span to one is a peer-agent call. */
  hosts: z.array(z.string().min(1)).default([]),
  /**
   * The deployment environments this agent runs in. Spans naming another are rejected
   * (partial success), so an agent cannot invent an environment to get a fresh, silent
   * profile. Empty: any environment, and detection judges the agent by one profile
   * across all of them.
   */
  environments: z.array(z.string().min(1)).default([]),
  /** Names the agent's spans may claim (service.name, gen_ai.agent.*) besides its id; any other claim is impersonation. */
  claims: z.array(z.string().min(1)).default([]),
  /** IANA timezone of the agent's working hours (off-hours detection, policy hours). */
  timezone: z
    .string()
    .min(1)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat("en", { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, "must be an IANA timezone such as Europe/Paris")
    .default("UTC"),
  policy: PolicySchema.optional(),
  approvals: AgentApprovalsSchema.default({
    require: ["destructive"],
    timeout_minutes: 15,
    accept_self_reported: false,
  }),
});

/** A key for the query API and console. `reader` investigates; `admin` also changes state (ack, silences, checkpoints). */
export const ApiKeySchema = z.strictObject({
  name: z.string().min(1),
  sha256: z.string().regex(SHA256_HEX, "must be the lowercase hex SHA-256 of the key (64 characters)"),
  /** reader investigates; approver also decides approval requests; admin also changes state. */
  role: z.enum(["reader", "approver", "admin"]),
});

/** Cold start for learned detectors: nothing pages until an agent has this much history (event time). */
export const DetectionSchema = z.strictObject({
  learning_days: z.number().min(0).default(7),
  learning_min_spans: z.number().int().min(0).default(500),
  /** Calls in a 5-minute bucket below which volume is never an incident. */
  call_volume_floor: z.number().int().min(1).default(50),
  /**
   * A step an agent sends more than this many minutes from the end time it states is
   * backfill: stored and judged, but it trains no baseline and makes nothing "known"
   * (an administrator imports real history instead).
   */
  backfill_after_minutes: z.number().min(1).default(10),
});

/** Which agent (and environment) a database user is: audit records of the user are judged as that agent's. */
export const DatabaseUserSchema = z.strictObject({
  user: z.string().min(1),
  agent: z.string().regex(AGENT_ID, "must be a declared agent id"),
  environment: z.string().min(1).optional(),
  /**
   * The credential id the agent's spans name for this database user (`vigil.credential.id`):
   * its audit records then count as uses of that credential, so what the agent reported
   * and what the database saw add up to one history (the advisor's GRANTs included).
   * Without it, records name the credential `<system>:<user>`.
   */
  credential: z.string().min(1).optional(),
});

/**
 * A database whose own audit log Vigil reads: the ground truth beside the agents'
 * spans. Records arrive as OTLP log records on /v1/logs with one of `tokens` (from a
 * collector's filelog receiver, say), or from `file`, which Vigil follows itself.
 */
export const AuditSourceSchema = z.strictObject({
  id: z.string().regex(AGENT_ID, "must be 1-63 characters of a-z, 0-9, '.', '_' or '-'"),
  format: z.enum(AUDIT_FORMATS),
  /** A log file Vigil follows (position kept across restarts and rotation). */
  file: z.string().min(1).optional(),
  tokens: z.array(TokenSchema.pick({ sha256: true, name: true })).default([]),
  /** MariaDB's audit file has local times without a zone: the server's offset from UTC, minutes. */
  utc_offset_minutes: z.number().int().min(-840).max(840).default(0),
  users: z.array(DatabaseUserSchema).default([]),
});

/** Reported vs observed: how audit records are matched to agents' spans. */
export const AuditSchema = z.strictObject({
  sources: z.array(AuditSourceSchema).default([]),
  /** A span matches an audit record when its time is within this many seconds of the record's. */
  match_window_seconds: z.number().min(1).max(3600).default(120),
  /** An agent whose database user is active while it sends no spans for this long is silent. */
  silence_minutes: z.number().min(1).max(1440).default(10),
});

/** The YAML file named by VIGIL_CONFIG. Unknown keys are errors, so typos do not pass silently. */
export const VigilConfigSchema = z
  .strictObject({
    agents: z.array(AgentSchema).default([]),
    api_keys: z.array(ApiKeySchema).default([]),
    detection: DetectionSchema.default({
      learning_days: 7,
      learning_min_spans: 500,
      call_volume_floor: 50,
      backfill_after_minutes: 10,
    }),
    receivers: z.array(ReceiverSchema).default([]),
    route: RouteSchema.optional(),
    inhibit_rules: z.array(InhibitRuleSchema).default([]),
    /**
     * Where every signed ledger checkpoint is also sent, outside Vigil's store: webhook
     * receivers (by name), each POSTed a signed `ledger.checkpoint` event (a SIEM keeps them).
     */
    checkpoints: z.strictObject({ webhooks: z.array(z.string().min(1)).default([]) }).default({ webhooks: [] }),
    approvals: ApprovalsSchema.default({ receivers: [], slack_approvers: [] }),
    audit: AuditSchema.default({ sources: [], match_window_seconds: 120, silence_minutes: 10 }),
    /** Days to keep, per table (ClickHouse TTL); unset keeps everything. */
    retention: z
      .strictObject({
        spans: z.number().int().min(1).optional(),
        span_trace_index: z.number().int().min(1).optional(),
        span_session_index: z.number().int().min(1).optional(),
        trace_sessions: z.number().int().min(1).optional(),
        alerts: z.number().int().min(1).optional(),
        notifications: z.number().int().min(1).optional(),
        delivery_attempts: z.number().int().min(1).optional(),
        agent_calls_5m: z.number().int().min(1).optional(),
        agent_baselines: z.number().int().min(1).optional(),
      })
      .default({}),
  })
  .superRefine((config, ctx) => {
    checkRouting(config, ctx);
    config.approvals.receivers.forEach((name, i) => {
      if (config.receivers.find((r) => r.name === name)?.slack === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["approvals", "receivers", i],
          message: `"${name}" is not a declared Slack receiver`,
        });
    });
    config.checkpoints.webhooks.forEach((name, i) => {
      const receiver = config.receivers.find((r) => r.name === name);
      if (receiver?.webhook === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["checkpoints", "webhooks", i],
          message: `"${name}" is not a declared webhook receiver`,
        });
    });
    const ids = new Map<string, number>();
    const hashes = new Map<string, string>();
    checkAuditSources(config, ctx);
    config.agents.forEach((agent, i) => {
      const first = ids.get(agent.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["agents", i, "id"],
          message: `duplicate agent id "${agent.id}" (first at agents.${first})`,
        });
      } else ids.set(agent.id, i);
      agent.tokens.forEach((token, j) => {
        const owner = hashes.get(token.sha256);
        if (owner !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["agents", i, "tokens", j, "sha256"],
            message: `the same token is already declared for agent "${owner}": a token identifies exactly one agent`,
          });
        } else hashes.set(token.sha256, agent.id);
      });
    });
  });

export type VigilConfig = z.infer<typeof VigilConfigSchema>;
export type AuditSourceConfig = z.infer<typeof AuditSourceSchema>;
export type DatabaseUserConfig = z.infer<typeof DatabaseUserSchema>;
export type AuditConfig = z.infer<typeof AuditSchema>;

/** Audit sources are named once, map users to declared agents, and have a way in (a file or a token). */
function checkAuditSources(
  config: { agents: Array<{ id: string; tokens: Array<{ sha256: string }> }>; audit: AuditConfig },
  ctx: z.RefinementCtx,
): void {
  const agents = new Set(config.agents.map((a) => a.id));
  config.agents.forEach((a, i) => {
    if (a.id === UNMAPPED_DB_USER_AGENT)
      ctx.addIssue({
        code: "custom",
        path: ["agents", i, "id"],
        message: `"${UNMAPPED_DB_USER_AGENT}" is reserved for audit records of database users no agent is mapped to`,
      });
  });
  const agentTokens = new Set(config.agents.flatMap((a) => a.tokens.map((t) => t.sha256)));
  const seen = new Set<string>();
  config.audit.sources.forEach((source, i) => {
    const path = ["audit", "sources", i];
    if (seen.has(source.id))
      ctx.addIssue({ code: "custom", path: [...path, "id"], message: `duplicate audit source "${source.id}"` });
    seen.add(source.id);
    if (source.file === undefined && source.tokens.length === 0)
      ctx.addIssue({ code: "custom", path, message: "an audit source needs a file to follow or a token to send with" });
    source.tokens.forEach((t, j) => {
      if (agentTokens.has(t.sha256))
        ctx.addIssue({
          code: "custom",
          path: [...path, "tokens", j, "sha256"],
          message: "an agent's token cannot be an audit source's: the database's record must not come from the agent",
        });
    });
    const users = new Set<string>();
    source.users.forEach((u, j) => {
      if (!agents.has(u.agent))
        ctx.addIssue({
          code: "custom",
          path: [...path, "users", j, "agent"],
          message: `"${u.agent}" is not a declared agent`,
        });
      if (users.has(u.user))
        ctx.addIssue({
          code: "custom",
          path: [...path, "users", j, "user"],
          message: `database user "${u.user}" is mapped twice`,
        });
      users.add(u.user);
    });
  });
}
export type AgentConfig = z.infer<typeof AgentSchema>;
export type ApiKeyConfig = z.infer<typeof ApiKeySchema>;
export type PolicyConfig = z.infer<typeof PolicySchema>;
export type DetectionConfig = z.infer<typeof DetectionSchema>;
export type AgentApprovalsConfig = z.infer<typeof AgentApprovalsSchema>;
export type ApprovalsConfig = z.infer<typeof ApprovalsSchema>;

/** Receivers are named once, and every route names a declared receiver (the root must name one). */
function checkRouting(
  config: { receivers: Array<{ name: string }>; route?: RouteConfig | undefined },
  ctx: z.RefinementCtx,
): void {
  const names = new Set<string>();
  config.receivers.forEach((r, i) => {
    if (names.has(r.name))
      ctx.addIssue({ code: "custom", path: ["receivers", i, "name"], message: `duplicate receiver "${r.name}"` });
    names.add(r.name);
  });
  if (config.route === undefined) return;
  if (config.route.receiver === undefined)
    ctx.addIssue({ code: "custom", path: ["route", "receiver"], message: "the root route needs a receiver" });
  const walk = (route: RouteConfig, path: Array<string | number>): void => {
    if (route.receiver !== undefined && !names.has(route.receiver)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, "receiver"],
        message: `unknown receiver "${route.receiver}" (declared: ${[...names].join(", ") || "none"})`,
      });
    }
    route.routes?.forEach((child, i) => walk(child, [...path, "routes", i]));
  };
  walk(config.route, ["route"]);
}
