/**
 * The contract of a simulated CIM/AMT/IPS class. One handler per class; the dispatcher does the
 * WS-Management part (selectors, enumeration contexts, envelopes, faults) and asks the handler
 * only for instances and for what a Put, Create, Delete or method call does to the device.
 *
 * To add a class: write a handler in packages/sim/src/classes/<area>.ts, export it in that file's list,
 * and add the list to packages/sim/src/classes/index.ts (one line). Handlers keep their mutable state in
 * `device.classState(className, init)`, created on first use, so idle devices stay small.
 */
import type { InputObject } from '../request-envelope';
import type { SimDevice } from '../device';
import type { SimProps, SimRef } from '../values';

/** Who sent a request: the Digest user and the client's address (for the audit log). */
export interface SimPeer {
  user: string;
  address?: string;
}

export interface MethodContext {
  device: SimDevice;
  /** The authenticated sender, when the request came over HTTP. */
  peer?: SimPeer;
  /** The `<Method_INPUT>` parameters as read by request-envelope.ts (strings, arrays, references). */
  input: InputObject;
  /** Header selectors of the request (often empty: AMT's services are singletons). */
  selectors: Record<string, string>;
}

export interface MethodResult {
  /** Output parameters in declaration order; ReturnValue is written last by the writer. */
  out?: SimProps;
  returnValue?: number;
}

export interface ClassHandler {
  className: string;
  /**
   * Whether AMT declares the CIM common namespace (xmlns:h, or i inside a Pull) on this class's
   * instances; it does for some classes and not others (see the fixtures). Dates force it.
   */
  commonNs?: boolean;
  /**
   * Properties the class adds to its CIM parent, which firmware writes after the inherited ones
   * (the rest in byte order). Default: none, all in byte order.
   */
  ownProps?: readonly string[];
  /** Firmware writes this class's properties in the order its instances list them, not sorted. */
  declarationOrder?: boolean;
  /** Key properties for selectors and EPRs; default: InstanceID if instances have one, else the service keys. */
  keys?: string[];
  /** Every instance, in enumeration order, built from the device's state. */
  instances(device: SimDevice): SimProps[];
  /**
   * The class an instance really is, when an enumeration returns subclasses (CIM_Chip returns
   * CIM_PhysicalMemory items, CIM_PhysicalPackage returns CIM_Card and CIM_Chassis). Default: className.
   */
  itemClassName?(instance: SimProps): string;
  /** Put: apply `input` (the body's properties) to `current`; return the instance as it now is. */
  put?(device: SimDevice, current: SimProps, input: InputObject): SimProps;
  /** Create: add an instance, return its reference (throw faults.alreadyExists() on a duplicate). */
  create?(device: SimDevice, input: InputObject): SimRef;
  /** `selectors` as the request gave them (a class may need more than the ones that find the instance). */
  delete?(device: SimDevice, current: SimProps, selectors: Record<string, string>): void;
  methods?: Record<string, (ctx: MethodContext) => MethodResult>;
}

/** Text of an input parameter (first of an array), undefined when absent. */
export function inputText(input: InputObject, name: string): string | undefined {
  const v = input[name];
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x : undefined;
}

/** Integer input parameter, or undefined when absent or not an integer. */
export function inputInt(input: InputObject, name: string): number | undefined {
  const s = inputText(input, name);
  return s !== undefined && /^\s*[-+]?\d+\s*$/.test(s) ? Number(s) : undefined;
}

/** Copy writable properties from a Put body onto an instance (booleans and numbers kept as text). */
export function applyWritable(current: SimProps, input: InputObject, writable: readonly string[]): SimProps {
  const next: SimProps = { ...current };
  for (const k of writable) {
    if (!(k in input)) continue;
    const v = input[k];
    if (typeof v === 'string') next[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) next[k] = v as string[];
  }
  return next;
}
