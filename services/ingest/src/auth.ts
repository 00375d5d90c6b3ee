import { DigestRegistry, bearerToken } from "@vigil/common";
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
  identity: TokenIdentity;
  expiresAtMs: number | undefined;
}

/** Maps bearer tokens (known only by SHA-256, compared in constant time) to agents. */
export class TokenRegistry {
  constructor(private readonly registry: DigestRegistry<TokenEntry>) {}

  /** Builds the registry from the `agents:` section of the config. Several tokens per agent allow rotation. */
  static fromConfig(config: VigilConfig): TokenRegistry {
    return new TokenRegistry(
      new DigestRegistry(
        config.agents.flatMap((agent) =>
          agent.tokens.map((t) => ({
            sha256Hex: t.sha256,
            value: {
              expiresAtMs: t.expires === undefined ? undefined : Date.parse(t.expires),
              identity: { agentId: agent.id, environment: t.environment, claims: new Set([agent.id, ...agent.claims]) },
            },
          })),
        ),
      ),
    );
  }

  /** Checks the bearer token in an `Authorization` header. */
  authenticate(authorization: string | undefined, nowMs = Date.now()): AuthResult {
    const token = bearerToken(authorization);
    if (token === undefined)
      return {
        ok: false,
        reason: "missing",
        message: "missing bearer token: send Authorization: Bearer <agent token>",
      };
    const found = this.registry.lookup(token);
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
