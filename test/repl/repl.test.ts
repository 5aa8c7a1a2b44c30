// The REPL (npm run repl) driven through stdin, as a subprocess: TypeScript input, the helpers, and leaving
// nothing behind. A terminal session (for history) is driven through startSession with terminal: true.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_EXCL, Segment, msgget, semget } from '../../lib/index.js';
import { ROOT, startProgram } from '../support/child.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { procSysvRow, removeMsgAfterTest, removeSemAfterTest } from '../support/sysv-objects.js';

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
  // Whatever happens, the segments, sets and queues it reported are removed after the test.
  for (const match of result.stdout.matchAll(/\bID (\d+)/g)) removeAfterTest(Number(match[1]));
  for (const match of result.stdout.matchAll(/\bSET (\d+)/g)) removeSemAfterTest(Number(match[1]));
  for (const match of result.stdout.matchAll(/\bQUEUE (\d+)/g)) removeMsgAfterTest(Number(match[1]));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The ids a session reported with console.log('ID', id) (or 'SET', 'QUEUE'). */
const idsIn = (stdout: string, label = 'ID') => [...stdout.matchAll(new RegExp(`\\b${label} (\\d+)`, 'g'))].map((m) => Number(m[1]));

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
    expect(run.stdout).toMatch(/Segments, semaphore sets and queues created here are removed when you leave, unless keep\(x\)/);
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
    expect(run.stdout).toMatch(/^\.shm\s+sysv-shm helpers: ls\(\), hexdump\(x\), watch\(segment\), keep\(x\)/m); // .help
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

describe('semaphore sets and message queues in the REPL', () => {
  it('what SemaphoreSet.create, MessageQueue.create, semget and msgget with IPC_CREAT make goes when you leave; what they open stays; keep() keeps', () => {
    const key = uniqueKey();
    const foreignSet = removeSemAfterTest(semget(key, 1, IPC_CREAT | IPC_EXCL | 0o600));
    const foreignQueue = removeMsgAfterTest(msgget(key, IPC_CREAT | IPC_EXCL | 0o600));
    const freshKey = uniqueKey() | 0x4000_0000; // not the same as key
    const run = session([
      'const set: SemaphoreSet = SemaphoreSet.create({ count: 2, values: [1, 5] })',
      "console.log('SET', set.id)",
      "const q = MessageQueue.create(); q.send('hello'); console.log('QUEUE', q.id)",
      "const raw = semget(IPC_PRIVATE, 3, IPC_CREAT | 0o600); console.log('SET', raw)",
      `const byKey = msgget(${freshKey}, IPC_CREAT | 0o640); console.log('QUEUE', byKey)`,
      `console.log('SAME', msgget(${freshKey}, IPC_CREAT | 0o640) === byKey)`,
      // Opened, not made here: they stay.
      `const theirs = SemaphoreSet.create({ key: ${key}, exclusive: false }); console.log('OPENED', theirs.created, theirs.id)`,
      `const theirQueue = msgget(${key}, IPC_CREAT | 0o600); console.log('OPENED', theirQueue)`,
      "const kept = SemaphoreSet.create(); console.log('SET', kept.id); keep(kept)",
      "const keptQueue = msgget(IPC_PRIVATE, IPC_CREAT | 0o600); console.log('QUEUE', keptQueue); keep(keptQueue, 'msg')",
      "const gone = MessageQueue.create(); console.log('QUEUE', gone.id); gone.remove()",
      "console.log('SCOPE', typeof semop, typeof semtimedop, typeof semctl, typeof msgsnd, typeof msgrcv, typeof msgctl, typeof listSemaphores, typeof listQueues)",
      "console.log('CONSTANTS', GETVAL, GETALL, SETVAL, SETALL, GETNCNT, GETZCNT, GETPID, SEM_UNDO, MSG_NOERROR, SEMVMX, shm.SEM_STAT === SEM_STAT)",
      "console.log('VALUES', semctl(set.id, 1, GETVAL), set.values().join(','), q.receiveString()?.data)",
      '.exit',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const [set, raw, kept] = idsIn(run.stdout, 'SET');
    const [queue, byKey, keptQueue, gone] = idsIn(run.stdout, 'QUEUE');
    expect(run.stdout).toContain('SAME true');
    expect(run.stdout).toContain(`OPENED false ${foreignSet}`);
    expect(run.stdout).toContain(`OPENED ${foreignQueue}`);
    expect(run.stdout).toContain(`semaphore set ${kept} will stay when you leave: remove it later with sysv-shm rm -s ${kept} (or ipcrm -s ${kept})`);
    expect(run.stdout).toContain(`message queue ${keptQueue} will stay when you leave: remove it later with sysv-shm rm -q ${keptQueue}`);
    expect(run.stdout).toContain('SCOPE function function function function function function function function');
    expect(run.stdout).toMatch(/CONSTANTS 12 13 16 17 14 15 11 4096 4096 32767 true/);
    expect(run.stdout).toContain('VALUES 5 1,5 hello');
    expect(run.stdout).toContain(
      `Leaving: detached 0 attachments; removed no segments; removed semaphore sets ${set}, ${raw} (created here); ` +
        `removed message queues ${queue}, ${byKey} (created here); message queue ${gone} already removed; ` +
        `kept semaphore set ${kept}; kept message queue ${keptQueue}.`,
    );
    for (const id of [set, raw]) expect(procSysvRow('sem', id)).toBeUndefined();
    for (const id of [queue, byKey, gone]) expect(procSysvRow('msg', id)).toBeUndefined();
    for (const id of [kept, foreignSet]) expect(procSysvRow('sem', id)).toBeDefined();
    for (const id of [keptQueue, foreignQueue]) expect(procSysvRow('msg', id)).toBeDefined();
  });

  it("ls('sem'), ls('msg'), ls('all') print ipcs -s, -q, -a tables (views too); ls() and ls(view) are still segments", () => {
    const run = session([
      "const set = SemaphoreSet.create({ count: 3, mode: 0o640 }); console.log('SET', set.id)",
      "const q = MessageQueue.create(); q.send('12345'); console.log('QUEUE', q.id)",
      "const s = Segment.create({ size: 99 }); console.log('ID', s.id)",
      "ls('sem')",
      "ls('msg')",
      "ls('all')",
      "ls('sem', 'creator')",
      "ls('msg', 'pid')",
      "ls('time')",
      'ls()',
      "ls('bogus')",
      "ls('sem', 'nope')",
      'keep(42, "queue")',
      '.exit',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const [set] = idsIn(run.stdout, 'SET');
    const [queue] = idsIn(run.stdout, 'QUEUE');
    const [segment] = idsIn(run.stdout);
    const out = run.stdout;
    expect(out).toMatch(new RegExp(`------ Semaphore Arrays --------\nkey +semid +owner +perms +nsems +\n(.*\n)*0x00000000 ${set} +\\S+ +640 +3 +\n`));
    expect(out).toMatch(
      new RegExp(`------ Message Queues --------\nkey +msqid +owner +perms +used-bytes +messages +\n(.*\n)*0x00000000 ${queue} +\\S+ +600 +5 +1 +\n`),
    );
    // ipcs -a's order: queues, segments, semaphores.
    expect(out).toMatch(/------ Message Queues --------\n[\s\S]*?\n\n------ Shared Memory Segments --------\n[\s\S]*?\n\n------ Semaphore Arrays --------\n/);
    expect(out).toContain('------ Semaphore Arrays Creators/Owners --------');
    expect(out).toMatch(new RegExp(`^${set} +640 `, 'm'));
    expect(out).toContain('------ Message Queues PIDs --------');
    expect(out).toMatch(new RegExp(`^${queue} +\\S+ +\\d+ +0$`, 'm'));
    expect(out).toContain('------ Shared Memory Attach/Detach/Change Times --------');
    expect(out).toMatch(new RegExp(`^0x00000000 ${segment} +\\S+ +600 +99 +0 `, 'm'));
    expect(out).toMatch(/Uncaught:?\s*RangeError: ls takes a kind \('shm', 'sem', 'msg' or 'all'\) and a view[^\n]*; got "bogus"/);
    expect(out).toMatch(/RangeError: ls takes a kind [^\n]*; got view "nope"/);
    expect(out).toMatch(/RangeError: keep: kind must be 'shm', 'sem' or 'msg', got "queue"/);
    expect(out).toContain(
      `removed segment ${segment} (created here); removed semaphore set ${set} (created here); removed message queue ${queue} (created here).`,
    );
    expect(procSysvRow('sem', set)).toBeUndefined();
    expect(procSysvRow('msg', queue)).toBeUndefined();
  });

  it('SIGTERM removes the sets and queues made in the session, and its segments, and the REPL dies of it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', REPL], { cwd: ROOT, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      child.stdin.write(
        "const s = Segment.create({ size: 64 }); const set = SemaphoreSet.create(); const q = MessageQueue.create(); console.log('MADE', s.id, set.id, q.id)\n",
      );
      for (let i = 0; i < 300 && !/MADE \d+ \d+ \d+/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      const [, shmid, semid, msqid] = /MADE (\d+) (\d+) (\d+)/.exec(out)!.map(Number);
      removeAfterTest(shmid);
      removeSemAfterTest(semid);
      removeMsgAfterTest(msqid);
      expect(procSysvRow('sem', semid)).toBeDefined();
      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      expect(procRow(shmid)).toBeUndefined();
      expect(procSysvRow('sem', semid)).toBeUndefined();
      expect(procSysvRow('msg', msqid)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
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
