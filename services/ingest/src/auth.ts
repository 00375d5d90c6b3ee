import { createHash, timingSafeEqual } from "node:crypto";
import type { VigilConfig } from "@vigil/config";

/** Who a valid token speaks for, and what it may write. */
export interface TokenIdentity {
  agentId: string;
  /** The only deployment environment the token may write, when bound. */
  environment: string | undefined;
  /** Agent names the agent's spans may claim without it being impersonation. */
  claims: ReadonlySet<string>;
}

export type AuthResult =
  { ok: true; identity: TokenIdentity } | { ok: false; reason: "missing" | "unknown" | "expired"; message: string };

interface TokenEntry {
  digest: Buffer;
  identity: TokenIdentity;
  expiresAtMs: number | undefined;
}

/**
 * Maps bearer tokens to agents. Tokens are known only by their SHA-256; a presented
 * token is hashed and compared against every known digest with `timingSafeEqual`,
 * without stopping at the first match, so the time taken does not depend on which
 * token (if any) matched or how many leading bytes agreed.
 */
export class TokenRegistry {
  constructor(private readonly entries: readonly TokenEntry[]) {}

  /** Builds the registry from the `agents:` section of the config. Several tokens per agent allow rotation. */
  static fromConfig(config: VigilConfig): TokenRegistry {
    return new TokenRegistry(
      config.agents.flatMap((agent) =>
        agent.tokens.map((t) => ({
          digest: Buffer.from(t.sha256, "hex"),
          expiresAtMs: t.expires === undefined ? undefined : Date.parse(t.expires),
          identity: { agentId: agent.id, environment: t.environment, claims: new Set([agent.id, ...agent.claims]) },
        })),
      ),
    );
  }

  /** Checks the bearer token in an `Authorization` header. */
  authenticate(authorization: string | undefined, nowMs = Date.now()): AuthResult {
    const match = authorization === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined)
      return {
        ok: false,
        reason: "missing",
        message: "missing bearer token: send Authorization: Bearer <agent token>",
      };
    const presented = createHash("sha256").update(match[1], "utf8").digest();
    let found: TokenEntry | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(presented, entry.digest) && found === undefined) found = entry;
    }
    if (found === undefined) return { ok: false, reason: "unknown", message: "unknown bearer token" };
    if (found.expiresAtMs !== undefined && nowMs >= found.expiresAtMs) {
      const agent = found.identity.agentId;
      return {
        ok: false,
        reason: "expired",
        message: `ingest token for agent "${agent}" expired on ${new Date(found.expiresAtMs).toISOString()}; create a new one with "vigil token create --agent ${agent}"`,
      };
    }
    return { ok: true, identity: found.identity };
  }
}
