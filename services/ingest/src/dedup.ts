/**
 * Remembers which request bodies were already stored, so that an exporter retrying a
 * request whose acknowledgement it never saw does not store its spans twice.
 *
 * Keys are digests of (agent, decompressed body). The same digest is written into every
 * stored row, in the same INSERT as the spans, so after a restart the set is rebuilt
 * from the store (`recentRequestDigests`) and a crash between commit and answer still
 * cannot produce a duplicate.
 */
export class RequestDedup {
  private readonly committed = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<void>>();
  /** Requests refused while their rows may be stored: not taken again until reconciled. */
  private readonly unresolved = new Set<string>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a request with this digest was committed within the window. */
  isCommitted(digest: string): boolean {
    const at = this.committed.get(digest);
    return at !== undefined && this.now() - at <= this.windowMs;
  }

  /** The write under way for this digest, if a twin of the request is being stored right now. */
  pending(digest: string): Promise<void> | undefined {
    return this.inflight.get(digest);
  }

  /** Tracks a write; on success the digest becomes committed. */
  track(digest: string, write: Promise<void>): Promise<void> {
    this.inflight.set(digest, write);
    return write.then(
      () => {
        this.inflight.delete(digest);
        this.markCommitted(digest);
      },
      (err: unknown) => {
        this.inflight.delete(digest);
        throw err;
      },
    );
  }

  /** Marks requests whose rows may be stored although they were refused. */
  markUnresolved(digest: string): void {
    if (digest !== "") this.unresolved.add(digest);
  }

  /** True while a refused copy of this request may be stored: a retry must wait. */
  isUnresolved(digest: string): boolean {
    return this.unresolved.has(digest);
  }

  /** Settles an unresolved request: stored (and ledgered), or not stored and free to retry. */
  resolve(digest: string, stored: boolean): void {
    this.unresolved.delete(digest);
    if (stored) this.markCommitted(digest);
  }

  /** Records digests known to be stored (at start, from the store). */
  markCommitted(digest: string, at = this.now()): void {
    this.committed.delete(digest);
    this.committed.set(digest, at);
    this.evict();
  }

  get size(): number {
    return this.committed.size;
  }

  private evict(): void {
    // Map iteration is insertion order, so the oldest entries come first.
    const cutoff = this.now() - this.windowMs;
    for (const [digest, at] of this.committed) {
      if (this.committed.size <= this.maxEntries && at >= cutoff) break;
      this.committed.delete(digest);
    }
  }
}
