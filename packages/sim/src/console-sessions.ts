/**
 * SOL and KVM sessions on the simulated redirection port: whether the device lets one start (SOL
 * enabled in AMT_RedirectionService; KVM enabled in CIM_KVMRedirectionSAP, one KVM session at a
 * time) and the session itself once the console has authenticated.
 */
import type * as net from 'node:net';
import type { SimDevice } from './device';
import { redirectionState } from './classes/setup';
import { kvmEnabled } from './classes/kvm';
import { kvmState } from './classes/inventory';
import { SimSolSession } from './sol';
import { SimKvmSession } from './kvm';

export interface SimConsoleSession {
  /** True when the connection carries an unframed stream from now on (KVM). */
  raw: boolean;
  onMessage(m: Buffer): boolean;
  close(): void;
}

export function consoleSessionAllowed(d: SimDevice, protocol: string): boolean {
  if (protocol === 'SOL ') {
    const s = redirectionState(d).enabledState;
    return s === 32770 || s === 32771;
  }
  if (protocol === 'KVMR') {
    return kvmEnabled(d) && kvmState(d).enabledState !== 2;
  }
  return false;
}

/** `detach` stops the framed reading of the connection (for KVM's raw stream). */
export function openConsoleSession(d: SimDevice, protocol: string, socket: net.Socket, detach: () => void): SimConsoleSession {
  if (protocol === 'KVMR') {
    detach();
    const k = new SimKvmSession(d, socket);
    return { raw: true, onMessage: () => false, close: () => k.close() };
  }
  const s = new SimSolSession(d, socket);
  return { raw: false, onMessage: (m) => s.onMessage(m), close: () => s.close() };
}
