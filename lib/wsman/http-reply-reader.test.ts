import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HttpReply, HttpReplyReader } from './http-reply-reader';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'amt', 'http');
const captured = readFileSync(path.join(FIXTURES, 'AMT_GeneralSettings-Get.http'));

/** The body of a chunked capture, de-chunked the plain way: to compare the reader against. */
function dechunk(raw: Buffer): string {
  let at = raw.indexOf('\r\n\r\n') + 4;
  const parts: Buffer[] = [];
  for (;;) {
    const nl = raw.indexOf('\r\n', at);
    const size = parseInt(raw.toString('latin1', at, nl), 16);
    if (!size) break;
    parts.push(raw.subarray(nl + 2, nl + 2 + size));
    at = nl + 2 + size + 2;
  }
  return Buffer.concat(parts).toString('utf8');
}

function feed(reader: HttpReplyReader, raw: Buffer, step: number): HttpReply | undefined {
  let reply: HttpReply | undefined;
  for (let at = 0; at < raw.length; at += step) {
    const r = reader.push(raw.subarray(at, at + step));
    if (r) {
      expect(at + step).toBeGreaterThanOrEqual(raw.length);
      reply = r;
    }
  }
  return reply;
}

describe('HTTP reply reader', () => {
  it.each([1, 7, 544, 100000])('reads a captured AMT chunked answer fed %i bytes at a time', (step) => {
    const reply = feed(new HttpReplyReader(1 << 20), captured, step);
    expect(reply?.status).toBe(200);
    expect(reply?.headers['content-type']).toBe('application/soap+xml; charset=UTF-8');
    expect(reply?.headers.server).toMatch(/^Intel\(R\) Active Management Technology/);
    expect(reply?.body).toBe(dechunk(captured));
    expect(reply?.body).toMatch(/^<\?xml.*<\/a:Envelope>$/s);
  });

  it('reads reply after reply with one reader reset between them, each split at every byte', () => {
    const replies = [
      captured,
      Buffer.from('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="r", nonce="n", stale=true\r\nContent-Length: 3\r\n\r\nabc'),
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nGr\u00fc\r\n3\r\n\u00dfe\r\n0\r\nX-T: 1\r\n\r\n', 'utf8'),
    ];
    const wanted = [
      { status: 200, body: dechunk(captured), closeAfter: false },
      { status: 401, body: 'abc', closeAfter: false },
      { status: 200, body: 'Gr\u00fc\u00dfe', closeAfter: true },
    ];
    for (const transient of [false, true]) {
      const scratch: { buffer?: Buffer } = {};
      const reader = new HttpReplyReader(1 << 20, transient, scratch);
      for (let i = 0; i < replies.length; i++) {
        const raw = replies[i];
        for (let split = 1; split < raw.length; split++) {
          reader.reset();
          // A transient caller reuses its read buffer: the first part is overwritten after it is pushed.
          const first = Buffer.from(raw.subarray(0, split));
          expect(reader.push(first)).toBeUndefined();
          if (transient) first.fill(0x78);
          const reply = reader.push(Buffer.from(raw.subarray(split)));
          expect({ status: reply?.status, body: reply?.body, closeAfter: reader.closeAfter }).toEqual(wanted[i]);
          expect(reader.received).toBe(raw.length);
        }
      }
    }
  });

  it('reads a Content-Length body, and a body that ends with the connection', () => {
    const a = new HttpReplyReader(1000);
    expect(a.push(Buffer.from('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="r", nonce="n"\r\nConnection: close\r\nContent-Length: 5\r\n\r\nab'))).toBeUndefined();
    const r = a.push(Buffer.from('cde'));
    expect(r).toEqual({ status: 401, headers: { 'www-authenticate': 'Digest realm="r", nonce="n"', connection: 'close', 'content-length': '5' }, body: 'abcde' });
    expect(a.closeAfter).toBe(true);

    const b = new HttpReplyReader(1000);
    expect(b.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\nhello '))).toBeUndefined();
    expect(b.push(Buffer.from('world'))).toBeUndefined();
    expect(b.end()?.body).toBe('hello world');
    expect(b.closeAfter).toBe(true);
  });

  it('keeps every WWW-Authenticate value and skips an interim 100 Continue', () => {
    const r = new HttpReplyReader(1000).push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nWWW-Authenticate: Digest realm="y", nonce="z"\r\nContent-Length: 0\r\n\r\n'));
    expect(r?.status).toBe(401);
    expect(r?.headers['www-authenticate']).toEqual(['Basic realm="x"', 'Digest realm="y", nonce="z"']);
  });

  it('refuses a body over the cap, whether announced or chunked or streamed', () => {
    expect(() => new HttpReplyReader(10).push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n'))).toThrow(expect.objectContaining({ tooBig: true }));
    expect(() => new HttpReplyReader(10).push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n'))).toThrow(expect.objectContaining({ tooBig: true }));
    const streamed = new HttpReplyReader(10);
    streamed.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n12345'));
    expect(() => streamed.push(Buffer.from('678901'))).toThrow(expect.objectContaining({ tooBig: true }));
  });

  it('refuses an endless header block, chunk-size line or trailer before holding much of it', () => {
    const head = new HttpReplyReader(1000);
    head.push(Buffer.from('HTTP/1.1 200 OK\r\nX: '));
    expect(() => {
      for (let i = 0; i < 100; i++) head.push(Buffer.alloc(1024, 0x61));
    }).toThrow(/header block over/);
    const size = new HttpReplyReader(1000);
    expect(() => size.push(Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'0'.repeat(2000)}`))).toThrow(/chunk-size line/);
    const trailer = new HttpReplyReader(1000);
    expect(() => trailer.push(Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'X: y\r\n'.repeat(1000)}`))).toThrow(/trailer/);
  });

  it.each([
    ['a status line that is not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', /status line/],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size/],
    ['a chunk without its CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY', /CRLF/],
    ['a transfer coding other than chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', /Transfer-Encoding/],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /Content-Length/],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /Content-Length/],
    ['bytes after the answer', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n', /after the end/],
  ])('refuses %s', (_what, raw, message) => {
    expect(() => new HttpReplyReader(1000).push(Buffer.from(raw))).toThrow(message);
  });
});

describe('HTTP reply reader over a socket that reads into one buffer', () => {
  it.each([1, 7, 544, 100000])('copies what it keeps: the answer survives the buffer being overwritten after each push of %i bytes', (step) => {
    const reader = new HttpReplyReader(1 << 20, true);
    const shared = Buffer.alloc(Math.min(step, captured.length));
    let reply: HttpReply | undefined;
    for (let at = 0; at < captured.length && !reply; at += step) {
      const n = captured.copy(shared, 0, at, at + step);
      reply = reader.push(shared.subarray(0, n));
      shared.fill(0x58);
    }
    expect(reply?.status).toBe(200);
    expect(reply?.body).toBe(dechunk(captured));
  });

  it('lends one body buffer to reader after reader: each reply keeps its own text', () => {
    const scratch: { buffer?: Buffer } = {};
    const other = Buffer.from(dechunk(captured).replace(/AMT_GeneralSettings/g, 'AMT_OtherSettings'));
    const second = Buffer.concat([captured.subarray(0, captured.indexOf('\r\n\r\n') + 4), Buffer.from(`${other.length.toString(16)}\r\n`), other, Buffer.from('\r\n0\r\n\r\n')]);
    const first = feed(new HttpReplyReader(1 << 20, true, scratch), captured, 100);
    expect(scratch.buffer).toBeDefined();
    const lent = scratch.buffer;
    const next = feed(new HttpReplyReader(1 << 20, true, scratch), second, 100);
    expect(scratch.buffer).toBe(lent);
    expect(first?.body).toBe(dechunk(captured));
    expect(next?.body).toBe(other.toString());
  });

  it('still refuses a body over the cap', () => {
    const reader = new HttpReplyReader(10, true);
    expect(() => reader.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n'))).toThrow(expect.objectContaining({ tooBig: true }));
  });
});

describe('HTTP reply reader, split anywhere', () => {
  it('reads the same answer however a long header block and the chunks are split', () => {
    const head = `HTTP/1.1 200 OK\r\n${'X-Filler: abcdefghij\r\n'.repeat(400)}Transfer-Encoding: chunked\r\n\r\n`;
    const raw = Buffer.concat([Buffer.from(head), captured.subarray(captured.indexOf('\r\n\r\n') + 4)]);
    for (const step of [1, 3, 1000, 5000]) {
      const reply = feed(new HttpReplyReader(1 << 20), raw, step);
      expect(reply?.body).toBe(dechunk(captured));
      expect(reply?.headers['x-filler']).toHaveLength(400 * 'abcdefghij, '.length - 2);
    }
  });
});
