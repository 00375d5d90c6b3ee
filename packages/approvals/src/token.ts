import type { KeyObject } from "node:crypto";
import { SignJWT, errors, jwtVerify } from "jose";

/** What an approval token binds: the agent, its session, the exact action, once, until it expires. */
export interface ApprovalClaims {
  agentId: string;
  sessionId: string;
  actionDigest: string;
  /** The decision it came from; a token is accepted once. */
  decisionId: string;
  expiresAtMs: number;
}

const ISSUER = "vigil";
const TYPE = "vigil-approval+jwt";

/**
 * Signs an approval as a compact JWS (EdDSA, Ed25519), the format the agent carries back
 * on the span of the approved action (`vigil.approval.token`). Only Vigil holds the
 * key, so an agent cannot make one; `verifyApprovalToken` checks every binding.
 */
export async function signApprovalToken(claims: ApprovalClaims, key: KeyObject, nowMs = Date.now()): Promise<string> {
  return new SignJWT({ sid: claims.sessionId, act: claims.actionDigest })
    .setProtectedHeader({ alg: "EdDSA", typ: TYPE })
    .setIssuer(ISSUER)
    .setSubject(claims.agentId)
    .setJti(claims.decisionId)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(Math.floor(claims.expiresAtMs / 1000))
    .sign(key);
}

export type TokenCheck = { ok: true; decisionId: string } | { ok: false; decisionId: string; reason: string };

/**
 * Checks an approval token against the span that carries it: signature by Vigil's key,
 * issued to this agent, for this session and this exact action, not expired when the
 * span arrived. Single use is the caller's to check (it needs the store).
 */
export async function verifyApprovalToken(
  token: string,
  key: KeyObject,
  expected: { agentId: string; sessionId: string; actionDigest: string; atMs: number },
): Promise<TokenCheck> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["EdDSA"],
      issuer: ISSUER,
      typ: TYPE,
      currentDate: new Date(expected.atMs),
      requiredClaims: ["sub", "jti", "exp", "sid", "act"],
    }));
  } catch (err) {
    const reason =
      err instanceof errors.JWTExpired
        ? "expired"
        : err instanceof errors.JWSSignatureVerificationFailed
          ? "not signed by Vigil"
          : `malformed (${err instanceof Error ? err.message : String(err)})`;
    return { ok: false, decisionId: jtiOf(token), reason };
  }
  const decisionId = String(payload.jti);
  if (payload.sub !== expected.agentId)
    return { ok: false, decisionId, reason: `issued to agent ${String(payload.sub)}` };
  if (payload.sid !== expected.sessionId)
    return { ok: false, decisionId, reason: `issued for session ${String(payload.sid)}` };
  if (payload.act !== expected.actionDigest) return { ok: false, decisionId, reason: "issued for another action" };
  return { ok: true, decisionId };
}

/** The decision id a token names, unverified (for the record of a token that failed). */
function jtiOf(token: string): string {
  try {
    const part = token.split(".")[1] ?? "";
    const jti = (JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as { jti?: unknown }).jti;
    return typeof jti === "string" ? jti.slice(0, 64) : "";
  } catch {
    return "";
  }
}
