/**
 * WS-Management client for one device: Get, Put, Create, Delete, Enumerate+Pull, Invoke,
 * Subscribe/Unsubscribe, over HTTP Digest with a per-device request queue and a shared
 * fleet-wide concurrency limit.
 */
import { AuthError, clip, ClosedError, HttpStatusError, XmlError } from '../errors';
import { detachedString } from '../util/detached-string';
import { Limiter } from '../util/limiter';
import { DigestSession, parseDigestChallenge } from './digest';
import {
  readCreated,
  readEnumerationContext,
  readEnvelope,
  readFault,
  readInstance,
  readMethodOutput,
  readPullResponse,
  readRenewResponse,
  readSubscribeResponse,
  SubscriptionHandle,
  WsmanEnvelope,
} from './envelope';
import {
  BuiltRequest,
  buildCreate,
  buildDelete,
  buildEnumerate,
  buildGet,
  buildInvoke,
  buildPull,
  buildPut,
  buildRelease,
  buildRenew,
  buildSubscribe,
  buildUnsubscribe,
  EnumerateOptions,
  InputObject,
  Selectors,
  SubscribeOptions,
} from './messages';
import { WSMAN_PATH } from './namespaces';
import { HttpTransport, TlsPinOptions } from './transport';
import { applySchema, ClassSchema, TypedObject } from './typing';
import { DEFAULT_XML_LIMITS, EndpointReference } from './xml';

/** Limits fleet-wide operations across every client that does not bring its own limiter. */
export const fleetLimiter = new Limiter(50);

export interface WsmanClientOptions {
  host: string;
  /** Default 16993 with TLS, 16992 without. */
  port?: number;
  tls?: boolean;
  username: string;
  password: string;
  pin?: TlsPinOptions;
  /** Per HTTP exchange. Default 15 s. */
  timeoutMs?: number;
  /** Requests in flight to this device at once. Default 1: AMT serves few connections. */
  maxConcurrent?: number;
  limiter?: Limiter;
  maxResponseBytes?: number;
  /** Typing of answers (numbers, booleans, arrays) by class. */
  schemaFor?: (className: string) => ClassSchema | undefined;
}

export interface TypedInstance {
  className: string;
  props: TypedObject;
}

const METHOD_OUTPUT_SCHEMA: ClassSchema = { ReturnValue: 'int' };
const SOAP_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Content-Type': 'application/soap+xml; charset=UTF-8' });

export class WsmanClient {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  private readonly transport: HttpTransport;
  private readonly digest: DigestSession;
  private readonly queue: Limiter;
  private readonly limiter: Limiter;
  private readonly timeoutMs: number;
  private pinnedRealm?: string;
  private closed = false;

  constructor(private readonly o: WsmanClientOptions) {
    this.host = o.host;
    this.tls = o.tls ?? false;
    this.port = o.port ?? (this.tls ? 16993 : 16992);
    this.timeoutMs = o.timeoutMs ?? 15000;
    this.digest = new DigestSession(o.username, o.password);
    this.queue = new Limiter(o.maxConcurrent ?? 1);
    this.limiter = o.limiter ?? fleetLimiter;
    this.transport = new HttpTransport({
      host: this.host,
      port: this.port,
      tls: this.tls,
      pin: o.pin,
      maxSockets: o.maxConcurrent ?? 1,
      maxResponseBytes: o.maxResponseBytes ?? DEFAULT_XML_LIMITS.maxBytes,
      connectTimeoutMs: Math.min(this.timeoutMs, 10_000),
    });
  }

  get label(): string {
    return this.transport.label;
  }

  /** The Digest realm this device answered with first; a later change is refused. */
  get realm(): string | undefined {
    return this.pinnedRealm;
  }

  get fingerprint(): string | undefined {
    return this.transport.fingerprint;
  }

  close(): void {
    this.closed = true;
    this.transport.close();
  }

  private typed(className: string, props: Record<string, unknown>, only?: readonly string[]): TypedObject {
    return applySchema(props as never, this.o.schemaFor?.(className), only);
  }

  /** One instance; with `only`, just those properties are read from the answer. */
  get(className: string, selectors?: Selectors, only?: readonly string[]): Promise<TypedInstance> {
    let req: BuiltRequest;
    try {
      req = buildGet(className, selectors);
    } catch (e) {
      return Promise.reject(e);
    }
    // One promise step fewer than an async function: a poll reads many of these.
    return this.call(req).then((env) => {
      const inst = readInstance(env, only);
      return { className: inst.className, props: this.typed(inst.className, inst.props, only) };
    });
  }

  async put(className: string, props: InputObject, selectors?: Selectors): Promise<TypedInstance | undefined> {
    const env = await this.call(buildPut(className, props, selectors));
    if (!env.payload) return undefined;
    const inst = readInstance(env);
    return { className: inst.className, props: this.typed(inst.className, inst.props) };
  }

  async create(className: string, props: InputObject): Promise<EndpointReference | undefined> {
    return readCreated(await this.call(buildCreate(className, props)));
  }

  async delete(className: string, selectors: Selectors): Promise<void> {
    await this.call(buildDelete(className, selectors));
  }

  /** Every instance (or endpoint reference), pulling page after page until the end. */
  async enumerate(className: string, o: EnumerateOptions & { maxElements?: number } = {}): Promise<TypedInstance[]> {
    const context = readEnumerationContext(await this.call(buildEnumerate(className, o)));
    const out: TypedInstance[] = [];
    let ctx: string | undefined = context;
    for (let page = 0; ctx !== undefined; page++) {
      if (page > 10000) {
        await this.call(buildRelease(className, ctx)).catch(() => undefined);
        throw new XmlError(`${className} enumeration did not end after 10000 pages`);
      }
      const res = readPullResponse(await this.call(buildPull(className, ctx, o.maxElements ?? 100)));
      for (const it of res.items) {
        out.push(it.className === 'EndpointReference' ? { className: it.className, props: it.props as never } : { className: it.className, props: this.typed(it.className, it.props) });
      }
      if (!res.end && res.context === undefined) throw new XmlError(`${className} Pull answer has neither EndOfSequence nor EnumerationContext`);
      ctx = res.context;
    }
    return out;
  }

  /** Invoke a method; the output parameters, with ReturnValue as a number. */
  async invoke(className: string, method: string, input: InputObject = {}, selectors?: Selectors): Promise<TypedObject> {
    const out = readMethodOutput(await this.call(buildInvoke(className, method, input, selectors)), method);
    return applySchema(out, { ...this.o.schemaFor?.(`${className}.${method}`), ...METHOD_OUTPUT_SCHEMA });
  }

  async subscribe(target: string, o: SubscribeOptions): Promise<SubscriptionHandle> {
    return readSubscribeResponse(await this.call(buildSubscribe(target, o)));
  }

  /** Extends a subscription; the device answers with the new expiry (when it gives one). */
  async renew(target: string, handle: SubscriptionHandle, expiresSeconds: number, selectors?: Selectors): Promise<string | undefined> {
    const env = await this.call(buildRenew(target, handle.identifier, expiresSeconds, selectors ?? handle.manager.selectors));
    return readRenewResponse(env);
  }

  async unsubscribe(target: string, handle: SubscriptionHandle, selectors?: Selectors): Promise<void> {
    await this.call(buildUnsubscribe(target, handle.identifier, selectors ?? handle.manager.selectors));
  }

  /** Send one request (queued behind others to this device) and return the checked answer. */
  call(req: BuiltRequest): Promise<WsmanEnvelope> {
    if (this.closed) return Promise.reject(new ClosedError(`client for ${this.label} is closed`));
    const { limiter, queue } = this;
    // Both slots free (the usual warm call): take them at once and give them back in one step,
    // one promise fewer than the two nested run()s below.
    if (limiter.tryTake()) {
      if (queue.tryTake()) {
        const done = (): void => {
          queue.give();
          limiter.give();
        };
        let exchanged: Promise<WsmanEnvelope>;
        try {
          exchanged = this.exchange(req);
        } catch (e) {
          done();
          return Promise.reject(e);
        }
        return exchanged.then(
          (env) => {
            done();
            return env;
          },
          (e: unknown) => {
            done();
            throw e;
          },
        );
      }
      limiter.give();
    }
    return limiter.run(() => queue.run(() => this.exchange(req)));
  }

  private exchange(req: BuiltRequest): Promise<WsmanEnvelope> {
    if (this.closed) return Promise.reject(new ClosedError(`client for ${this.label} is closed`));
    return this.attempt(req, 0, false);
  }

  /** One POST of the request; a Digest challenge is answered by another attempt (three in all). */
  private attempt(req: BuiltRequest, attempt: number, challengedThisCall: boolean): Promise<WsmanEnvelope> {
    const auth = this.digest.authorize('POST', WSMAN_PATH, req.xml);
    return this.transport.post(WSMAN_PATH, SOAP_HEADERS, req.xml, this.timeoutMs, auth?.header, req.bytes).then((reply) => {
      if (reply.status !== 401) return this.interpret(req, reply.status, reply.body, reply.headers['content-type']);
      const challenge = parseDigestChallenge(reply.headers['www-authenticate']);
      if (!challenge) throw new AuthError(`${this.label} refused the request without offering HTTP Digest`);
      if (this.pinnedRealm !== undefined && challenge.realm !== this.pinnedRealm) {
        throw new AuthError(`${this.label} changed its Digest realm from ${clip(this.pinnedRealm)} to ${clip(challenge.realm)}; is this the same device?`);
      }
      if (auth && challengedThisCall && !challenge.stale) {
        this.digest.forget();
        throw new AuthError(`${this.label} rejected the username or password`);
      }
      // A copy: the realm as parsed is a view into the whole 401 reply.
      this.pinnedRealm = detachedString(challenge.realm);
      this.digest.accept(challenge);
      if (attempt + 1 >= 3) throw new AuthError(`${this.label} kept asking for authentication (stale nonces); giving up`);
      return this.attempt(req, attempt + 1, true);
    });
  }

  private interpret(req: BuiltRequest, status: number, body: string, contentType?: string | string[]): WsmanEnvelope {
    if (status !== 200 && !/xml/i.test(String(contentType ?? '')) && !/^\s*</.test(body)) throw new HttpStatusError(status, `${this.label} answered HTTP ${status}`);
    let env: WsmanEnvelope;
    try {
      env = readEnvelope(body);
    } catch (e) {
      if (status !== 200) throw new HttpStatusError(status, `${this.label} answered HTTP ${status}`);
      throw new XmlError(`${this.label} sent an unreadable reply: ${(e as Error).message}`);
    }
    const fault = readFault(env, status);
    if (fault) throw fault;
    if (status !== 200) throw new HttpStatusError(status, `${this.label} answered HTTP ${status}`);
    if (env.header.relatesTo && env.header.relatesTo !== req.messageId) {
      throw new XmlError(`${this.label} answered message ${clip(env.header.relatesTo)}, not ${req.messageId}`);
    }
    return env;
  }
}
