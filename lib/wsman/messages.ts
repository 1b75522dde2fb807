/**
 * Request envelopes. Bodies come from Intel's @device-management-toolkit/wsman-messages where it
 * covers the call; the header is ours because that library writes at most one selector, does not
 * escape values and numbers its MessageIDs from 0 in every process.
 *
 * Everything a caller passes is XML-escaped here before it reaches the library.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { WSManMessageCreator } from '@device-management-toolkit/wsman-messages/WSMan';
import { ACTION, ANONYMOUS, familyOf, methodAction, NS, resourceUri, SCHEMA_BASE, SchemaFamily, WSMAN_PATH } from './namespaces';
import { EndpointReference, escapeXml, isEndpointReference } from './xml';

/** Selector values: text, or an endpoint reference (association keys such as Antecedent/Dependent). */
export type Selectors = Record<string, string | number | EndpointReference>;

/** A value for Put/Create/Invoke input: scalars, arrays of scalars, references, nested objects. */
export type InputValue = string | number | boolean | EndpointReference | InputValue[] | { [k: string]: InputValue };
export type InputObject = Record<string, InputValue | undefined>;

export interface BuiltRequest {
  xml: string;
  /** The body's length in UTF-8 bytes, where building it told. */
  bytes?: number;
  messageId: string;
  action: string;
}

/**
 * MessageIDs: one random UUID per process whose last 48 bits count up from a random start. As
 * unique as WS-Addressing asks; about 70 bytes a request, where randomUUID() leaves ~600 of
 * garbage, and a poll is one request.
 */
const MESSAGE_ID_PREFIX = `uuid:${randomUUID().slice(0, 24)}`;
let messageIdCount = randomInt(2 ** 47);

export function nextMessageId(): string {
  messageIdCount = (messageIdCount + 1) % 2 ** 48;
  return MESSAGE_ID_PREFIX + messageIdCount.toString(16).padStart(12, '0');
}

const creators = new Map<SchemaFamily, WSManMessageCreator>();
function creatorFor(className: string): WSManMessageCreator {
  const family = familyOf(className);
  let c = creators.get(family);
  if (!c) {
    c = new WSManMessageCreator(SCHEMA_BASE[family]);
    creators.set(family, c);
  }
  return c;
}

function selectorSetXml(selectors: Selectors | undefined): string {
  const entries = Object.entries(selectors ?? {});
  if (entries.length === 0) return '';
  return `<w:SelectorSet>${entries
    .map(([k, v]) => `<w:Selector Name="${escapeXml(k)}">${isEndpointReference(v) ? endpointReferenceXml(v) : escapeXml(String(v))}</w:Selector>`)
    .join('')}</w:SelectorSet>`;
}

/** `<a:EndpointReference>` inside a selector, as DSP0226 writes a reference-valued key. */
function endpointReferenceXml(r: EndpointReference): string {
  return (
    `<a:EndpointReference><a:Address>${escapeXml(r.address)}</a:Address><a:ReferenceParameters>` +
    `<w:ResourceURI>${escapeXml(r.resourceUri)}</w:ResourceURI>${selectorSetXml(r.selectors)}` +
    '</a:ReferenceParameters></a:EndpointReference>'
  );
}

export interface HeaderOptions {
  action: string;
  resourceUri: string;
  selectors?: Selectors;
  timeoutSeconds?: number;
  extra?: string;
}

function header(o: HeaderOptions, messageId: string): string {
  return (
    '<Header>' +
    `<a:Action>${escapeXml(o.action)}</a:Action><a:To>${WSMAN_PATH}</a:To>` +
    `<w:ResourceURI>${escapeXml(o.resourceUri)}</w:ResourceURI><a:MessageID>${messageId}</a:MessageID>` +
    `<a:ReplyTo><a:Address>${ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<w:OperationTimeout>PT${o.timeoutSeconds ?? 60}S</w:OperationTimeout>` +
    selectorSetXml(o.selectors) +
    (o.extra ?? '') +
    '</Header>'
  );
}

function envelope(o: HeaderOptions, body: string): BuiltRequest {
  const messageId = nextMessageId();
  return { xml: creatorFor('CIM_Any').createXml(header(o, messageId), body), messageId, action: o.action };
}

/** A class name ("AMT_GeneralSettings") or a full resource URI (event filters use wildcards). */
export function uriOf(target: string): string {
  return /^https?:/.test(target) ? target : resourceUri(target);
}

/** Shape the library's body writer understands, with every text escaped. */
function toLibraryShape(v: InputValue): unknown {
  if (isEndpointReference(v)) {
    return {
      Address: escapeXml(v.address),
      ReferenceParameters: {
        ResourceURI: escapeXml(v.resourceUri),
        SelectorSet: {
          Selector: Object.entries(v.selectors).map(([name, value]) => ({ $: { Name: escapeXml(name) }, _: escapeXml(value) })),
        },
      },
    };
  }
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? toLibraryShape(x) : escapeXml(String(x))));
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toLibraryShape(x);
    return o;
  }
  return escapeXml(String(v));
}

function libraryData(input: InputObject): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.some((x) => typeof x === 'object')) {
      throw new Error(`${k}: arrays of references or objects are not supported in a request body`);
    }
    o[k] = toLibraryShape(v);
  }
  return o;
}

/**
 * A Get without selectors differs from the last one for its class only in the MessageID: the text
 * around it is kept per class (bounded), so a warm read does not rebuild and re-escape it.
 */
const plainGets = new Map<string, [before: string, after: string, bytes: number]>();
const MAX_PLAIN_GETS = 512;
const ID_MARK = '\u0000messageid\u0000';

export function buildGet(className: string, selectors?: Selectors): BuiltRequest {
  if ((selectors && Object.keys(selectors).length) || className.includes('\u0000')) {
    return envelope({ action: ACTION.get, resourceUri: resourceUri(className), selectors }, creatorFor(className).createCommonBody.Get());
  }
  let parts = plainGets.get(className);
  if (!parts) {
    const o = { action: ACTION.get, resourceUri: resourceUri(className) };
    const xml = creatorFor('CIM_Any').createXml(header(o, ID_MARK), creatorFor(className).createCommonBody.Get());
    const at = xml.indexOf(ID_MARK);
    const before = xml.slice(0, at);
    const after = xml.slice(at + ID_MARK.length);
    parts = [before, after, Buffer.byteLength(before) + Buffer.byteLength(after)];
    if (plainGets.size < MAX_PLAIN_GETS) plainGets.set(className, parts);
  }
  const messageId = nextMessageId();
  // The ID is ASCII: the length is known without the socket's flattening the text twice.
  return { xml: parts[0] + messageId + parts[1], bytes: parts[2] + messageId.length, messageId, action: ACTION.get };
}

export function buildDelete(className: string, selectors: Selectors): BuiltRequest {
  return envelope(
    { action: ACTION.delete, resourceUri: resourceUri(className), selectors },
    creatorFor(className).createCommonBody.Delete(),
  );
}

export function buildPut(className: string, props: InputObject, selectors?: Selectors): BuiltRequest {
  return envelope(
    { action: ACTION.put, resourceUri: resourceUri(className), selectors },
    creatorFor(className).createCommonBody.CreateOrPut(className as never, libraryData(props)),
  );
}

export function buildCreate(className: string, props: InputObject): BuiltRequest {
  return envelope(
    { action: ACTION.create, resourceUri: resourceUri(className) },
    creatorFor(className).createCommonBody.CreateOrPut(className as never, libraryData(props)),
  );
}

export interface EnumerateOptions {
  selectors?: Selectors;
  /** Enumerate endpoint references instead of instances. */
  eprs?: boolean;
}

export function buildEnumerate(className: string, o: EnumerateOptions = {}): BuiltRequest {
  const body = o.eprs
    ? `<Body><Enumerate xmlns="${NS.enumeration}"><w:EnumerationMode>EnumerateEPR</w:EnumerationMode></Enumerate></Body>`
    : creatorFor(className).createCommonBody.Enumerate();
  return envelope({ action: ACTION.enumerate, resourceUri: resourceUri(className), selectors: o.selectors }, body);
}

export function buildPull(className: string, context: string, maxElements: number): BuiltRequest {
  return envelope(
    { action: ACTION.pull, resourceUri: resourceUri(className) },
    creatorFor(className).createCommonBody.Pull(escapeXml(context), maxElements),
  );
}

export function buildRelease(className: string, context: string): BuiltRequest {
  return envelope(
    { action: ACTION.release, resourceUri: resourceUri(className) },
    `<Body><Release xmlns="${NS.enumeration}"><EnumerationContext>${escapeXml(context)}</EnumerationContext></Release></Body>`,
  );
}

export function buildInvoke(className: string, method: string, input: InputObject, selectors?: Selectors): BuiltRequest {
  return envelope(
    { action: methodAction(className, method), resourceUri: resourceUri(className), selectors },
    creatorFor(className).createBody(`${method}_INPUT`, className, libraryData(input)),
  );
}

/** A method call whose `<Body>` was written elsewhere (a library builder for an embedded instance). */
export function buildInvokeWithBody(className: string, method: string, body: string, selectors?: Selectors): BuiltRequest {
  return envelope({ action: methodAction(className, method), resourceUri: resourceUri(className), selectors }, body);
}

export interface SubscribeOptions {
  /** Where the device pushes events: an http(s) URL of our listener. */
  notifyTo: string;
  /** 'PushWithAck' (default; the device retries until we acknowledge) or 'Push'. */
  mode?: 'PushWithAck' | 'Push';
  /** Opaque value the device copies into every pushed event's header (used to route it). */
  reference?: string;
  /** Credentials the device uses when it pushes to us (HTTP Digest); omit for none. */
  pushAuth?: { username: string; password: string };
  /** Requested lifetime in seconds; omitted means the device's default (AMT: no expiry). */
  expiresSeconds?: number;
  selectors?: Selectors;
}

const DELIVERY_MODES = {
  PushWithAck: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck',
  Push: `${NS.eventing}/DeliveryModes/Push`,
};
const DIGEST_PROFILE = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest';
/*
 * The push credentials ride in a WS-Trust IssuedTokens header. The token type and the Password
 * Type below are the URIs MeshCommander sends to real AMT firmware when it subscribes with Digest
 * (amt-wsman.js, ExecSubscribe); the values written here before ("...wsman/token/userToken" and
 * a "#PasswordText" under the WS-Trust namespace) were never seen working against a device.
 */
const USERNAME_TOKEN_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#UsernameToken';
const PASSWORD_TEXT = `${NS.wssecurity}#PasswordText`;
/*
 * Namespace of the reference parameter the device copies into every push header. AMT copies the
 * element as given whatever its namespace (MeshCentral reads back its own placeholder namespace
 * from real pushes), so we use a URN of ours instead of a placeholder domain we do not own.
 */
export const REFERENCE_NS = 'urn:oobkit:wsevent';

/** WS-Eventing Subscribe; the library has no builder for it. */
export function buildSubscribe(target: string, o: SubscribeOptions): BuiltRequest {
  const tokens = o.pushAuth
    ? `<t:IssuedTokens xmlns:t="${NS.trust}" xmlns:se="${NS.wssecurity}"><t:RequestSecurityTokenResponse>` +
      `<t:TokenType>${USERNAME_TOKEN_TYPE}</t:TokenType><t:RequestedSecurityToken><se:UsernameToken>` +
      `<se:Username>${escapeXml(o.pushAuth.username)}</se:Username>` +
      `<se:Password Type="${PASSWORD_TEXT}">${escapeXml(o.pushAuth.password)}</se:Password>` +
      '</se:UsernameToken></t:RequestedSecurityToken></t:RequestSecurityTokenResponse></t:IssuedTokens>'
    : '';
  const reference = o.reference !== undefined ? `<a:ReferenceParameters><m:arg xmlns:m="${REFERENCE_NS}">${escapeXml(o.reference)}</m:arg></a:ReferenceParameters>` : '';
  const body =
    `<Body><e:Subscribe xmlns:e="${NS.eventing}">` +
    `<e:Delivery Mode="${DELIVERY_MODES[o.mode ?? 'PushWithAck']}"><e:NotifyTo><a:Address>${escapeXml(o.notifyTo)}</a:Address>${reference}</e:NotifyTo>` +
    (o.pushAuth ? `<w:Auth Profile="${DIGEST_PROFILE}"/>` : '') +
    '</e:Delivery>' +
    (o.expiresSeconds ? `<e:Expires>PT${Math.floor(o.expiresSeconds)}S</e:Expires>` : '') +
    '</e:Subscribe></Body>';
  return envelope({ action: ACTION.subscribe, resourceUri: uriOf(target), selectors: o.selectors, extra: tokens }, body);
}

/** WS-Eventing Renew of a subscription, asking for a new lifetime. */
export function buildRenew(target: string, identifier: string | undefined, expiresSeconds: number, selectors?: Selectors): BuiltRequest {
  const id = identifier ? `<e:Identifier xmlns:e="${NS.eventing}">${escapeXml(identifier)}</e:Identifier>` : '';
  return envelope(
    { action: ACTION.renew, resourceUri: uriOf(target), selectors, extra: id },
    `<Body><e:Renew xmlns:e="${NS.eventing}"><e:Expires>PT${Math.floor(expiresSeconds)}S</e:Expires></e:Renew></Body>`,
  );
}

export function buildUnsubscribe(target: string, identifier: string | undefined, selectors?: Selectors): BuiltRequest {
  const id = identifier ? `<e:Identifier xmlns:e="${NS.eventing}">${escapeXml(identifier)}</e:Identifier>` : '';
  return envelope(
    { action: ACTION.unsubscribe, resourceUri: uriOf(target), selectors, extra: id },
    `<Body><e:Unsubscribe xmlns:e="${NS.eventing}"/></Body>`,
  );
}
