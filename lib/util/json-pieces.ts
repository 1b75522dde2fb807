/**
 * JSON.stringify in pieces, for writing a big document without holding the event loop for the
 * whole of its encoding (see writeFileAtomicInPieces).
 */

/** Long arrays are encoded this many elements at a time. */
const PIECE = 500;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * A list whose elements are made only as they are encoded (jsonPieces) or read: a big snapshot
 * does not hold all of them at once, each is garbage right after its piece. To JSON.stringify it
 * is the array of the elements.
 */
export class LazyList<S, T> implements Iterable<T> {
  constructor(
    private readonly from: readonly S[],
    private readonly make: (s: S) => T,
  ) {}

  get length(): number {
    return this.from.length;
  }

  at(i: number): T {
    return this.make(this.from[i]);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const s of this.from) yield this.make(s);
  }

  toJSON(): T[] {
    return this.from.map((s) => this.make(s));
  }
}

/**
 * JSON.stringify(value), as a sequence of pieces: plain objects and arrays are opened up, and an
 * array longer than PIECE elements (or a LazyList) yields its elements PIECE at a time. Joined,
 * the pieces are the same JSON text as JSON.stringify gives.
 */
export function* jsonPieces(value: unknown): Generator<string> {
  if (value instanceof LazyList || (Array.isArray(value) && value.length > PIECE)) {
    const list = value as { length: number; at(i: number): unknown };
    if (list.length === 0) yield '[';
    for (let i = 0; i < list.length; i += PIECE) {
      let text = i === 0 ? '[' : ',';
      const end = Math.min(list.length, i + PIECE);
      for (let j = i; j < end; j++) text += (j === i ? '' : ',') + (JSON.stringify(list.at(j)) ?? 'null');
      yield text;
    }
    yield ']';
    return;
  }
  if (isPlainObject(value)) {
    let sep = '';
    yield '{';
    for (const [k, v] of Object.entries(value)) {
      if (isPlainObject(v) || v instanceof LazyList || (Array.isArray(v) && v.length > PIECE)) {
        yield `${sep}${JSON.stringify(k)}:`;
        yield* jsonPieces(v);
      } else {
        const text = JSON.stringify(v);
        if (text === undefined) continue;
        yield `${sep}${JSON.stringify(k)}:${text}`;
      }
      sep = ',';
    }
    yield '}';
    return;
  }
  yield JSON.stringify(value) ?? 'null';
}
