/**
 * A real Request Tracker 5 (Debian's request-tracker5, rt5-standalone, rt5-db-sqlite) for tests: a
 * fresh SQLite database in a temporary folder, a queue "Hardware" and the ticket custom field
 * "OOBKit Incident", RT's own standalone server on a loopback port. It can be stopped and started
 * again on the same database (RT unreachable for a while).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { requirePeer } from './peers';

const RT_SERVER = '/usr/share/request-tracker5/libexec/rt-server';
export const RT_USER = 'root';
/** RT's initial data gives root this password. */
export const RT_PASSWORD = 'password';
export const INCIDENT_FIELD = 'OOBKit Incident';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface RtTicket {
  id: number;
  Subject: string;
  Status: string;
  Priority: number;
  Queue: string;
  incident: string;
}

export class TestRequestTracker {
  private server?: ChildProcess;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, RT_SITE_CONFIG: path.join(this.dir, 'RT_SiteConfig.pm'), RT_SITE_CONFIG_DIR: path.join(this.dir, 'conf.d') };
  }

  static async create(): Promise<TestRequestTracker> {
    requirePeer('rt-setup-database-5', 'request-tracker5');
    if (!fs.existsSync(RT_SERVER)) throw new Error(`${RT_SERVER} is missing: run npm run ensure-peers (request-tracker5, rt5-standalone, rt5-db-sqlite)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-rt-'));
    fs.mkdirSync(path.join(dir, 'conf.d'));
    const rt = new TestRequestTracker(dir, await freePort());
    fs.writeFileSync(
      path.join(dir, 'RT_SiteConfig.pm'),
      [
        "Set($rtname, 'oobkit-test');",
        "Set($Organization, 'oobkit-test');",
        "Set($DatabaseType, 'SQLite');",
        `Set($DatabaseName, '${path.join(dir, 'rtdb')}');`,
        "Set($WebPath, '');",
        "Set($WebDomain, '127.0.0.1');",
        `Set($WebPort, ${rt.port});`,
        `Set($WebBaseURL, 'http://127.0.0.1:${rt.port}');`,
        "Set($LogToSTDERR, 'error');",
        'Set($LogToSyslog, undef);',
        'Set($LogToFile, undef);',
        '1;',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'initialdata'),
      [
        '@Queues = ( { Name => "Hardware", Description => "OOBKit hardware alerts", CorrespondAddress => "", CommentAddress => "" } );',
        `@CustomFields = ( { Name => "${INCIDENT_FIELD}", Type => "FreeformSingle", LookupType => "RT::Queue-RT::Ticket", Description => "OOBKit incident key", ApplyTo => 0 } );`,
        '1;',
        '',
      ].join('\n'),
    );
    const setup = '/usr/sbin/rt-setup-database-5';
    execFileSync(setup, ['--action', 'init', '--skip-create'], { env: rt.env, cwd: dir, stdio: 'pipe', timeout: 120_000 });
    execFileSync(setup, ['--action', 'insert', '--datafile', path.join(dir, 'initialdata'), '--skip-create'], { env: rt.env, cwd: dir, stdio: 'pipe', timeout: 120_000 });
    await rt.start();
    return rt;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.log = '';
    const server = spawn(RT_SERVER, ['--port', String(this.port)], { env: this.env, cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (b) => (this.log += b));
    server.stderr!.on('data', (b) => (this.log += b));
    this.server = server;
    const started = Date.now();
    for (;;) {
      if (server.exitCode !== null) throw new Error(`RT exited:\n${this.log}`);
      try {
        const res = await fetch(`${this.url}/REST/2.0/queues/all`, { headers: this.headers() });
        if (res.status === 200) return;
      } catch {
        /* not yet */
      }
      if (Date.now() - started > 60_000) throw new Error(`RT did not answer in 60 s:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s || s.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      s.once('exit', () => resolve());
      s.kill('SIGTERM');
      setTimeout(() => s.kill('SIGKILL'), 5000).unref();
    });
  }

  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private headers(): Record<string, string> {
    return { Authorization: `Basic ${Buffer.from(`${RT_USER}:${RT_PASSWORD}`).toString('base64')}`, Accept: 'application/json' };
  }

  async get(pathAndQuery: string): Promise<any> {
    const res = await fetch(`${this.url}/REST/2.0${pathAndQuery}`, { headers: this.headers() });
    if (res.status !== 200) throw new Error(`RT answered ${res.status} to ${pathAndQuery}: ${await res.text()}`);
    return res.json();
  }

  /** Every ticket of a queue, whatever its status, with its incident key. */
  async tickets(queue: string): Promise<RtTicket[]> {
    const q = encodeURIComponent(`Queue = '${queue}'`);
    const list = await this.get(`/tickets?query=${q}&fields=Subject,Status,Priority,Queue,CustomFields&per_page=100&orderby=id`);
    const out: RtTicket[] = [];
    for (const item of list.items as any[]) {
      const full = await this.get(`/ticket/${item.id}`);
      const cf = (full.CustomFields as Array<{ name: string; values: string[] }>).find((c) => c.name === INCIDENT_FIELD);
      out.push({ id: Number(full.id), Subject: full.Subject, Status: full.Status, Priority: Number(full.Priority), Queue: String(item.Queue?.id ?? queue), incident: cf?.values?.[0] ?? '' });
    }
    return out;
  }

  /** The transaction types of a ticket, oldest first (Create, Comment, Set, Status...). */
  async history(id: number): Promise<string[]> {
    const h = await this.get(`/ticket/${id}/history?fields=Type,Field&per_page=100`);
    return (h.items as Array<{ Type: string; Field?: string }>).map((t) => (t.Field ? `${t.Type}:${t.Field}` : t.Type));
  }
}
