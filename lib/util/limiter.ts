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

  /** Takes a slot if one is free now (give it back with give()); false when all are taken. */
  tryTake(): boolean {
    if (this.running < this.max) {
      this.running++;
      return true;
    }
    return false;
  }

  /** Gives back a slot taken with tryTake(). */
  give(): void {
    this.release();
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.max) {
      this.running++;
      return this.start(task);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(task));
  }

  /** Runs a task that holds a slot, and gives the slot back when it settles (no extra async frames: this is on every WS-Man call). */
  private start<T>(task: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = task();
    } catch (e) {
      this.release();
      return Promise.reject(e);
    }
    return Promise.resolve(p).then(
      (v) => {
        this.release();
        return v;
      },
      (e: unknown) => {
        this.release();
        throw e;
      },
    );
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
