import { createHash, hash } from "node:crypto";

/**
 * Merkle trees as RFC 6962 (Certificate Transparency) defines them, the form transparency
 * logs use: leaf hash = SHA-256(0x00 || data), node hash = SHA-256(0x01 || left || right),
 * the tree over n leaves splits at the largest power of two smaller than n.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export function leafHash(data: string | Uint8Array): Buffer {
  // One-shot hashing of a string is measurably faster than a Hash object per leaf.
  if (typeof data === "string") return hash("sha256", `\0${data}`, "buffer");
  return createHash("sha256").update(LEAF_PREFIX).update(data).digest();
}

/** A leaf hash over bytes that already start with the leaf prefix (one NUL byte): one-shot, no copy. */
export function prefixedLeafHash(prefixed: Uint8Array): Buffer {
  return hash("sha256", prefixed, "buffer");
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(NODE_PREFIX).update(left).update(right).digest();
}

/** The hash of an empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT = createHash("sha256").digest();

/** The largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes, RFC 6962 section 2.1. */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  // Bottom-up over the same shape as the recursive definition: pair left to right,
  // carrying an odd last node up unchanged.
  let level: Uint8Array[] = [...leaves];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2)
      next.push(nodeHash(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return Buffer.from(level[0] as Uint8Array);
}

/** The audit path for leaf `index` in a tree of `leaves`, RFC 6962 section 2.1.1. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number): Buffer[] {
  if (index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} is outside a tree of ${leaves.length}`);
  if (leaves.length === 1) return [];
  const k = splitPoint(leaves.length);
  return index < k
    ? [...inclusionProof(leaves.slice(0, k), index), merkleRoot(leaves.slice(k))]
    : [...inclusionProof(leaves.slice(k), index - k), merkleRoot(leaves.slice(0, k))];
}

/**
 * Checks an audit path (RFC 9162 section 2.1.3.2): true when `leaf` at `index` of a tree
 * of `size` leaves hashes up to `root` along `proof`.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && Buffer.compare(Buffer.from(r), Buffer.from(root)) === 0;
}
