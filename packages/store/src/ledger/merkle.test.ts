import { describe, expect, it } from "vitest";
import { EMPTY_ROOT, inclusionProof, leafHash, merkleRoot, nodeHash, verifyInclusion } from "./merkle";

const leaves = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => leafHash(`leaf ${i}`));

/** MTH straight from RFC 6962's recursive definition, to check the iterative version. */
function referenceRoot(d: Buffer[]): Buffer {
  if (d.length === 0) return EMPTY_ROOT;
  if (d.length === 1) return d[0] as Buffer;
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(referenceRoot(d.slice(0, k)), referenceRoot(d.slice(k)));
}

describe("RFC 6962 Merkle trees", () => {
  it("hash leaves and nodes with distinct prefixes (RFC 6962 test vector for the empty leaf)", () => {
    expect(leafHash("").toString("hex")).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    expect(EMPTY_ROOT.toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("compute the same root as the recursive definition for every size up to 70", () => {
    for (let n = 0; n <= 70; n++) expect(merkleRoot(leaves(n)).equals(referenceRoot(leaves(n))), `n=${n}`).toBe(true);
  });

  it("prove and verify the inclusion of every leaf, and reject wrong proofs", () => {
    for (const n of [1, 2, 3, 5, 8, 13, 33]) {
      const ls = leaves(n);
      const root = merkleRoot(ls);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(ls, i);
        expect(verifyInclusion(ls[i] as Buffer, i, n, proof, root), `n=${n} i=${i}`).toBe(true);
        expect(verifyInclusion(leafHash("forged"), i, n, proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion(ls[i] as Buffer, (i + 1) % n, n, proof, root)).toBe(false);
        // A proof from a smaller tree does not hold for the bigger tree's root.
        expect(verifyInclusion(ls[i] as Buffer, i, n + 1, proof, merkleRoot(leaves(n + 1)))).toBe(false);
      }
    }
  });
});

describe("Merkle frontier", () => {
  it("gives the same root as the full tree after every append", async () => {
    const { MerkleFrontier } = await import("./frontier");
    const f = new MerkleFrontier();
    const all: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      const leaf = leafHash(`entry ${i}`);
      all.push(leaf);
      f.append(leaf);
      expect(f.root().equals(merkleRoot(all)), `size ${i + 1}`).toBe(true);
    }
  });
});

describe("verifier keys", () => {
  it("round-trip for many keys, including keys whose base64 holds '+'", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { parseVerifierKey, verifierKey, rawPublicKey } = await import("./checkpoint");
    let sawPlus = false;
    for (let i = 0; i < 64; i++) {
      const { publicKey } = generateKeyPairSync("ed25519");
      const vkey = verifierKey("vigil-ledger", publicKey);
      sawPlus ||= vkey.split("+").length > 3;
      const parsed = parseVerifierKey(vkey);
      expect(parsed.name).toBe("vigil-ledger");
      expect(rawPublicKey(parsed.publicKey).equals(rawPublicKey(publicKey))).toBe(true);
    }
    expect(sawPlus).toBe(true);
  });
});
