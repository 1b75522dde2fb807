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
