// The sysv-shm command as npm installs it: built with tsconfig.build.json, packed with the package's own manifest
// ("bin", "files"), installed from the tarball into an empty folder, and run as node_modules/.bin/sysv-shm with
// plain Node (no tsx). It is built into a staging folder, so the checkout's dist/ is left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/child.js';
import { procRow, removeAfterTest } from '../support/segments.js';

const TIMEOUT = 180_000;
let work = '';
let app = '';
let entries: string[] = [];

function sh(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: TIMEOUT, env: { ...process.env, LC_ALL: 'C' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}) in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sysv-shm-bin-'));
  const stage = join(work, 'stage');
  app = join(work, 'app');
  mkdirSync(stage);
  mkdirSync(app);
  sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], ROOT);
  for (const file of ['package.json', 'README.md', 'LICENSE']) copyFileSync(join(ROOT, file), join(stage, file));
  cpSync(join(ROOT, 'bin'), join(stage, 'bin'), { recursive: true });
  const packed = JSON.parse(sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], stage));
  entries = packed[0].files.map((f: { path: string }) => f.path);
  sh('npm', ['install', '--no-audit', '--no-fund', join(work, packed[0].filename)], app);
}, TIMEOUT);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('sysv-shm from the packed tarball', () => {
  it('the tarball holds the launcher and the built CLI; npm links it as an executable', () => {
    expect(entries).toContain('bin/sysv-shm.js');
    expect(entries).toContain('dist/lib/cli/main.js');
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/sysv-shm/package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ 'sysv-shm': './bin/sysv-shm.js' });
    expect(statSync(join(app, 'node_modules/.bin/sysv-shm')).mode & 0o111).not.toBe(0);
  });

  it('creates, lists, writes, reads and removes a segment with plain node', () => {
    const bin = join(app, 'node_modules/.bin/sysv-shm');
    const run = (args: string[], input = '') => spawnSync(bin, args, { cwd: app, encoding: 'utf8', input, env: { ...process.env, LC_ALL: 'C', NODE_OPTIONS: '' } });
    const created = run(['create', '--size', '64']);
    expect(created.status, created.stderr).toBe(0);
    const id = removeAfterTest(Number(created.stdout));
    expect(run(['ls']).stdout).toMatch(new RegExp(`^0x00000000 ${id}\\s+\\S+\\s+600\\s+64\\s+0`, 'm'));
    expect(run(['write', String(id), '--offset', '8'], 'packed').status).toBe(0);
    expect(run(['cat', String(id), '--offset', '8', '--length', '6']).stdout).toBe('packed');
    expect(run(['rm', String(id)]).status).toBe(0);
    expect(procRow(id)).toBeUndefined();
    const usage = run(['nope']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|Cannot find/);
  });
});
