/**
 * Request Tracker's REST 2 API, the calls that keep one ticket per incident: find the active ticket
 * carrying an incident key in a ticket custom field, create one, comment on it, change its
 * priority or status. Basic authentication or an RT auth token; every call has a timeout and a
 * cap on the reply it reads.
 */
import { AuthError, ConnectionError, HttpStatusError, InputError, TimeoutError } from '../errors';

export interface RequestTrackerOptions {
  /** Base URL of RT's web interface, e.g. https://rt.example.com (or with RT's WebPath). */
  url: string;
  username?: string;
  password?: string;
  /** An RT auth token (RT::Authen::Token); used instead of username and password. */
  token?: string;
  /** Name of the ticket custom field that carries the incident key. */
  incidentField: string;
  timeoutMs?: number;
}

export interface TicketFields {
  Queue: string;
  Subject: string;
  Content: string;
  Priority: number;
}

export interface FoundTicket {
  id: number;
  status: string;
  priority: number;
}

const MAX_REPLY_BYTES = 1 << 20;

export class RequestTracker {
  private readonly base: string;
  private readonly auth: string;
  private readonly timeoutMs: number;

  constructor(private readonly o: RequestTrackerOptions) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new InputError(`RT URL "${o.url}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError(`RT URL "${o.url}" must start with http:// or https://`);
    if (u.username || u.password) throw new InputError('put the RT user and password in the credentials, not in the URL');
    this.base = `${u.origin}${u.pathname.replace(/\/+$/, '')}/REST/2.0`;
    if (o.token) this.auth = `token ${o.token}`;
    else if (o.username) this.auth = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
    else throw new InputError('RT needs a user and password or an auth token');
    if (!o.incidentField || /[{}']/.test(o.incidentField)) throw new InputError(`custom field name "${o.incidentField}" cannot be used in a search`);
    this.timeoutMs = o.timeoutMs ?? 15_000;
  }

  /** The active (not resolved, rejected or deleted) ticket whose incident field holds `key`. */
  async findActive(key: string): Promise<FoundTicket | undefined> {
    if (!/^[\w:.-]+$/.test(key)) throw new InputError(`incident key "${key}" has characters a search cannot carry`);
    const query = `'CF.{${this.o.incidentField}}' = '${key}' AND Status = '__Active__'`;
    const reply = (await this.call('GET', `/tickets?query=${encodeURIComponent(query)}&fields=Status,Priority&orderby=id&order=ASC`)) as { items?: Array<{ id?: string; Status?: string; Priority?: string }> };
    const first = reply.items?.[0];
    if (!first?.id) return undefined;
    return { id: Number(first.id), status: String(first.Status ?? ''), priority: Number(first.Priority ?? 0) };
  }

  async create(fields: TicketFields, key: string): Promise<number> {
    const reply = (await this.call('POST', '/ticket', { ...fields, ContentType: 'text/plain', CustomFields: { [this.o.incidentField]: key } })) as { id?: string };
    const id = Number(reply.id);
    if (!Number.isInteger(id) || id < 1) throw new HttpStatusError(200, 'RT created a ticket but did not say its id');
    return id;
  }

  async comment(id: number, content: string): Promise<void> {
    await this.call('POST', `/ticket/${id}/comment`, { Content: content, ContentType: 'text/plain' });
  }

  async update(id: number, fields: { Priority?: number; Status?: string }): Promise<void> {
    await this.call('PUT', `/ticket/${id}`, fields);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { Authorization: this.auth, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (e) {
      const err = e as Error;
      if (err.name === 'TimeoutError') throw new TimeoutError(`RT did not answer ${method} ${path.split('?')[0]} in ${this.timeoutMs} ms`);
      throw new ConnectionError(`cannot reach RT at ${this.base}: ${(err.cause as Error | undefined)?.message ?? err.message}`, e);
    }
    const text = await readCapped(res);
    if (res.status === 401 || res.status === 403) throw new AuthError(`RT refused the credentials (HTTP ${res.status})`);
    if (res.status >= 300) throw new HttpStatusError(res.status, `RT answered HTTP ${res.status} to ${method} ${path.split('?')[0]}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpStatusError(res.status, `RT answered ${method} ${path.split('?')[0]} with something that is not JSON`);
    }
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_REPLY_BYTES) {
      await reader.cancel();
      throw new HttpStatusError(res.status, `RT's reply is larger than ${MAX_REPLY_BYTES} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Server errors and unreachable servers are worth another try later; a refusal of the request is not. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof TimeoutError || e instanceof ConnectionError) return true;
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 429;
  return false;
}
