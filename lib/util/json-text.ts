/**
 * Pieces of JSON text, each the same text JSON.stringify gives, for records of a known layout
 * written many times a second (alert-in's state log): strings that recur are quoted once, and an
 * object that cannot change is encoded once. Why: JSON.stringify looks at every character of
 * every string of every record, and most of a record's bytes are the same texts again.
 */

/** Printable ASCII other than `"` and `\`: JSON writes such a string as it is, in quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON.stringify(s). */
export function quote(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** Recurring strings at most kept quoted; past that the table starts over. */
const RECURRING_MAX = 1024;
/** Longer strings are quoted each time: they are unlikely to recur. */
const RECURRING_LENGTH_MAX = 256;
const recurring = new Map<string, string>();

/** JSON.stringify(s), for a string that recurs (a kind, a severity, a summary): worked out once. */
export function quoteRecurring(s: string): string {
  let q = recurring.get(s);
  if (q !== undefined) return q;
  q = quote(s);
  if (s.length <= RECURRING_LENGTH_MAX) {
    if (recurring.size >= RECURRING_MAX) recurring.clear();
    recurring.set(s, q);
  }
  return q;
}

/** Frozen objects of strings, numbers, booleans and nulls: their text never changes. */
const frozenTexts = new WeakMap<object, string>();

/** Only data properties (no getter could answer differently next time) holding no object. */
function onlyPrimitiveData(o: object): boolean {
  for (const d of Object.values(Object.getOwnPropertyDescriptors(o))) {
    if (!('value' in d)) return false;
    const v: unknown = d.value;
    if (typeof v === 'object' ? v !== null : typeof v === 'function') return false;
  }
  return true;
}

/**
 * JSON.stringify(v) for a value inside an array (undefined, functions and symbols are null
 * there). A frozen object of primitive data properties (such as the device all open keys of one
 * PC share) is encoded once.
 */
export function jsonInArray(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      const known = frozenTexts.get(v);
      if (known !== undefined) return known;
      const text = JSON.stringify(v) ?? 'null';
      if (Object.isFrozen(v) && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON !== 'function' && onlyPrimitiveData(v)) frozenTexts.set(v, text);
      return text;
    }
    case 'bigint':
      // Throws, as JSON.stringify does.
      return JSON.stringify(v);
    default:
      return 'null';
  }
}
