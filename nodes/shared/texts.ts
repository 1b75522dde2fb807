import type { NodeAPI } from 'node-red';

/**
 * A text from the node's message catalog, with `__name__` placeholders filled from `vars`.
 * Texts every node shares sit under `oobkit.` (nodes/shared/locales, merged into each node's
 * catalog by the build), so they are looked up in the node's own catalog like its own texts.
 */
export type Translate = (key: string, vars?: Record<string, unknown>) => string;

export function translator(RED: NodeAPI): Translate {
  const lookup = RED._ as unknown as (key: string, vars?: Record<string, unknown>) => string;
  return (key, vars) => lookup(key, vars);
}
