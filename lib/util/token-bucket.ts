/**
 * Rate limits for listeners: one token bucket per sender plus one overall, each refilled at its
 * rate per second and holding at most one second's worth. The per-sender table is bounded: when
 * it is full, senders that have been quiet longest are forgotten (they start again full).
 */
interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly perSender = new Map<string, Bucket>();
  private readonly global: Bucket;

  constructor(
    private readonly senderRate: number,
    private readonly globalRate: number,
    private readonly maxSenders = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.global = { tokens: globalRate, at: now() };
  }

  private refill(b: Bucket, rate: number, t: number): void {
    b.tokens = Math.min(rate, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
  }

  /** True when `sender` may send one more now (and the token is taken). */
  take(sender: string): boolean {
    const t = this.now();
    let b = this.perSender.get(sender);
    if (!b) {
      if (this.perSender.size >= this.maxSenders) {
        const oldest = this.perSender.keys().next().value;
        if (oldest !== undefined) this.perSender.delete(oldest);
      }
      b = { tokens: this.senderRate, at: t };
    } else this.perSender.delete(sender);
    this.perSender.set(sender, b);
    this.refill(b, this.senderRate, t);
    this.refill(this.global, this.globalRate, t);
    if (b.tokens < 1 || this.global.tokens < 1) return false;
    b.tokens--;
    this.global.tokens--;
    return true;
  }
}
