import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Signed checkpoints in the C2SP formats that transparency logs use
 * (c2sp.org/tlog-checkpoint inside a c2sp.org/signed-note):
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(4-byte key hash || Ed25519 signature)>\n
 *
 * The key hash is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
 */

const ED25519_ALGORITHM = 0x01;
const SIGNATURE_PREFIX = "— ";

export interface SigningKey {
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/** The raw 32-byte Ed25519 public key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  return Buffer.from(jwk.x as string, "base64url");
}

function keyHash(name: string, publicKey: KeyObject): Buffer {
  return createHash("sha256")
    .update(`${name}\n`)
    .update(Buffer.from([ED25519_ALGORITHM]))
    .update(rawPublicKey(publicKey))
    .digest()
    .subarray(0, 4);
}

/** The verifier key string (`name+hexkeyhash+base64key`), as signed-note tooling prints it. */
export function verifierKey(name: string, publicKey: KeyObject): string {
  const key = Buffer.concat([Buffer.from([ED25519_ALGORITHM]), rawPublicKey(publicKey)]);
  return `${name}+${keyHash(name, publicKey).toString("hex")}+${key.toString("base64")}`;
}

/** Parses a verifier key string back into a name and public key. */
export function parseVerifierKey(vkey: string): { name: string; publicKey: KeyObject } {
  // Split on the first two "+" only: the base64 key may contain "+" itself.
  const text = vkey.trim();
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  const name = first > 0 ? text.slice(0, first) : undefined;
  const hash = second > first ? text.slice(first + 1, second) : undefined;
  const raw = Buffer.from(second > first ? text.slice(second + 1) : "", "base64");
  if (name === undefined || hash === undefined || raw.length !== 33 || raw[0] !== ED25519_ALGORITHM) {
    throw new Error("not an Ed25519 verifier key (expected name+keyhash+base64key)");
  }
  const publicKey = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: raw.subarray(1).toString("base64url") },
    format: "jwk",
  });
  if (keyHash(name, publicKey).toString("hex") !== hash)
    throw new Error("the verifier key's hash does not match its key");
  return { name, publicKey };
}

/** The checkpoint body (the signed text). */
export function formatCheckpoint(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${c.root.toString("base64")}\n`;
}

/** Signs a checkpoint as a signed note. */
export function signCheckpoint(c: Checkpoint, key: SigningKey): string {
  const body = formatCheckpoint(c);
  const signature = sign(null, Buffer.from(body), key.privateKey);
  const blob = Buffer.concat([keyHash(key.name, key.publicKey), signature]).toString("base64");
  return `${body}\n${SIGNATURE_PREFIX}${key.name} ${blob}\n`;
}

/**
 * Checks a signed checkpoint against a known key and returns what it says.
 *
 * @throws with the reason when the note is malformed or no valid signature by the key is present.
 */
export function verifyCheckpoint(note: string, key: { name: string; publicKey: KeyObject }): Checkpoint {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Error("not a signed note: no blank line before the signatures");
  const body = note.slice(0, split + 1);
  const lines = body.split("\n");
  const [origin, sizeText, rootText] = lines;
  if (origin === undefined || origin === "" || sizeText === undefined || rootText === undefined) {
    throw new Error("not a checkpoint: expected origin, tree size and root hash lines");
  }
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new Error("not a checkpoint: the tree size is not a decimal number");
  const root = Buffer.from(rootText, "base64");
  if (root.length !== 32 || root.toString("base64") !== rootText)
    throw new Error("not a checkpoint: the root hash is not 32 bytes of base64");
  const expectedHash = keyHash(key.name, key.publicKey);
  let valid = false;
  for (const line of note.slice(split + 2).split("\n")) {
    if (!line.startsWith(SIGNATURE_PREFIX)) continue;
    const [name, blob] = line.slice(SIGNATURE_PREFIX.length).split(" ");
    if (name !== key.name || blob === undefined) continue;
    const raw = Buffer.from(blob, "base64");
    if (raw.length !== 68 || !raw.subarray(0, 4).equals(expectedHash)) continue;
    if (verify(null, Buffer.from(body), key.publicKey, raw.subarray(4))) valid = true;
  }
  if (!valid) throw new Error(`no valid signature by "${key.name}" on the checkpoint`);
  return { origin, size: Number(sizeText), root };
}

/**
 * Reads the ledger signing key (PKCS#8 PEM) from `path`, creating it on first use
 * (mode 0600) with the public key beside it: `<path>.pub` (SPKI PEM) and `<path>.vkey`
 * (the verifier key string for offline checks).
 *
 * Refuses to start, rather than carry on with a key someone else may hold or swap:
 * - a key file that group or others may read or write (chmod 600 it);
 * - a `.pub` or `.vkey` that does not match the key: they are written once and never
 *   regenerated, so a replaced key shows up instead of re-deriving its public half;
 * - a key that is not the pinned verifier key (`pinned`, VIGIL_LEDGER_VERIFIER_KEY),
 *   the one operators recorded outside Vigil and check checkpoints against.
 */
export function loadOrCreateSigningKey(path: string, name: string, pinned?: string): SigningKey {
  if (!existsSync(path)) {
    if (pinned !== undefined)
      throw new Error(
        `${path}: no ledger signing key, but VIGIL_LEDGER_VERIFIER_KEY pins one: restore the key file rather than start a new history`,
      );
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(path, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new Error(
      `${path}: the ledger signing key is readable or writable by others (mode ${mode.toString(8)}); run chmod 600 ${path}`,
    );
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new Error(`${path}: the ledger signing key must be an Ed25519 key`);
  const publicKey = createPublicKey(privateKey);
  const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
  const vkey = verifierKey(name, publicKey);
  if (pinned !== undefined && pinned.trim() !== vkey)
    throw new Error(
      `${path}: the ledger signing key is not the pinned one (VIGIL_LEDGER_VERIFIER_KEY is ${pinned.trim()}, this key's is ${vkey})`,
    );
  for (const [file, expected] of [
    [`${path}.pub`, pem],
    [`${path}.vkey`, `${vkey}\n`],
  ] as const) {
    if (!existsSync(file)) writeFileSync(file, expected, { mode: 0o644, flag: "wx" });
    else if (readFileSync(file, "utf8").trim() !== expected.trim())
      throw new Error(
        `${file} does not match the ledger signing key ${path}: one of them was replaced; find out which before starting`,
      );
  }
  return { name, privateKey, publicKey };
}
