// The published package, as users get it: built with tsconfig.build.json into a staging folder (the checkout's
// dist/ is left alone), packed with the package's own manifest, installed from the tarball into an empty ES module
// project and an empty CommonJS project, and run with plain Node (no tsx) on every supported Node version, whose
// binaries come from the npm registry (scripts/ci/node-binaries.mjs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../support/child.js';
import { childResults, procRow, removeAfterTest } from '../support/segments.js';
// @ts-expect-error a plain JavaScript module of the CI scripts, without declarations
import { SUPPORTED_MAJORS, nodeBinary } from '../../scripts/ci/node-binaries.mjs';

const TIMEOUT = 300_000;
const FIXTURES = fileURLToPath(new URL('../fixtures/package/', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

let work = '';
/** Where the tarball is installed; esm/ and cjs/ below it are the two consumer projects. */
let apps = '';
/** Paths in the tarball, without the leading "package/". */
let entries: string[] = [];
/** Node binary per supported major. */
const nodes = new Map<number, string>();

function sh(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: TIMEOUT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}) in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function project(dir: string, type: 'module' | 'commonjs', files: string[]): void {
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }));
  for (const file of files) copyFileSync(join(FIXTURES, file), join(dir, file));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sysv-shm-package-'));
  const stage = join(work, 'stage');
  apps = join(work, 'apps');
  mkdirSync(stage);
  mkdirSync(apps);
  sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], ROOT);
  for (const file of manifest.files as string[]) {
    if (file === 'dist/lib') continue;
    cpSync(join(ROOT, file), join(stage, file), { recursive: true });
  }
  copyFileSync(join(ROOT, 'package.json'), join(stage, 'package.json'));
  const packed = JSON.parse(sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], stage));
  entries = packed[0].files.map((f: { path: string }) => f.path);
  writeFileSync(join(apps, 'package.json'), JSON.stringify({ name: 'consumers', private: true }));
  sh('npm', ['install', '--no-audit', '--no-fund', join(work, packed[0].filename)], apps);
  project(join(apps, 'esm'), 'module', ['esm-app.mjs', 'worker.mjs']);
  project(join(apps, 'cjs'), 'commonjs', ['cjs-app.cjs', 'worker.mjs']);
  for (const major of SUPPORTED_MAJORS as number[]) nodes.set(major, nodeBinary(major) as string);
}, TIMEOUT);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs a file of a consumer project with the Node of `major`, without tsx or any loader. */
function runWith(major: number, file: string, args: string[] = [], input?: string) {
  const result = spawnSync(nodes.get(major)!, [file, ...args], {
    cwd: dirname(file),
    encoding: 'utf8',
    input,
    timeout: 60_000,
    env: { ...process.env, NODE_OPTIONS: '', LC_ALL: 'C' },
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** The first ```js block of the README: the example the npm page starts with. */
function readmeFirstExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(readme);
  expect(block, 'README.md has a ```js example').not.toBeNull();
  return block![1];
}

describe('the tarball', () => {
  it('holds the built JavaScript with a .d.ts for every module, the launcher and the documents; no sources or tests', () => {
    const js = entries.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(5);
    for (const file of js) expect(entries, `declarations for ${file}`).toContain(file.replace(/\.js$/, '.d.ts'));
    for (const file of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'SECURITY.md',
      'bin/sysv-shm.js',
      'dist/lib/index.js',
      'dist/lib/cli/main.js',
      'docs/api.md',
    ]) {
      expect(entries).toContain(file);
    }
    for (const file of entries) {
      expect(
        file.startsWith('dist/lib/') ||
          file.startsWith('docs/') ||
          ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'SECURITY.md', 'bin/sysv-shm.js'].includes(file),
        file,
      ).toBe(true);
      if (file.endsWith('.ts')) expect(file.endsWith('.d.ts'), file).toBe(true);
    }
  });

  it('has a manifest whose entry points are in it, and links for the npm page', () => {
    const installed = JSON.parse(readFileSync(join(apps, 'node_modules/sysv-shm/package.json'), 'utf8'));
    const target = (path: string) => path.replace(/^\.\//, '');
    expect(entries).toContain(target(installed.types));
    expect(entries).toContain(target(installed.exports['.'].types));
    expect(entries).toContain(target(installed.exports['.'].default));
    expect(installed.bin).toEqual({ 'sysv-shm': './bin/sysv-shm.js' });
    expect(statSync(join(apps, 'node_modules/.bin/sysv-shm')).mode & 0o111).not.toBe(0);
    expect(installed.repository.url).toMatch(/^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
    const web = installed.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect(installed.homepage).toBe(`${web}#readme`);
    expect(installed.bugs.url).toBe(`${web}/issues`);
  });

  it('README and docs link only to files that exist (npm shows relative links from the repository)', () => {
    for (const document of ['README.md', ...entries.filter((f) => f.startsWith('docs/') && f.endsWith('.md'))]) {
      const text = readFileSync(join(ROOT, document), 'utf8');
      for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(link)) continue;
        const path = join(dirname(join(ROOT, document)), link.replace(/#.*$/, ''));
        expect(existsSync(path), `${document} links to ${link}`).toBe(true);
      }
    }
  });
});

describe.each(SUPPORTED_MAJORS as number[])('installed, on Node %i with plain node', (major) => {
  it('an ES module project imports it, uses the C layer, Segment and Channel, a worker attaches too, and it exits cleanly', () => {
    const results = childResults<Record<string, unknown>>(runWith(major, join(apps, 'esm/esm-app.mjs')));
    expect(results).toEqual({
      read: 'from esm',
      segsz: 5000,
      message: 'over the channel',
      fromWorker: 'from esm',
      node: expect.stringMatching(new RegExp(`^${major}\\.`)),
    });
  });

  it('a CommonJS project require()s it, with the same classes (instanceof ShmError), and exits cleanly', () => {
    const results = childResults<Record<string, unknown>>(runWith(major, join(apps, 'cjs/cjs-app.cjs')));
    expect(results).toEqual({
      read: 'from cjs',
      fromWorker: 'from cjs',
      nattch: 2,
      error: { isShmError: true, code: 'EINVAL' },
      node: expect.stringMatching(new RegExp(`^${major}\\.`)),
    });
  });

  it("the README's first example runs as it is", () => {
    const file = join(apps, 'esm', 'readme-example.mjs');
    writeFileSync(file, readmeFirstExample());
    const result = runWith(major, file);
    expect({ status: result.status, signal: result.signal, stderr: result.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const id = /^segment (\d+):/m.exec(result.stdout);
    expect(id, result.stdout).not.toBeNull();
    expect(procRow(Number(id![1]))).toBeUndefined(); // removed on exit
  });

  it('the sysv-shm command: --version, create, ls, write, cat, rm, and a repl with Channel, wait and notify in scope', () => {
    const bin = join(apps, 'node_modules/sysv-shm/bin/sysv-shm.js');
    const cli = (args: string[], input = '') => runWith(major, bin, args, input);
    expect(cli(['--version']).stdout).toBe(`sysv-shm ${manifest.version}\n`);
    const created = cli(['create', '--size', '64']);
    expect(created.status, created.stderr).toBe(0);
    const id = removeAfterTest(Number(created.stdout));
    expect(cli(['ls']).stdout).toMatch(new RegExp(`^0x00000000 ${id}\\s+\\S+\\s+600\\s+64\\s+0`, 'm'));
    expect(cli(['write', String(id), '--offset', '8'], 'packed').status).toBe(0);
    expect(cli(['cat', String(id), '--offset', '8', '--length', '6']).stdout).toBe('packed');
    expect(cli(['rm', String(id)]).status).toBe(0);
    expect(procRow(id)).toBeUndefined();
    const usage = cli(['nope']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|Cannot find/);

    const repl = cli(['repl'], ["console.log('IN SCOPE', typeof Channel, typeof wait, typeof notify, typeof Segment)", '.exit', ''].join('\n'));
    expect(repl.status, repl.stderr).toBe(0);
    expect(repl.stdout).toContain('IN SCOPE function function function function');
    expect(repl.stderr).toBe('');
  });
});

describe('TypeScript consumers', () => {
  it.each(['esm', 'cjs'])('a %s project type-checks against the installed .d.ts files (module NodeNext)', (kind) => {
    const dir = join(apps, kind);
    copyFileSync(join(FIXTURES, 'consumer.mts'), join(dir, 'consumer.ts'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--traceResolution'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(result.stdout.split('\n').filter((line) => /error TS/.test(line))).toEqual([]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Module name 'sysv-shm' was successfully resolved to '[^']*node_modules\/sysv-shm\/dist\/lib\/index\.d\.ts'/);
  });
});
