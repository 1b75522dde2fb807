/**
 * A WS-Management fault raised by a simulated class handler; the dispatcher writes it as an
 * AMT-style SOAP fault (HTTP 400). The constructors below are the faults the simulator uses.
 */
import { SIM_NS as NS } from './wsman-uris';
import { FaultSpec } from './response-writer';

export class SimFault extends Error implements FaultSpec {
  readonly subcodeNs: string;
  readonly subcode: string;
  readonly reason: string;
  readonly code: 'Sender' | 'Receiver';
  readonly httpStatus: number;
  constructor(subcodeNs: string, subcode: string, reason: string, code: 'Sender' | 'Receiver' = 'Sender', httpStatus = 400) {
    super(`${subcode}: ${reason}`);
    this.subcodeNs = subcodeNs;
    this.subcode = subcode;
    this.reason = reason;
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

/** Texts as AMT words them where a capture exists (Fault-*.xml); otherwise from DSP0226. */
export const faults = {
  destinationUnreachable: () =>
    new SimFault(NS.addressing, 'DestinationUnreachable', 'No route can be determined to reach the destination role defined by the WSAddressing To.'),
  actionNotSupported: (action: string) =>
    new SimFault(NS.addressing, 'ActionNotSupported', `The action is not supported by the service: ${action}`),
  invalidSelectors: (detail: string) => new SimFault(NS.wsman, 'InvalidSelectors', `The Selectors for the resource were not valid. ${detail}`),
  alreadyExists: () => new SimFault(NS.wsman, 'AlreadyExists', 'The sender attempted to create a resource which already exists.'),
  invalidParameter: (detail: string) => new SimFault(NS.wsman, 'InvalidParameter', `An operation parameter was not valid. ${detail}`),
  invalidRepresentation: (detail: string) =>
    new SimFault(NS.wsman, 'InvalidRepresentation', `The XML content was invalid. ${detail}`),
  schemaValidation: (detail: string) => new SimFault(NS.wsman, 'SchemaValidationError', `The supplied SOAP violates the corresponding XML Schema definition. ${detail}`),
  invalidMessage: (detail: string) => new SimFault(NS.wsman, 'InvalidMessage', `The request was invalid. ${detail}`),
  headerRequired: (name: string) =>
    new SimFault(NS.addressing, 'MessageInformationHeaderRequired', `A required header representing a Message Addressing Property is not present: ${name}`),
  invalidEnumerationContext: () =>
    new SimFault(NS.enumeration, 'InvalidEnumerationContext', 'The supplied enumeration context is invalid.'),
  accessDenied: (detail: string) => new SimFault(NS.wsman, 'AccessDenied', `The sender was not authorized to access the resource. ${detail}`),
  unsupportedFeature: (detail: string) => new SimFault(NS.wsman, 'UnsupportedFeature', `The specified feature is not supported. ${detail}`),
};
