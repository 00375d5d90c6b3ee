import { z } from "zod";

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
});

export const AgentSchema = z.strictObject({
  id: z
    .string()
    .regex(AGENT_ID, "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"),
  tokens: z.array(TokenSchema).min(1, "an agent needs at least one token"),
  /** Host names at which this agent serves other agents: a CLIENT span to one is a peer-agent call. */
  hosts: z.array(z.string().min(1)).default([]),
  /** Names the agent's spans may claim (service.name, gen_ai.agent.*) besides its id; any other claim is impersonation. */
  claims: z.array(z.string().min(1)).default([]),
});

/** A key for the query API and console. `reader` investigates; `admin` also changes state (ack, silences, checkpoints). */
export const ApiKeySchema = z.strictObject({
  name: z.string().min(1),
  sha256: z.string().regex(SHA256_HEX, "must be the lowercase hex SHA-256 of the key (64 characters)"),
  role: z.enum(["reader", "admin"]),
});

/** The YAML file named by VIGIL_CONFIG. Unknown keys are errors, so typos do not pass silently. */
export const VigilConfigSchema = z
  .strictObject({
    agents: z.array(AgentSchema).default([]),
    api_keys: z.array(ApiKeySchema).default([]),
  })
  .superRefine((config, ctx) => {
    const ids = new Map<string, number>();
    const hashes = new Map<string, string>();
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
export type AgentConfig = z.infer<typeof AgentSchema>;
export type ApiKeyConfig = z.infer<typeof ApiKeySchema>;
