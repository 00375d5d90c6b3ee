import { createHash, randomBytes } from "node:crypto";

/** Ingest tokens start with this prefix so a leaked one is easy to recognise and revoke. */
export const TOKEN_PREFIX = "vgl_";

/** API keys start with this prefix. */
export const API_KEY_PREFIX = "vak_";

/** A new random ingest token or API key (256 bits). Show it once; store only `sha256Hex(token)`. */
export function generateToken(prefix: string = TOKEN_PREFIX): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** Lowercase hex SHA-256, the only form in which tokens are stored. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}
