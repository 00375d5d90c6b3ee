import { createHash, timingSafeEqual } from "node:crypto";
import type { VigilConfig } from "@vigil/config";

interface TokenEntry {
  agentId: string;
  digest: Buffer;
}

/**
 * Maps bearer tokens to agents. Tokens are known only by their SHA-256; a presented
 * token is hashed and compared against every known digest with `timingSafeEqual`,
 * without stopping at the first match, so the time taken does not depend on which
 * token (if any) matched or how many leading bytes agreed.
 */
export class TokenRegistry {
  private readonly entries: readonly TokenEntry[];

  constructor(entries: readonly TokenEntry[]) {
    this.entries = entries;
  }

  /** Builds the registry from the `agents:` section of the config. */
  static fromConfig(config: VigilConfig): TokenRegistry {
    return new TokenRegistry(
      config.agents.flatMap((agent) =>
        agent.tokens.map((t) => ({ agentId: agent.id, digest: Buffer.from(t.sha256, "hex") })),
      ),
    );
  }

  /**
   * Returns the agent that owns the bearer token in an `Authorization` header, or
   * undefined when the header is missing, malformed or the token is unknown.
   */
  authenticate(authorization: string | undefined): string | undefined {
    if (authorization === undefined) return undefined;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined) return undefined;
    const presented = createHash("sha256").update(match[1], "utf8").digest();
    let found: string | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(presented, entry.digest) && found === undefined) found = entry.agentId;
    }
    return found;
  }
}
