// The published package: `npm pack` (which builds dist/ through the prepack script), install the tarball into an
// empty folder, and use it from plain Node (no tsx) and from TypeScript through its .d.ts files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './support/child.js';
import { procRow, removeAfterTest } from './support/segments.js';

const TIMEOUT = 120_000;

let packDir = '';
let appDir = '';
let tarball = '';
/** Paths in the tarball, without the leading "package/". */
let tarEntries: string[] = [];
/** Paths npm pack reported. */
let packedFiles: string[] = [];

function sh(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: TIMEOUT, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}) in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

beforeAll(() => {
  packDir = mkdtempSync(join(tmpdir(), 'sysv-shm-pack-'));
  appDir = mkdtempSync(join(tmpdir(), 'sysv-shm-app-'));

  // Runs prepack (npm run build: rm -rf dist && tsc -p tsconfig.build.json); tsc errors end up in the thrown message.
  const out = sh('npm', ['pack', '--json', '--pack-destination', packDir], ROOT);
  const report = JSON.parse(out.slice(out.indexOf('[')));
  expect(report).toHaveLength(1);
  tarball = join(packDir, report[0].filename);
  packedFiles = report[0].files.map((f: { path: string }) => f.path);
  tarEntries = sh('tar', ['-tzf', tarball], packDir)
    .split('\n')
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ''));

  sh('npm', ['install', '--no-audit', '--no-fund', tarball], appDir);
}, TIMEOUT);

afterAll(() => {
  for (const dir of [packDir, appDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm package', () => {
  it('the tarball holds the built JavaScript with a .d.ts for every module, and no sources or tests', () => {
    expect(existsSync(tarball)).toBe(true);
    expect([...tarEntries].sort()).toEqual([...packedFiles].sort());
    expect(tarEntries).toContain('package.json');
    expect(tarEntries).toContain('dist/lib/index.js');
    expect(tarEntries).toContain('dist/lib/index.d.ts');

    const js = tarEntries.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    const dts = tarEntries.filter((f) => f.endsWith('.d.ts'));
    expect(js.length).toBeGreaterThan(5);
    for (const file of js) expect(dts, `declarations for ${file}`).toContain(file.replace(/\.js$/, '.d.ts'));
    // Only dist/lib, the CLI launcher and the top-level documents: no TypeScript sources, tests, scripts or C probes.
    for (const file of tarEntries) {
      expect(file.startsWith('dist/lib/') || ['package.json', 'README.md', 'LICENSE', 'bin/sysv-shm.js'].includes(file), file).toBe(true);
      if (file.endsWith('.ts')) expect(file.endsWith('.d.ts'), file).toBe(true);
    }

    // The manifest points at files that are in the tarball.
    const manifest = JSON.parse(readFileSync(join(appDir, 'node_modules/sysv-shm/package.json'), 'utf8'));
    expect(manifest.name).toBe('sysv-shm');
    expect(tarEntries).toContain(manifest.types.replace(/^\.\//, ''));
    expect(tarEntries).toContain(manifest.exports['.'].types.replace(/^\.\//, ''));
    expect(tarEntries).toContain(manifest.exports['.'].import.replace(/^\.\//, ''));
  });

  it('installed from the tarball into an empty folder, plain node creates, writes, reads and removes a segment', () => {
    expect(existsSync(join(appDir, 'node_modules/koffi/package.json'))).toBe(true);
    const script = `
      import { shmget, shmat, shmdt, shmctl, IPC_PRIVATE, IPC_CREAT, IPC_RMID, IPC_STAT } from 'sysv-shm';
      const id = shmget(IPC_PRIVATE, 5000, IPC_CREAT | 0o600);
      console.log('ID ' + id);
      try {
        const writer = shmat(id);
        const message = 'hello from the packed sysv-shm';
        new TextEncoder().encodeInto(message, new Uint8Array(writer.buffer, 1000));
        const reader = shmat(id);
        const back = new TextDecoder().decode(reader.read(1000, message.length));
        const ds = shmctl(id, IPC_STAT);
        shmdt(reader);
        shmdt(writer);
        if (back !== message) throw new Error('read back ' + JSON.stringify(back));
        console.log('OK ' + JSON.stringify({ back, segsz: ds.segsz, nattch: ds.nattch, size: writer.size }));
      } finally {
        shmctl(id, IPC_RMID);
      }
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: appDir, encoding: 'utf8', timeout: 30_000 });
    const id = /^ID (\d+)$/m.exec(result.stdout);
    if (id) removeAfterTest(Number(id[1]));
    expect(result.status, result.stderr).toBe(0);
    const ok = /^OK (.*)$/m.exec(result.stdout);
    expect(ok, result.stdout).not.toBeNull();
    expect(JSON.parse(ok![1])).toEqual({ back: 'hello from the packed sysv-shm', segsz: 5000, nattch: 2, size: 5000 });
    expect(procRow(Number(id![1]))).toBeUndefined();
    // It ran the built JavaScript from node_modules, not the sources.
    expect(result.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|Cannot find/);
  });

  it('TypeScript resolves the typings through the package exports', () => {
    writeFileSync(
      join(appDir, 'consumer.ts'),
      `import { shmget, shmat, shmctl, IPC_PRIVATE, IPC_CREAT, IPC_STAT, IPC_INFO, type ShmidDs, ShmError } from 'sysv-shm';
const id: number = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
const ds: ShmidDs = shmctl(id, IPC_STAT);
const size: number = ds.segsz;
const shmmax: bigint = shmctl(0, IPC_INFO).shmmax;
const address: bigint = shmat(id).address;
const code: string = new ShmError('x', { code: 'EINVAL', errno: 22, syscall: 'shmctl' }).code;
// @ts-expect-error a key is a number
shmget('key', 1, 0);
// @ts-expect-error IPC_STAT returns a ShmidDs, not a number
const wrong: number = shmctl(id, IPC_STAT);
export { size, shmmax, address, code, wrong };
`,
    );
    writeFileSync(
      join(appDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['consumer.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(appDir, 'tsconfig.json'), '--traceResolution'], { cwd: appDir, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    const errors = result.stdout.split('\n').filter((line) => /error TS/.test(line));
    expect(errors).toEqual([]);
    expect(result.status).toBe(0);
    // The types came from the installed package's dist/lib/index.d.ts.
    expect(result.stdout).toMatch(/Module name 'sysv-shm' was successfully resolved to '[^']*node_modules\/sysv-shm\/dist\/lib\/index\.d\.ts'/);
  });
});

