import { EMPTY_ROOT, nodeHash } from "./merkle";

/**
 * The right edge of an RFC 6962 tree ("compact range"): one hash per full subtree, so
 * appending a leaf and computing the root cost O(log n) instead of rereading the log.
 */
export class MerkleFrontier {
  /** Roots of full subtrees, largest (leftmost) first, with their heights. */
  private stack: Array<{ height: number; hash: Buffer }> = [];
  size = 0;

  append(leaf: Buffer): void {
    let node = { height: 0, hash: leaf };
    while (this.stack.length > 0 && (this.stack[this.stack.length - 1] as { height: number }).height === node.height) {
      const left = this.stack.pop() as { height: number; hash: Buffer };
      node = { height: node.height + 1, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.size++;
  }

  /** MTH over every appended leaf: the subtrees fold right to left. */
  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let acc = (this.stack[this.stack.length - 1] as { hash: Buffer }).hash;
    for (let i = this.stack.length - 2; i >= 0; i--) acc = nodeHash((this.stack[i] as { hash: Buffer }).hash, acc);
    return acc;
  }

  replaceWith(other: MerkleFrontier): void {
    this.stack = [...other.stack];
    this.size = other.size;
  }
}
