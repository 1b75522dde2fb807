/**
 * Reads one HTTP/1.1 response from the bytes a device sends, as they arrive: status line and
 * headers, then a body framed by Content-Length, chunked transfer encoding, or the end of the
 * connection. Every part is capped (header block, chunk-size line, body), and every byte is looked
 * at a bounded number of times. Interim 1xx responses are skipped.
 */
import { detachedString } from '../util/detached-string';

/** Header names in lower case; repeated fields joined with ", ", but WWW-Authenticate kept as a list. */
export type ReplyHeaders = Record<string, string | string[] | undefined>;

export interface HttpReply {
  status: number;
  headers: ReplyHeaders;
  body: string;
}

/** The header block of a response (status line and fields) may not exceed this. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Longest chunk-size line accepted (size, extensions). */
const MAX_CHUNK_LINE = 1024;
/** Trailer fields after the last chunk, all together. */
const MAX_TRAILER_BYTES = 4 * 1024;

const CRLF = Buffer.from('\r\n');
/** A lent body buffer grown past this is not kept for the next reply. */
const SCRATCH_KEPT_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const NO_BYTES = Buffer.alloc(0);

export class HttpReplyError extends Error {
  constructor(
    message: string,
    /** True when the body outgrew the cap (not a framing fault). */
    readonly tooBig = false,
  ) {
    super(message);
  }
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;

/** Lower-cased header names as written, so a device's usual names are not lower-cased anew each time (bounded). */
const HEADER_NAMES = new Map<string, string>();

function headerName(raw: string): string {
  const known = HEADER_NAMES.get(raw);
  if (known !== undefined) return known;
  const name = raw.trim().toLowerCase();
  // Copies: the name as read is a view into the whole reply head, which the table would keep.
  if (HEADER_NAMES.size < 256 && raw.length <= 64) HEADER_NAMES.set(detachedString(raw), detachedString(name));
  return name;
}

/** A reader's headers between replies: it keeps none of a reply it has handed over. */
const NO_HEADERS: ReplyHeaders = Object.freeze({});

/** Value of a hex digit byte, or -1. */
function hexDigit(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

const isBlank = (b: number): boolean => b === 32 || b === 9;

/** Where the next CRLF starts at or after `from`, or -1: chunk-size and trailer lines are short, so the first bytes are looked at here before a native search (which costs more to call). */
function lineEnd(buf: Buffer, from: number): number {
  const near = Math.min(buf.length - 1, from + 32);
  for (let i = from; i < near; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return near < buf.length - 1 ? buf.indexOf(CRLF, near) : -1;
}

/** The size on a chunk-size line buf[from..to): 1 to 8 hex digits, blanks around, extensions after ";". */
function chunkSize(buf: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to && isBlank(buf[i])) i++;
  let size = 0;
  let digits = 0;
  for (let d = i < to ? hexDigit(buf[i]) : -1; d >= 0; d = i < to ? hexDigit(buf[i]) : -1) {
    size = size * 16 + d;
    digits++;
    i++;
  }
  while (i < to && isBlank(buf[i])) i++;
  if (digits === 0 || digits > 8 || (i < to && buf[i] !== 59 /* ; */)) {
    throw new HttpReplyError(`bad chunk size "${buf.toString('latin1', from, Math.min(to, from + 16)).trim()}"`);
  }
  return size;
}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'until-close' | 'done';

export class HttpReplyReader {
  private state: State = 'head';
  /** Bytes of an unfinished line or header block, kept across pushes (grown by doubling). */
  private carry = NO_BYTES;
  private carryLen = 0;
  /** How much of the carried bytes was already searched for the line end. */
  private scanned = 0;
  private status = 0;
  private headers: ReplyHeaders = NO_HEADERS;
  private readonly parts: Buffer[] = [];
  private size = 0;
  private remaining = 0;
  private trailerBytes = 0;
  /** The device asked to close the connection after this response. */
  closeAfter = false;
  /** Bytes of the response received so far (the head included): none means the socket died idle. */
  received = 0;

  /** The body so far, when pushed bytes are copied (see `transient`). */
  private body?: Buffer;

  /**
   * `transient`: the buffer given to push() is reused for other bytes once push() returns (a
   * socket reading into one buffer), so the body is copied out instead of referenced: into
   * `scratch.buffer` when given (a buffer its owner lends to one reader at a time; the reply's text
   * is made before the reader returns it, so the next reader may overwrite it), grown as needed.
   */
  constructor(
    private readonly maxBodyBytes: number,
    private readonly transient = false,
    private readonly scratch?: { buffer?: Buffer },
  ) {
    if (transient) this.body = scratch?.buffer;
  }

  /** Ready for the next reply on the same connection (keeps the carry buffer it has grown). */
  reset(): void {
    this.state = 'head';
    this.carryLen = 0;
    this.scanned = 0;
    this.status = 0;
    this.headers = NO_HEADERS;
    this.parts.length = 0;
    this.size = 0;
    this.remaining = 0;
    this.trailerBytes = 0;
    this.closeAfter = false;
    this.received = 0;
    this.body = this.transient ? this.scratch?.buffer : undefined;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feed bytes; returns the reply once it is complete. Bytes after the reply are an error. */
  push(data: Buffer): HttpReply | undefined {
    this.received += data.length;
    const buf = this.carryLen ? this.append(data) : data;
    // Body bytes in the carry buffer are copied out: the carry is reused for the next line.
    const copy = buf !== data;
    // A line end may straddle the old and new bytes: search from just before the new ones.
    let skip = Math.max(0, this.scanned - 3);
    this.carryLen = 0;
    this.scanned = 0;
    let at = 0;
    while (at < buf.length || this.state === 'done') {
      switch (this.state) {
        case 'head': {
          const end = buf.indexOf(HEAD_END, at + skip);
          skip = 0;
          if (end < 0) {
            if (buf.length - at > MAX_HEADER_BYTES) throw new HttpReplyError(`response header block over ${MAX_HEADER_BYTES} bytes`);
            return this.keep(buf, at);
          }
          if (end - at > MAX_HEADER_BYTES) throw new HttpReplyError(`response header block over ${MAX_HEADER_BYTES} bytes`);
          this.readHead(buf.toString('latin1', at, end));
          at = end + 4;
          break;
        }
        case 'length': {
          const take = Math.min(this.remaining, buf.length - at);
          this.addBody(buf, at, at + take, copy);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'done';
          break;
        }
        case 'until-close': {
          this.addBody(buf, at, buf.length, copy);
          at = buf.length;
          break;
        }
        case 'chunk-size': {
          const nl = lineEnd(buf, at + skip);
          skip = 0;
          if (nl < 0) {
            if (buf.length - at > MAX_CHUNK_LINE) throw new HttpReplyError('chunk-size line too long');
            return this.keep(buf, at);
          }
          if (nl - at > MAX_CHUNK_LINE) throw new HttpReplyError('chunk-size line too long');
          this.remaining = chunkSize(buf, at, nl);
          at = nl + 2;
          this.state = this.remaining === 0 ? 'trailer' : 'chunk-data';
          if (this.remaining > this.maxBodyBytes - this.size) throw new HttpReplyError(`reply over ${this.maxBodyBytes} bytes`, true);
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, buf.length - at);
          this.addBody(buf, at, at + take, copy);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'chunk-end';
          break;
        }
        case 'chunk-end': {
          if (buf.length - at < 2) return this.keep(buf, at);
          if (buf[at] !== 13 || buf[at + 1] !== 10) throw new HttpReplyError('chunk not followed by CRLF');
          at += 2;
          this.state = 'chunk-size';
          break;
        }
        case 'trailer': {
          const nl = lineEnd(buf, at + skip);
          skip = 0;
          if (nl < 0) {
            if (this.trailerBytes + buf.length - at > MAX_TRAILER_BYTES) throw new HttpReplyError('trailer too long');
            return this.keep(buf, at);
          }
          this.trailerBytes += nl - at + 2;
          if (this.trailerBytes > MAX_TRAILER_BYTES) throw new HttpReplyError('trailer too long');
          const empty = nl === at;
          at = nl + 2;
          if (empty) this.state = 'done';
          break;
        }
        case 'done': {
          if (at < buf.length) throw new HttpReplyError('bytes after the end of the response');
          return this.reply();
        }
      }
      if (at >= buf.length && this.state !== 'done') return undefined;
    }
    return undefined;
  }

  /** Carry buf[at..] over to the next push (it has been searched through). */
  private keep(buf: Buffer, at: number): undefined {
    const n = buf.length - at;
    if (buf.buffer === this.carry.buffer && buf.byteOffset === this.carry.byteOffset) this.carry.copyWithin(0, at, buf.length);
    else {
      if (n > this.carry.length) this.carry = Buffer.allocUnsafe(Math.max(n, 256));
      buf.copy(this.carry, 0, at);
    }
    this.carryLen = n;
    this.scanned = n;
    return undefined;
  }

  private append(data: Buffer): Buffer {
    const need = this.carryLen + data.length;
    if (need > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.carry.length * 2));
      this.carry.copy(grown, 0, 0, this.carryLen);
      this.carry = grown;
    }
    data.copy(this.carry, this.carryLen);
    return this.carry.subarray(0, need);
  }

  /** The connection ended: completes a body framed by the end of the connection. */
  end(): HttpReply | undefined {
    if (this.state === 'until-close') {
      this.state = 'done';
      return this.reply();
    }
    return undefined;
  }

  private reply(): HttpReply {
    const headers = this.headers;
    // Header values are views into the reply's head: a reader kept for the next reply lets go of them.
    this.headers = NO_HEADERS;
    if (this.transient) {
      const body = this.body ? this.body.toString('utf8', 0, this.size) : '';
      // The lender may hand the buffer to another reader now.
      this.body = undefined;
      return { status: this.status, headers, body };
    }
    const body = this.parts.length === 1 ? this.parts[0].toString('utf8') : Buffer.concat(this.parts, this.size).toString('utf8');
    return { status: this.status, headers, body };
  }

  /** Body bytes buf[from..to). */
  private addBody(buf: Buffer, from: number, to: number, copy: boolean): void {
    const n = to - from;
    if (n === 0) return;
    this.size += n;
    if (this.size > this.maxBodyBytes) throw new HttpReplyError(`reply over ${this.maxBodyBytes} bytes`, true);
    if (this.transient) {
      const at = this.size - n;
      if (!this.body || this.size > this.body.length) {
        // Doubling, so a body arriving in many small pieces is copied a bounded number of times.
        const grown = Buffer.allocUnsafe(Math.min(this.maxBodyBytes, Math.max(this.size, (this.body?.length ?? 1024) * 2)));
        this.body?.copy(grown, 0, 0, at);
        this.body = grown;
        // Kept for the next reply unless it is far beyond a usual answer.
        if (this.scratch && grown.length <= SCRATCH_KEPT_BYTES) this.scratch.buffer = grown;
      }
      buf.copy(this.body, at, from, to);
      return;
    }
    const b = buf.subarray(from, to);
    this.parts.push(copy ? Buffer.from(b) : b);
  }

  private readHead(text: string): void {
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    const m = STATUS_LINE.exec(text.slice(0, eol));
    if (!m) throw new HttpReplyError(`not an HTTP/1.x status line: "${text.slice(0, Math.min(eol, 40))}"`);
    const status = Number(m[2]);
    const headers: ReplyHeaders = {};
    for (let from = eol + 2; from <= text.length; from = eol + 2) {
      eol = text.indexOf('\r\n', from);
      if (eol < 0) eol = text.length;
      const colon = text.indexOf(':', from);
      if (colon <= from || colon > eol) throw new HttpReplyError('malformed response header line');
      const name = headerName(text.slice(from, colon));
      const value = text.slice(colon + 1, eol).trim();
      const had = headers[name];
      if (had === undefined) headers[name] = value;
      else if (name === 'www-authenticate') headers[name] = ([] as string[]).concat(had, value);
      else if (name === 'content-length' && had !== value) throw new HttpReplyError('conflicting Content-Length headers');
      else if (name !== 'content-length') headers[name] = `${had as string}, ${value}`;
    }
    if (status < 200) {
      // An interim answer (100 Continue): the real one follows.
      return;
    }
    this.status = status;
    this.headers = headers;
    const connection = String(headers.connection ?? '').toLowerCase();
    this.closeAfter = m[1] === '0' ? !connection.includes('keep-alive') : connection.includes('close');
    const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
    if (te) {
      if (te !== 'chunked') throw new HttpReplyError(`unsupported Transfer-Encoding "${te.slice(0, 40)}"`);
      this.state = 'chunk-size';
    } else if (headers['content-length'] !== undefined) {
      const cl = String(headers['content-length']);
      if (!/^\d{1,12}$/.test(cl)) throw new HttpReplyError('bad Content-Length');
      this.remaining = Number(cl);
      if (this.remaining > this.maxBodyBytes) throw new HttpReplyError(`reply over ${this.maxBodyBytes} bytes`, true);
      this.state = this.remaining === 0 ? 'done' : 'length';
    } else if (status === 204 || status === 304) {
      this.state = 'done';
    } else {
      this.closeAfter = true;
      this.state = 'until-close';
    }
  }
}
