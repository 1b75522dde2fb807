/** Starts the `npm start` demo as a child process in a temporary user directory. */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RunningDemo {
  child: ChildProcess;
  editorUrl: string;
  userDir: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const root = path.join(__dirname, '..', '..');

export async function startDemo(env: Record<string, string> = {}): Promise<RunningDemo> {
  const script = path.join(root, 'dist', 'scripts', 'demo.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run npm run build first`);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oobkit-demo-'));
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, PORT: '0', MQTT_PORT: '0', OOBKIT_DEMO_DIR: userDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const editorUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not print its URL in 60 s:\n${out}`)), 60000);
    const check = () => {
      const m = /Node-RED editor:\s+(http:\/\/\S+)/.exec(out);
      if (m && out.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    editorUrl,
    userDir,
    output: () => out,
    stop: (signal = 'SIGINT') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => {
          fs.rmSync(userDir, { recursive: true, force: true });
          resolve(code);
        });
        child.kill(signal);
      }),
  };
}

/** What the editor's sidebar would show: debug messages and node statuses, over Node-RED's comms socket. */
export async function watchComms(editorUrl: string): Promise<{ messages: Array<{ topic: string; data: any }>; close: () => void }> {
  const WebSocket = require('ws');
  const url = new URL('comms', editorUrl.replace(/^http/, 'ws')).href;
  const socket = new WebSocket(url);
  const messages: Array<{ topic: string; data: any }> = [];
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.on('message', (raw: Buffer) => {
    const parsed = JSON.parse(raw.toString());
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) messages.push(m);
  });
  socket.send(JSON.stringify({ subscribe: 'debug' }));
  socket.send(JSON.stringify({ subscribe: 'status/#' }));
  return { messages, close: () => socket.close() };
}
