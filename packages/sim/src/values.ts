/**
 * The values a simulated class instance holds, before they are written as AMT-style XML.
 * Kept apart from the writer so class handlers can build instances without touching XML.
 */
import { SIM_ANONYMOUS as ANONYMOUS, simResourceUri as resourceUri } from './wsman-uris';

/**
 * A reference property: written as Address + ReferenceParameters (ResourceURI + SelectorSet). A
 * selector's value is text, or itself a reference (the keys of an association instance).
 */
export interface SimRef {
  kind: 'ref';
  resourceUri: string;
  selectors: Array<[string, string | SimRef]>;
  address?: string;
}

/** A CIM date: written wrapped in the common namespace's Datetime element. */
export interface SimDate {
  kind: 'datetime';
  value: string;
  /** The common-namespace element it is wrapped in (default Datetime; Interval for CIM intervals). */
  wrapper?: 'Datetime' | 'Interval';
}

export type SimScalar = string | number | boolean | SimRef | SimDate;
/** An array is written as repeated elements; null and undefined are left out. */
export type SimValue = SimScalar | SimScalar[] | null | undefined;
export type SimProps = Record<string, SimValue>;

export function ref(className: string, selectors: Record<string, string | number | SimRef>, address = ANONYMOUS): SimRef {
  const list: Array<[string, string | SimRef]> = [];
  for (const k of Object.keys(selectors)) {
    const v = selectors[k];
    list.push([k, typeof v === 'object' ? v : String(v)]);
  }
  const isUri = className.startsWith('http:') || className.startsWith('https:');
  return { kind: 'ref', resourceUri: isUri ? className : resourceUri(className), selectors: list, address };
}

export function datetime(value: string | Date): SimDate {
  return { kind: 'datetime', value: typeof value === 'string' ? value : value.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/** A CIM interval (P<d>DT<h>H<m>M), written wrapped in the common namespace's Interval element. */
export function interval(value: string): SimDate {
  return { kind: 'datetime', value, wrapper: 'Interval' };
}

export function isRef(v: unknown): v is SimRef {
  return typeof v === 'object' && v !== null && (v as SimRef).kind === 'ref';
}

export function isDate(v: unknown): v is SimDate {
  return typeof v === 'object' && v !== null && (v as SimDate).kind === 'datetime';
}

/** The CIM_ComputerSystem reference AMT uses for the managed host. */
export function managedSystemRef(): SimRef {
  return ref('CIM_ComputerSystem', { CreationClassName: 'CIM_ComputerSystem', Name: 'ManagedSystem' });
}

/** Selectors of AMT's own services: CreationClassName, Name, SystemCreationClassName, SystemName. */
export function serviceSelectors(className: string, name: string): Record<string, string> {
  return { CreationClassName: className, Name: name, SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' };
}
