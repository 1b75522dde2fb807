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
 * JSON.stringify(value), as a sequence of pieces: plain objects and arrays are opened up, and an
 * array longer than PIECE elements yields its elements PIECE at a time. Joined, the pieces are the
 * same JSON text as JSON.stringify gives.
 */
export function* jsonPieces(value: unknown): Generator<string> {
  if (Array.isArray(value) && value.length > PIECE) {
    for (let i = 0; i < value.length; i += PIECE) {
      let text = i === 0 ? '[' : ',';
      const end = Math.min(value.length, i + PIECE);
      for (let j = i; j < end; j++) text += (j === i ? '' : ',') + (JSON.stringify(value[j]) ?? 'null');
      yield text;
    }
    yield ']';
    return;
  }
  if (isPlainObject(value)) {
    let sep = '';
    yield '{';
    for (const [k, v] of Object.entries(value)) {
      if (isPlainObject(v) || (Array.isArray(v) && v.length > PIECE)) {
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
