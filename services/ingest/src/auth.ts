import { DigestRegistry, bearerToken } from "@vigil/common";
import type { VigilConfig } from "@vigil/config";
import { listStoredTokens } from "@vigil/store";
import type { ClickHouseClient, StoredToken } from "@vigil/store";

/** Who a valid token speaks for, and what it may write. */
export interface TokenIdentity {
  agentId: string;
  /** The only deployment environment the token may write, when bound. */
  environment: string | undefined;
  /** Agent names the agent's spans may claim without it being impersonation. */
  claims: ReadonlySet<string>;
  /** The environments the agent declares (empty: any). */
  environments: ReadonlySet<string>;
  /** Set for history an administrator imports: the admin key's name (see POST /v1/import/traces). */
  importedBy?: string;
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

  /**
   * Builds the registry from the `agents:` section of the config (several tokens per
   * agent allow rotation) and the tokens created through the API that are not revoked.
   */
  static fromConfig(config: VigilConfig, stored: readonly StoredToken[] = []): TokenRegistry {
    const claims = new Map(config.agents.map((a) => [a.id, new Set([a.id, ...a.claims])]));
    const environments = new Map(config.agents.map((a) => [a.id, new Set(a.environments)]));
    const none: ReadonlySet<string> = new Set();
    return new TokenRegistry(
      new DigestRegistry([
        ...config.agents.flatMap((agent) =>
          agent.tokens.map((t) => ({
            sha256Hex: t.sha256,
            value: {
              expiresAtMs: t.expires === undefined ? undefined : Date.parse(t.expires),
              identity: {
                agentId: agent.id,
                environment: t.environment,
                claims: claims.get(agent.id) as Set<string>,
                environments: environments.get(agent.id) ?? none,
              },
            },
          })),
        ),
        ...stored
          .filter((t) => !t.revoked)
          .map((t) => ({
            sha256Hex: t.sha256,
            value: {
              expiresAtMs: t.expiresAtMs,
              identity: {
                agentId: t.agentId,
                environment: t.environment === "" ? undefined : t.environment,
                claims: claims.get(t.agentId) ?? new Set([t.agentId]),
                environments: environments.get(t.agentId) ?? none,
              },
            },
          })),
      ]),
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

/** What the receiver needs of a token registry. */
export interface Authenticator {
  authenticate(authorization: string | undefined, nowMs?: number): AuthResult;
}

/**
 * The config's tokens plus the ones created through the API, re-read from the store
 * every few seconds so a new token works, and a revoked one stops working, without a
 * restart. When the store cannot be read, the last registry stays in force.
 */
export class LiveTokenRegistry implements Authenticator {
  private current: TokenRegistry;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: VigilConfig,
    private readonly client: ClickHouseClient,
  ) {
    this.current = TokenRegistry.fromConfig(config);
  }

  async refresh(): Promise<void> {
    this.current = TokenRegistry.fromConfig(this.config, await listStoredTokens(this.client));
  }

  start(intervalMs: number, onError: (err: unknown) => void): void {
    this.timer = setInterval(() => void this.refresh().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  authenticate(authorization: string | undefined, nowMs = Date.now()): AuthResult {
    return this.current.authenticate(authorization, nowMs);
  }
}
