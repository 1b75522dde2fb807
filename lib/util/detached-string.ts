/**
 * A copy of a string that does not keep the text it was cut from alive. V8 represents a substring
 * as a view into its parent, so a model name kept for the life of a device would otherwise hold
 * the whole reply it came from (kilobytes per device, for as long as the gateway runs).
 */
export function detachedString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
