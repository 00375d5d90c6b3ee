import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Secrets known only by their SHA-256 (ingest tokens, API keys). A presented secret is
 * hashed and compared against every known digest with `timingSafeEqual`, without
 * stopping at the first match, so the time taken does not depend on which secret (if
 * any) matched or how many leading bytes agreed.
 */
export class DigestRegistry<T> {
  private readonly entries: ReadonlyArray<{ digest: Buffer; value: T }>;

  constructor(entries: ReadonlyArray<{ sha256Hex: string; value: T }>) {
    this.entries = entries.map((e) => ({ digest: Buffer.from(e.sha256Hex, "hex"), value: e.value }));
  }

  /** The value registered for `secret`, or undefined. */
  lookup(secret: string): T | undefined {
    const presented = createHash("sha256").update(secret, "utf8").digest();
    let found: T | undefined;
    let matched = false;
    for (const entry of this.entries) {
      const same = timingSafeEqual(presented, entry.digest);
      if (same && !matched) {
        found = entry.value;
        matched = true;
      }
    }
    return found;
  }
}

/** The token in an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return /^Bearer[ ]+(\S+)\s*$/i.exec(authorization)?.[1];
}
