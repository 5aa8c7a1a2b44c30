// The REPL (npm run repl) driven through stdin, as a subprocess: TypeScript input, the helpers, and leaving
// nothing behind. A terminal session (for history) is driven through startSession with terminal: true.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';
import { ROOT, startProgram } from '../support/child.js';
import { procRow, removeAfterTest } from '../support/segments.js';

const REPL = join(ROOT, 'scripts/repl.ts');
const env = () => ({ ...process.env, SYSV_SHM_REPL_HISTORY: '', NO_COLOR: '1', LC_ALL: 'C' });

/** Runs the REPL with these input lines (ending with EOF) and returns what it printed. */
function session(lines: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', REPL], {
    cwd: ROOT,
    env: env(),
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
    timeout: 30_000,
  });
  // Whatever happens, the segments it reported are removed after the test.
  for (const match of result.stdout.matchAll(/\bID (\d+)/g)) removeAfterTest(Number(match[1]));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The ids a session reported with console.log('ID', id). */
const idsIn = (stdout: string) => [...stdout.matchAll(/\bID (\d+)/g)].map((m) => Number(m[1]));

describe('npm run repl, through stdin', () => {
  it('takes TypeScript, creates, writes, hexdumps, and on .exit detaches and removes what it created', () => {
    const run = session([
      'const size: number = 64',
      'const s: Segment = Segment.create({ size })',
      "console.log('ID', s.id)",
      'const a = s.attach()',
      "a.write('hello, shm', 16)",
      'hexdump(s, 0, 48)',
      's',
      'a',
      'interface Point { x: number; y: number }',
      'function norm(p: Point): number {',
      '  return Math.hypot(p.x, p.y)',
      '}',
      'norm({ x: 3, y: 4 } as Point)',
      '{ answer: 6 * 7 }',
      'const later = await new Promise<number>((resolve) => setTimeout(() => resolve(a.readString(16)), 50))',
      "console.log('LATER', later)",
      "console.log('MODE', shm.IPC_CREAT === IPC_CREAT, typeof ftok, typeof shmctl, typeof orphans, typeof limits().shmmax)",
      '.exit',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const [id] = idsIn(run.stdout);
    expect(id).toBeGreaterThanOrEqual(0);
    // The banner says what leaving does.
    expect(run.stdout).toMatch(/Segments created here are removed when you leave/);
    // hexdump -C layout.
    expect(run.stdout).toContain(
      [
        '00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
        '00000010  68 65 6c 6c 6f 2c 20 73  68 6d 00 00 00 00 00 00  |hello, shm......|',
        '00000020  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
        '00000030',
      ].join('\n'),
    );
    // Segments and attachments print readably.
    expect(run.stdout).toMatch(new RegExp(`Segment \\{ id: ${id}, key: 0x00000000, size: 64, mode: 0600, attached: 1, attached here: 1, removed on exit \\}`));
    expect(run.stdout).toMatch(new RegExp(`SegmentAttachment \\{ id: ${id}, size: 64, at 0x[0-9a-f]+ \\}`));
    expect(run.stdout).toMatch(/(\.\.\. |\| )+shm> 5\n/); // the function took three lines (Node >= 24 prompts "| " for them)
    expect(run.stdout).toContain('{ answer: 42 }');
    expect(run.stdout).toContain('LATER hello, shm');
    expect(run.stdout).toContain('MODE true function function function bigint');
    expect(run.stdout).toContain(`Leaving: detached 1 attachment; removed segment ${id} (created here).`);
    expect(procRow(id)).toBeUndefined();
  });

  it('EOF (Ctrl-D) leaves the same way; shmget with IPC_CREAT counts as created; a foreign segment is detached, not removed; keep() keeps one', () => {
    const foreign = Segment.create({ size: 32 });
    removeAfterTest(foreign.id);
    const run = session([
      'const id = shmget(IPC_PRIVATE, 100, IPC_CREAT | 0o600)',
      "console.log('ID', id)",
      'const raw = shmat(id)',
      `const f = Segment.fromId(${foreign.id})`,
      'const fa = f.attach()',
      "fa.write('from the repl')",
      'const kept = Segment.create({ size: 10 })',
      "console.log('ID', kept.id)",
      'keep(kept)',
      'const opted = Segment.create({ size: 10, removeOnExit: false })',
      "console.log('ID', opted.id)",
      "console.log('NATTCH', f.numberAttached)",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const [made, keptId, optedId] = idsIn(run.stdout);
    expect(run.stdout).toContain('NATTCH 1');
    expect(run.stdout).toContain(`Leaving: detached 2 attachments; removed segment ${made} (created here); kept ${keptId}.`);
    expect(procRow(made)).toBeUndefined();
    expect(procRow(keptId)).toBeDefined();
    expect(procRow(optedId)).toBeDefined();
    expect(procRow(foreign.id)?.nattch).toBe(0);
    using view = foreign.attach({ readOnly: true });
    expect(view.readString()).toBe('from the repl');
  });

  it('ls() prints the ipcs -m table; errors print without killing the session; .shm and .help list the helpers', () => {
    const run = session([
      'const s = Segment.create({ size: 4321 })',
      "console.log('ID', s.id)",
      'ls()',
      'Segment.fromId(-1)',
      'hexdump(s, 5000)',
      '.shm',
      '.help',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const [id] = idsIn(run.stdout);
    expect(run.stdout).toContain('------ Shared Memory Segments --------');
    expect(run.stdout).toMatch(new RegExp(`^0x00000000 ${id}\\s+\\S+\\s+600\\s+4321\\s+0\\s*$`, 'm'));
    expect(run.stdout).toMatch(/Uncaught RangeError: shmid must be 0\.\.2147483647, got -1/);
    expect(run.stdout).toMatch(/Uncaught RangeError: offset 5000 is outside segment/);
    expect(run.stdout).toMatch(/watch\(segment, ms = 100\)/); // .shm
    expect(run.stdout).toMatch(/^\.shm\s+sysv-shm helpers: ls\(\), hexdump\(x\), watch\(segment\), keep\(segment\)/m); // .help
    expect(procRow(id)).toBeUndefined();
  });

  it('watch() prints bytes that another process changes, until stopped', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', REPL], { cwd: ROOT, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 300 && !pattern.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toMatch(pattern);
      return pattern.exec(out)!;
    };
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      child.stdin.write("const s = Segment.create({ size: 256 }); console.log('ID', s.id)\n");
      const id = removeAfterTest(Number((await waitFor(/ID (\d+)/))[1]));
      child.stdin.write('const w = watch(s, 10)\n');
      await waitFor(/watching segment \d+ every 10 ms/);
      {
        using attachment = Segment.fromId(id).attach();
        attachment.write('hi!', 100);
      }
      await waitFor(/\[watch \d+ \+[\d.]+s\] bytes 100\.\.102: 68 69 21 \|hi!\| \(was 00 00 00\)/);
      child.stdin.write('w.stop(); w\n');
      await waitFor(/Watch \{ id: \d+, every: 10 ms, changes: 1, stopped \}/);
      child.stdin.end('.exit\n');
      expect(await exited).toBe(0);
      expect(out).toContain(`removed segment ${id} (created here)`);
      expect(procRow(id)).toBeUndefined();
    } finally {
      child.kill();
    }
  });

  it('SIGTERM still removes the segments created in the session', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', REPL], { cwd: ROOT, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdin.write("const s = Segment.create({ size: 256 }); console.log('ID', s.id)\n");
    for (let i = 0; i < 300 && !/ID \d+/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    const id = removeAfterTest(Number(/ID (\d+)/.exec(out)![1]));
    expect(procRow(id)).toBeDefined();
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(procRow(id)).toBeUndefined();
  });
});

describe('Ctrl-C in the REPL', () => {
  it('SIGINT during a blocking wait() ends that input and returns to the prompt; leaving still cleans up', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', REPL], { cwd: ROOT, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 400 && !pattern.test(out); i++) await new Promise((r) => setTimeout(r, 25));
      expect(out).toMatch(pattern);
    };
    try {
      child.stdin.write("const s = Segment.create({ size: 64 }); const a = s.attach(); console.log('ID', s.id)\n");
      await until(/ID \d+/);
      const id = removeAfterTest(Number(/ID (\d+)/.exec(out)![1]));
      child.stdin.write("console.log('BLOCKING'); wait(a.view(Int32Array, 0, 1), 0, 0)\n");
      await until(/BLOCKING/);
      await new Promise((r) => setTimeout(r, 200)); // asleep in the kernel
      child.kill('SIGINT');
      await until(/interrupted by `SIGINT`/);
      child.stdin.write("console.log('AFTER', 6 * 7)\n");
      await until(/AFTER 42/);
      child.stdin.end('.exit\n');
      expect(await exited).toEqual([0, null]);
      expect(out).toContain(`Leaving: detached 1 attachment; removed segment ${id} (created here).`);
      expect(procRow(id)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('REPL session in a terminal', () => {
  it('keeps history in the file SYSV_SHM_REPL_HISTORY names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-repl-'));
    try {
      const history = join(dir, 'history');
      const child = startProgram(fileURLToPath(new URL('../fixtures/repl/terminal-session.ts', import.meta.url)), [], {
        env: { ...process.env, SYSV_SHM_REPL_HISTORY: history },
      });
      let out = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => (out += chunk));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // Typed as a person types: a line after each prompt. Plain JavaScript: this session has no TypeScript
      // transform, and after a SyntaxError the REPL of Node 24 and 26 merges the next line into that history entry.
      for (const line of ['const answer = 6 * 7', 'shm.IPC_PRIVATE', '.exit']) {
        const prompts = out.split('shm> ').length;
        for (let i = 0; i < 200 && out.split('shm> ').length === prompts && line !== 'const answer = 6 * 7'; i++) await new Promise((r) => setTimeout(r, 25));
        await new Promise((r) => setTimeout(r, 200));
        child.stdin!.write(line + '\r');
      }
      expect(await exited).toBe(0);
      expect(out).toContain('Leaving: detached 0 attachments; removed no segments.');
      expect(readFileSync(history, 'utf8').split('\n')).toEqual(['shm.IPC_PRIVATE', 'const answer = 6 * 7']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
