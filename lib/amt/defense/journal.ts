/**
 * Multi-step changes that are all or nothing: each step that succeeds records how to undo it; when
 * a step fails, the done steps are undone newest first and a RolledBackError says what failed,
 * what was undone and what could not be.
 */
import { OobError, OobErrorCode } from '../../errors';

/** A change failed part way; what it had done was undone (or, in `leftOver`, could not be). */
export class RolledBackError extends OobError {
  readonly step: string;
  readonly undone: string[];
  readonly leftOver: string[];
  constructor(what: string, step: string, position: string, cause: unknown, undone: string[], leftOver: string[]) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const code: OobErrorCode = cause instanceof OobError ? cause.code : 'DEVICE_REFUSED';
    const tail = leftOver.length
      ? `undid ${undone.length} step(s) but could not undo: ${leftOver.join('; ')} (run release, or remove them by hand)`
      : undone.length
        ? `undid the ${undone.length} step(s) done before it; nothing was left applied`
        : 'nothing had been changed';
    super(code, `${what} failed at step ${position} (${step}): ${reason}; ${tail}`, { cause });
    this.step = step;
    this.undone = undone;
    this.leftOver = leftOver;
  }
}

interface Done {
  label: string;
  undo?: () => Promise<void>;
}

export class Journal {
  private readonly done: Done[] = [];
  private count = 0;

  constructor(
    private readonly what: string,
    private readonly total: number,
  ) {}

  /** Steps done so far, in order. */
  get steps(): string[] {
    return this.done.map((d) => d.label);
  }

  async run<T>(label: string, action: () => Promise<T>, undo?: (result: T) => Promise<void>): Promise<T> {
    this.count++;
    let result: T;
    try {
      result = await action();
    } catch (e) {
      const { undone, leftOver } = await this.rollback();
      throw new RolledBackError(this.what, label, `${this.count} of ${this.total}`, e, undone, leftOver);
    }
    this.done.push({ label, undo: undo ? () => undo(result) : undefined });
    return result;
  }

  private async rollback(): Promise<{ undone: string[]; leftOver: string[] }> {
    const undone: string[] = [];
    const leftOver: string[] = [];
    for (const d of [...this.done].reverse()) {
      if (!d.undo) continue;
      try {
        await d.undo();
        undone.push(d.label);
      } catch (e) {
        leftOver.push(`${d.label} (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    return { undone, leftOver };
  }
}
