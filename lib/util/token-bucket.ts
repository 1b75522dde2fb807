/**
 * Rate limits for listeners: one token bucket per sender plus one overall, each refilled at its
 * rate per second and holding at most one second's worth. The per-sender table is bounded by two
 * generations: when the current one is full it becomes the previous one and the one before is
 * forgotten (its senders start again full). O(1) per datagram even when every datagram claims
 * another source address (a spoofed flood), where evicting the oldest entry of one big Map is not.
 */
interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private current = new Map<string, Bucket>();
  private previous = new Map<string, Bucket>();
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
    let b = this.current.get(sender);
    if (!b) {
      b = this.previous.get(sender) ?? { tokens: this.senderRate, at: t };
      if (this.current.size >= this.maxSenders / 2) {
        this.previous = this.current;
        this.current = new Map();
      }
      this.current.set(sender, b);
    }
    this.refill(b, this.senderRate, t);
    this.refill(this.global, this.globalRate, t);
    if (b.tokens < 1 || this.global.tokens < 1) return false;
    b.tokens--;
    this.global.tokens--;
    return true;
  }
}
