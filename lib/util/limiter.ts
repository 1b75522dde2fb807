/**
 * A counting semaphore for promises: at most `max` tasks run at once, the rest wait in FIFO order.
 * Used as the per-device request queue (AMT serves few connections at once) and as the global
 * limit for fleet-wide operations.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`limit must be a positive integer, got ${max}`);
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  setLimit(max: number): void {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`limit must be a positive integer, got ${max}`);
    this.max = max;
    this.drain();
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
    this.drain();
  }

  private drain(): void {
    while (this.running < this.max && this.waiting.length) {
      this.running++;
      (this.waiting.shift() as () => void)();
    }
  }
}
