/**
 * Reading the AMT audit log: AMT_AuditLog.ReadRecords from a 1-based StartIndex, oldest first, a
 * page (AMT: up to 10 records) per call, until TotalRecordCount is reached; either everything or
 * only what came after a remembered position.
 *
 * A position is the index of the last record delivered and that record itself, so a log that was
 * cleared, or that wrapped (AMT overwrites the oldest records when full), is noticed: the record
 * at the remembered index is no longer the one remembered. The reader then looks for it in the
 * whole log and delivers what follows it, or everything when it is gone.
 */
import { DeviceRefusedError, OobError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import { AuditRecord, AuditRecordError, decodeAuditRecord, MalformedAuditRecord } from './audit-record';
import type { MissingPart } from './inventory/types';

export interface AuditPosition {
  /** 1-based index of the last record delivered. */
  index: number;
  /** That record, base64, as the device sent it. */
  last: string;
}

export interface AuditReadOptions {
  /** 'new': only records after `after` (everything when there is no position yet). Default 'new'. */
  mode?: 'new' | 'all';
  after?: AuditPosition;
  /** Safety bound on the number of pages read in one go. Default 1000 (10,000 records). */
  maxPages?: number;
}

export interface AuditReadResult {
  records: Array<AuditRecord | MalformedAuditRecord>;
  /** TotalRecordCount the device reported. */
  total: number;
  /** Where the next 'new' read starts; unchanged when nothing was read. */
  position?: AuditPosition;
  /** Why the reader started again from the first record, when it had to. */
  restarted?: string;
  partial: boolean;
  missing: MissingPart[];
}

const RETURN_VALUES: Readonly<Record<number, string>> = { 1: 'not supported', 2: 'invalid start index or failure', 3: 'access denied' };

interface Page {
  total: number;
  records: string[];
}

async function readPage(client: WsmanClient, start: number): Promise<Page> {
  const out = await client.invoke('AMT_AuditLog', 'ReadRecords', { StartIndex: start });
  const rv = Number(out.ReturnValue);
  if (rv !== 0) throw new DeviceRefusedError(`AMT_AuditLog.ReadRecords from ${start}`, rv, RETURN_VALUES[rv] ?? 'vendor specific');
  const total = Number(out.TotalRecordCount);
  if (!Number.isInteger(total) || total < 0) throw new OobError('BAD_XML', `${client.label} sent an audit log page without a TotalRecordCount`);
  const list = Array.isArray(out.EventRecords) ? out.EventRecords : out.EventRecords === undefined || out.EventRecords === '' ? [] : [out.EventRecords];
  return { total, records: list.map((x) => (typeof x === 'string' ? x : '')) };
}

function isTransport(e: unknown): boolean {
  return e instanceof OobError && (e.code === 'TIMEOUT' || e.code === 'UNREACHABLE' || e.code === 'CLOSED' || e.code === 'HTTP_STATUS' || e.code === 'BAD_XML');
}

function decode(raw: string, index: number): AuditRecord | MalformedAuditRecord {
  try {
    return decodeAuditRecord(raw, index);
  } catch (e) {
    if (e instanceof AuditRecordError) return { index, error: e.message, raw };
    throw e;
  }
}

export async function readAuditLog(client: WsmanClient, o: AuditReadOptions = {}): Promise<AuditReadResult> {
  const mode = o.mode ?? 'new';
  const after = mode === 'new' ? o.after : undefined;
  const maxPages = o.maxPages ?? 1000;
  let pages = 0;
  const fetchPage = async (start: number): Promise<Page> => {
    if (++pages > maxPages) throw new OobError('BAD_XML', `${client.label}: audit log still not read after ${maxPages} pages`);
    return readPage(client, start);
  };

  let restarted: string | undefined;
  let start = after ? after.index : 1;
  let first: Page;
  try {
    first = await fetchPage(start);
  } catch (e) {
    if (!(after && e instanceof DeviceRefusedError)) throw e;
    // The remembered index is past the end now: the log was cleared or shrank.
    restarted = 'the audit log was cleared since the last read';
    start = 1;
    first = await fetchPage(1);
  }
  if (after && !restarted) {
    if (first.total < after.index) {
      restarted = 'the audit log was cleared since the last read';
      start = 1;
      first = await fetchPage(1);
    } else if (first.records[0] !== after.last) {
      restarted = 'the audit log wrapped or was cleared since the last read';
      start = 1;
      first = await fetchPage(1);
    }
  }

  // Raw records by 1-based index, page after page.
  const raws: string[] = [];
  const missing: MissingPart[] = [];
  let total: number;
  let page: Page = first;
  let next = start;
  for (;;) {
    page.records.forEach((r, i) => (raws[next + i] = r));
    next += page.records.length;
    total = page.total;
    if (page.records.length === 0 || next > total) break;
    try {
      page = await fetchPage(next);
    } catch (e) {
      if (!isTransport(e)) throw e;
      missing.push({ section: 'audit', class: 'AMT_AuditLog', reason: `stopped after record ${next - 1} of ${total}: ${(e as Error).message}` });
      break;
    }
  }

  let from = start;
  if (after && !restarted) from = after.index + 1;
  else if (after && restarted) {
    // Find the remembered record in what is there now; deliver what follows it.
    const at = raws.lastIndexOf(after.last);
    if (at > 0) {
      from = at + 1;
      restarted = undefined;
    }
  }

  const records: Array<AuditRecord | MalformedAuditRecord> = [];
  let position: AuditPosition | undefined = after;
  for (let i = from; i < next; i++) {
    const raw = raws[i];
    if (raw === undefined) continue;
    const rec = decode(raw, i);
    if ('error' in rec) missing.push({ section: 'audit', class: 'AMT_AuditLog', reason: `record ${i}: ${rec.error}` });
    records.push(rec);
    position = { index: i, last: raw };
  }
  const result: AuditReadResult = { records, total, partial: missing.length > 0, missing };
  if (position) result.position = position;
  if (restarted) result.restarted = restarted;
  return result;
}
