import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadOrCreateSigningKey, verifierKey } from "./checkpoint";

/**
 * Whoever can write the data directory could swap the ledger's signing key and re-sign a
 * rewritten history; before, the public halves were silently re-derived from whatever key
 * was there. Each attack on the key files must stop start-up, beside the honest start.
 */
let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-key-"));
  path = join(dir, "ledger-signing.key");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the ledger signing key", () => {
  it("is created 0600 with its public halves, and loads as the same key afterwards", () => {
    const first = loadOrCreateSigningKey(path, "vigil-ledger");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const vkey = readFileSync(`${path}.vkey`, "utf8").trim();
    expect(vkey).toBe(verifierKey("vigil-ledger", first.publicKey));
    const again = loadOrCreateSigningKey(path, "vigil-ledger", vkey);
    expect(verifierKey("vigil-ledger", again.publicKey)).toBe(vkey);
  });

  it("refuses a key file others may read, and takes it once it is 0600", () => {
    loadOrCreateSigningKey(path, "vigil-ledger");
    chmodSync(path, 0o644);
    expect(() => loadOrCreateSigningKey(path, "vigil-ledger")).toThrow(
      /readable or writable by others \(mode 644\); run chmod 600/,
    );
    chmodSync(path, 0o600);
    expect(() => loadOrCreateSigningKey(path, "vigil-ledger")).not.toThrow();
  });

  it("refuses to start when the key was swapped under its recorded public halves", () => {
    loadOrCreateSigningKey(path, "vigil-ledger");
    const other = join(dir, "other.key");
    loadOrCreateSigningKey(other, "vigil-ledger");
    writeFileSync(path, readFileSync(other), { mode: 0o600 });
    expect(() => loadOrCreateSigningKey(path, "vigil-ledger")).toThrow(/does not match the ledger signing key/);
  });

  it("with a pinned verifier key, refuses a swapped key even when its public halves were replaced too, and a missing key", () => {
    const honest = loadOrCreateSigningKey(path, "vigil-ledger");
    const pinned = verifierKey("vigil-ledger", honest.publicKey);
    // The attacker swaps the key and deletes .pub and .vkey, so they would be re-derived.
    const other = join(dir, "other.key");
    loadOrCreateSigningKey(other, "vigil-ledger");
    writeFileSync(path, readFileSync(other), { mode: 0o600 });
    unlinkSync(`${path}.pub`);
    unlinkSync(`${path}.vkey`);
    expect(() => loadOrCreateSigningKey(path, "vigil-ledger", pinned)).toThrow(/not the pinned one/);
    unlinkSync(path);
    expect(() => loadOrCreateSigningKey(path, "vigil-ledger", pinned)).toThrow(/restore the key file/);
  });
});
