/** WS-Management namespaces, action URIs and resource URIs: the one place these strings live. */
import { InputError } from '../errors';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  addressing: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  trust: 'http://schemas.xmlsoap.org/ws/2005/02/trust',
  wssecurity: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  cimbinding: 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd',
  common: 'http://schemas.dmtf.org/wbem/wscim/1/common',
  enumeration: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  transfer: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  eventing: 'http://schemas.xmlsoap.org/ws/2004/08/eventing',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xsd: 'http://www.w3.org/2001/XMLSchema',
} as const;

export const SCHEMA_BASE = {
  AMT: 'http://intel.com/wbem/wscim/1/amt-schema/1/',
  CIM: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/',
  IPS: 'http://intel.com/wbem/wscim/1/ips-schema/1/',
} as const;

export type SchemaFamily = keyof typeof SCHEMA_BASE;

export const ANONYMOUS = `${NS.addressing}/role/anonymous`;

export const ACTION = {
  get: `${NS.transfer}/Get`,
  put: `${NS.transfer}/Put`,
  create: `${NS.transfer}/Create`,
  delete: `${NS.transfer}/Delete`,
  enumerate: `${NS.enumeration}/Enumerate`,
  pull: `${NS.enumeration}/Pull`,
  release: `${NS.enumeration}/Release`,
  subscribe: `${NS.eventing}/Subscribe`,
  unsubscribe: `${NS.eventing}/Unsubscribe`,
  renew: `${NS.eventing}/Renew`,
  fault: `${NS.addressing}/fault`,
  wsmanFault: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
  event: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/Event',
  /** The answer to a PushWithAck event (DSP0226). */
  ack: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack',
} as const;

/** Action URI the device answers with for a request action. */
export function responseAction(requestAction: string): string {
  return `${requestAction}Response`;
}

export function familyOf(className: string): SchemaFamily {
  const prefix = className.split('_')[0];
  if (prefix === 'AMT' || prefix === 'CIM' || prefix === 'IPS') return prefix;
  throw new InputError(`not an AMT, CIM or IPS class name: ${className}`);
}

export function resourceUri(className: string): string {
  return SCHEMA_BASE[familyOf(className)] + className;
}

/** "http://.../CIM_Chassis" -> "CIM_Chassis"; also accepts a bare class name. */
export function classNameOf(uri: string): string {
  const slash = uri.lastIndexOf('/');
  return slash < 0 ? uri : uri.slice(slash + 1);
}

export function methodAction(className: string, method: string): string {
  return `${resourceUri(className)}/${method}`;
}

/** AMT's own filter collection for WS-Eventing subscriptions (all alerts). */
export const AMT_ALL_EVENTS_FILTER = 'http://schemas.dmtf.org/wbem/wscim/1/*';

export const WSMAN_PATH = '/wsman';
