export interface Bench {
  /** Short id used on the command line and as the key in results.json. */
  name: string;
  description: string;
  /** Numbers only where possible; always include the peer/limit and the ratio. */
  run(): Promise<Record<string, unknown>>;
}
