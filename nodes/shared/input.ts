import type { Node, NodeMessage } from 'node-red';
import { translatedError } from './errors';
import { hideDeviceSecrets } from './resolve-device';
import type { StatusHelper } from './status';
import type { OobMessage } from './types';

export type InputResult = NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null | undefined | void;

export interface InputContext {
  /** Aborted when the node closes (only with `abortOnClose`). */
  signal: AbortSignal;
}

export interface InputOptions {
  /** Give each message an AbortSignal that fires when the node closes; what fails after that ends quietly. */
  abortOnClose?: boolean;
  /** Shows a failure instead of the red status (the error still goes to done()). */
  showError?: (e: unknown) => void;
}

/**
 * The one input handler of every node: the handler returns what to send (or nothing); a thrown
 * or rejected error becomes a red status and done(err) with the catalog's text, so a Catch node
 * gets it and nothing crashes. done(err) is Node-RED's node.error(err, msg) plus completion; a
 * second node.error would report the failure twice.
 */
export function onInput(
  node: Node,
  status: StatusHelper,
  handler: (msg: OobMessage, ctx: InputContext) => InputResult | Promise<InputResult>,
  options: InputOptions = {},
): void {
  const running = new Set<AbortController>();
  node.on('input', (msg, send, done) => {
    // Before anything can fail: neither the message sent on nor a caught one carries them.
    hideDeviceSecrets(msg);
    const abort = new AbortController();
    if (options.abortOnClose) running.add(abort);
    let result: Promise<InputResult>;
    try {
      result = Promise.resolve(handler(msg as OobMessage, { signal: abort.signal }));
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(
      (out) => {
        running.delete(abort);
        if (out) send(out);
        done();
      },
      (e: unknown) => {
        running.delete(abort);
        if (abort.signal.aborted) return done();
        if (options.showError) options.showError(e);
        else status.error(e);
        done(translatedError(status._, e));
      },
    );
  });
  if (options.abortOnClose) {
    node.on('close', () => {
      for (const a of running) a.abort();
      running.clear();
    });
  }
}
