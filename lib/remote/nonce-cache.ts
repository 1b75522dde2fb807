/**
 * Nonces of commands already run, bounded in memory. An entry is needed only while its command
 * is inside the clock window; when the cache is full the oldest entry goes and its time becomes a
 * floor: any command signed at or before the floor is refused as if replayed, so forgetting a
 * nonce never lets its command run twice.
 */
export class NonceCache {
  private readonly byNonce = new Map<string, number>();
  /** Commands signed at or before this time are refused. */
  private floor = -Infinity;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byNonce.size;
  }

  /**
   * Records `nonce` (signed at `ts`); false when it was seen before or is at or below the floor.
   * Entries signed before `expireBefore` are out of the window anyway and are dropped.
   */
  add(nonce: string, ts: number, expireBefore: number): boolean {
    this.expire(expireBefore);
    if (ts <= this.floor || this.byNonce.has(nonce)) return false;
    if (this.byNonce.size >= this.max) this.evictOldest();
    this.byNonce.set(nonce, ts);
    return true;
  }

  private expire(before: number): void {
    // Insertion order is roughly time order; stop at the first entry still inside the window.
    for (const [nonce, ts] of this.byNonce) {
      if (ts >= before) break;
      this.byNonce.delete(nonce);
    }
  }

  private evictOldest(): void {
    let oldest: string | undefined;
    let oldestTs = Infinity;
    for (const [nonce, ts] of this.byNonce) {
      if (ts < oldestTs) {
        oldest = nonce;
        oldestTs = ts;
      }
    }
    if (oldest === undefined) return;
    this.byNonce.delete(oldest);
    this.floor = Math.max(this.floor, oldestTs);
  }
}
