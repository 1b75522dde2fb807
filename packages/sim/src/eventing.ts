/**
 * WS-Eventing Subscribe / Unsubscribe on a simulated device. No capture of AMT's SubscribeResponse
 * exists (see test/fixtures/SOURCES.md), so the answer is modelled on the WS-Eventing spec
 * (2004/08) and DSP0226: SubscribeResponse with a SubscriptionManager endpoint reference whose
 * ReferenceParameters carry the ResourceURI and an eventing Identifier, plus Expires when the
 * subscriber asked for one. Subscriptions are stored per device with the NotifyTo address, its
 * ReferenceParameters (copied into every push), the delivery mode and the push credentials from
 * the IssuedTokens header; a later event emitter reads `device.subscriptions`.
 */
import { randomUUID } from 'node:crypto';
import type { SimRequest as WsmanEnvelope } from './request-envelope';
import { childOf as child, escapeText as escapeXml, RequestNode as XmlNode } from './request-xml';
import { SIM_NS as NS } from './wsman-uris';
import type { Routed } from './dispatch';
import type { SimDevice, Subscription } from './device';
import { SimFault, faults } from './sim-fault';

export const DELIVERY_PUSH = `${NS.eventing}/DeliveryModes/Push`;
export const DELIVERY_PUSH_WITH_ACK = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck';
const SUBSCRIPTION_URI = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_IndicationSubscription';
const MAX_SUBSCRIPTIONS = 32;

/** Serialize an element again, each element declaring its own namespace (good enough to copy ReferenceParameters). */
export function serialize(n: XmlNode, depth = 0): string {
  const p = `r${depth}`;
  const attrs = Object.entries(n.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const decl = n.ns ? ` xmlns:${p}="${escapeXml(n.ns)}"` : '';
  const q = n.ns ? `${p}:${n.name}` : n.name;
  const inner = n.children.length ? n.children.map((c) => serialize(c, depth + 1)).join('') : escapeXml(n.text);
  return `<${q}${decl}${attrs}>${inner}</${q}>`;
}

function pushCredentials(root: XmlNode): { username: string; password: string } | undefined {
  const tokens = child(child(root, 'Header', NS.soap), 'IssuedTokens', NS.trust);
  if (!tokens) return undefined;
  const ut = child(child(child(tokens, 'RequestSecurityTokenResponse', NS.trust), 'RequestedSecurityToken', NS.trust), 'UsernameToken', NS.wssecurity);
  const username = child(ut, 'Username', NS.wssecurity)?.text;
  const password = child(ut, 'Password', NS.wssecurity)?.text;
  if (username === undefined || password === undefined) throw faults.invalidParameter('IssuedTokens without a UsernameToken.');
  return { username, password };
}

export function handleSubscribe(device: SimDevice, env: WsmanEnvelope): Routed {
  const p = env.payload;
  if (!p || p.name !== 'Subscribe' || p.ns !== NS.eventing) throw faults.schemaValidation('Expected <Subscribe> in the Body.');
  const delivery = child(p, 'Delivery', NS.eventing);
  const mode = delivery?.attrs.Mode ?? DELIVERY_PUSH;
  if (mode !== DELIVERY_PUSH && mode !== DELIVERY_PUSH_WITH_ACK) {
    throw new SimFault(NS.eventing, 'DeliveryModeRequestedUnavailable', `The requested delivery mode is not supported: ${mode}`);
  }
  const notifyTo = child(delivery, 'NotifyTo', NS.eventing);
  const address = child(notifyTo, 'Address', NS.addressing)?.text.trim() ?? '';
  if (!/^https?:\/\/[^\s]+$/.test(address)) throw faults.invalidParameter(`NotifyTo address "${address}" is not an http(s) URL.`);
  const params = child(notifyTo, 'ReferenceParameters', NS.addressing);
  const expires = child(p, 'Expires', NS.eventing)?.text.trim();
  for (const s of liveSubscriptions(device)) {
    if (s.notifyTo === address && s.resourceUri === env.header.resourceUri) throw faults.alreadyExists();
  }
  if (device.subscriptions.size >= MAX_SUBSCRIPTIONS) throw new SimFault(NS.wsman, 'QuotaLimit', 'The service is busy servicing other requests.');
  const id = `uuid:${randomUUID()}`;
  device.subscriptions.set(id, {
    id,
    resourceUri: env.header.resourceUri ?? '',
    notifyTo: address,
    deliveryMode: mode,
    referenceParametersXml: params ? params.children.map((c) => serialize(c)).join('') : '',
    expires,
    expiresAt: expiresAt(expires),
    pushAuth: pushCredentials(env.root),
    created: Date.now(),
  });
  const body =
    '<g:SubscribeResponse><g:SubscriptionManager>' +
    `<b:Address>${escapeXml('http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous')}</b:Address>` +
    `<b:ReferenceParameters><c:ResourceURI>${SUBSCRIPTION_URI}</c:ResourceURI><g:Identifier>${id}</g:Identifier></b:ReferenceParameters>` +
    '</g:SubscriptionManager>' +
    (expires ? `<g:Expires>${escapeXml(expires)}</g:Expires>` : '') +
    '</g:SubscribeResponse>';
  return { ns: [NS.eventing], body };
}

/** Absolute expiry of an xs:duration ("PT3600S") from now; undefined = never. */
export function expiresAt(expires: string | undefined, now = Date.now()): number | undefined {
  const m = expires ? /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(expires) : null;
  if (!m) return undefined;
  const s = Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return s > 0 ? now + s * 1000 : undefined;
}

/** Subscriptions that have not expired; expired ones are forgotten. */
export function liveSubscriptions(device: SimDevice, now = Date.now()): Subscription[] {
  for (const [id, s] of device.subscriptions) if (s.expiresAt !== undefined && s.expiresAt <= now) device.subscriptions.delete(id);
  return [...device.subscriptions.values()];
}

/** WS-Eventing Renew: a new lifetime for a live subscription; an unknown or expired one faults. */
export function handleRenew(device: SimDevice, env: WsmanEnvelope): Routed {
  liveSubscriptions(device);
  const id = (env.header.extra.Identifier ?? env.header.selectors.Identifier ?? '').trim();
  const sub = device.subscriptions.get(id);
  if (!sub) throw new SimFault(NS.eventing, 'UnableToRenew', 'The subscription is not known or has expired.');
  const expires = child(env.payload, 'Expires', NS.eventing)?.text.trim();
  sub.expires = expires;
  sub.expiresAt = expiresAt(expires);
  return { ns: [NS.eventing], body: `<g:RenewResponse>${expires ? `<g:Expires>${escapeXml(expires)}</g:Expires>` : ''}</g:RenewResponse>` };
}

export function handleUnsubscribe(device: SimDevice, env: WsmanEnvelope): Routed {
  const id = env.header.extra.Identifier ?? env.header.selectors.Identifier ?? '';
  if (!device.subscriptions.delete(id.trim())) throw faults.destinationUnreachable();
  return { ns: [], body: '' };
}
