/**
 * The namespace, action and resource URIs the simulated firmware speaks, copied from what real AMT
 * sends (the xmlns declarations and Action headers of the captures in test/fixtures/amt) and from
 * Intel's wsman-messages. The simulator keeps its own table on purpose: a typo in the client's
 * table must show up as a client talking to a device that does not understand it.
 */

/** Namespace URIs, by the role they play in an envelope. */
export const SIM_NS = {
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
} as const;

/** The anonymous endpoint AMT writes in To and in every reference's Address. */
export const SIM_ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

/** Request and answer actions (an answer's is the request's + "Response"). */
export const SIM_ACTION = {
  get: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get',
  put: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Put',
  create: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create',
  delete: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete',
  enumerate: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate',
  pull: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull',
  release: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release',
  subscribe: 'http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe',
  unsubscribe: 'http://schemas.xmlsoap.org/ws/2004/08/eventing/Unsubscribe',
  renew: 'http://schemas.xmlsoap.org/ws/2004/08/eventing/Renew',
  addressingFault: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
  wsmanFault: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
  enumerationFault: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault',
  eventingFault: 'http://schemas.xmlsoap.org/ws/2004/08/eventing/fault',
  event: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/Event',
} as const;

/** Where the class names of each family live (AMT_*, CIM_*, IPS_*). */
const CLASS_BASE: Readonly<Record<string, string>> = {
  AMT: 'http://intel.com/wbem/wscim/1/amt-schema/1/',
  CIM: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/',
  IPS: 'http://intel.com/wbem/wscim/1/ips-schema/1/',
};

/** The resource URI of a class, or undefined for a name outside the three families. */
export function classUri(className: string): string | undefined {
  const family = className.slice(0, className.indexOf('_'));
  const base = Object.prototype.hasOwnProperty.call(CLASS_BASE, family) ? CLASS_BASE[family] : undefined;
  return base === undefined ? undefined : base + className;
}

/** The resource URI of a class the simulator serves; a name outside the families is a programming error. */
export function simResourceUri(className: string): string {
  const uri = classUri(className);
  if (uri === undefined) throw new Error(`not an AMT, CIM or IPS class name: ${className}`);
  return uri;
}

/** The last path segment of a resource URI (its class name). */
export function lastSegment(uri: string): string {
  return uri.slice(uri.lastIndexOf('/') + 1);
}

export const SIM_WSMAN_PATH = '/wsman';
