/** This package's name and version, read from its package.json (found upwards from here). */
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: { name: string; version: string; homepage?: string } | undefined;

export function packageInfo(): { name: string; version: string; homepage?: string } {
  if (cached) return cached;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string; homepage?: string; repository?: { url?: string } };
      if (pkg.name && pkg.version && 'node-red' in pkg) {
        const repo = pkg.repository?.url?.replace(/^git\+/, '').replace(/\.git$/, '');
        cached = { name: pkg.name, version: pkg.version, homepage: pkg.homepage ?? repo };
        return cached;
      }
    }
    dir = path.dirname(dir);
  }
  cached = { name: 'oobkit', version: '0.0.0' };
  return cached;
}
