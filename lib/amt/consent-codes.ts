/**
 * Where a user consent code waits between two messages: a boot (or any action) that needs consent
 * asks for the code under its device's key, and a later message carrying the code hands it over.
 * One request per key; a request left over when its action ends is dropped with `forget`.
 */
import { InputError } from '../errors';

interface Waiting {
  resolve: (code: unknown) => void;
  reject: (e: Error) => void;
}

export class ConsentCodes {
  private readonly waiting = new Map<string, Waiting>();

  /** Resolves with the code given for `key`; a second request for the same key replaces the first. */
  wait(key: string): Promise<unknown> {
    this.waiting.get(key)?.reject(new InputError('a newer request replaced this one'));
    return new Promise((resolve, reject) => this.waiting.set(key, { resolve, reject }));
  }

  /**
   * Gives `code` to the request waiting under `key`, or, without a key, to the only one waiting.
   * Returns the key it went to; throws an InputError when nothing (or, without a key, more than one) waits.
   */
  give(key: string | undefined, code: unknown): string {
    const k = key ?? (this.waiting.size === 1 ? [...this.waiting.keys()][0] : undefined);
    if (k === undefined) {
      throw new InputError(this.waiting.size === 0 ? 'nothing is waiting for a user consent code' : 'several devices wait for a consent code: say which one in msg.device');
    }
    const w = this.waiting.get(k);
    if (!w) throw new InputError(`nothing is waiting for a user consent code from ${k}`);
    this.waiting.delete(k);
    w.resolve(code);
    return k;
  }

  isWaiting(key: string): boolean {
    return this.waiting.has(key);
  }

  forget(key: string): void {
    this.waiting.delete(key);
  }
}
