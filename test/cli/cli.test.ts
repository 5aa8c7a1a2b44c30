// The sysv-shm command as a subprocess, against real segments, compared with util-linux 2.38's ipcs, ipcmk, ipcrm
// and hexdump (LC_ALL=C, TZ=UTC for both sides). Other processes' segments come and go meanwhile, so tables are
// compared on their title, header and the rows of this test's segments.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PassThrough } from 'node:stream';
import {
  IPC_CREAT,
  IPC_EXCL,
  IPC_PRIVATE,
  IPC_SET,
  Segment,
  ftok,
  limits,
  list,
  listQueues,
  listSemaphores,
  msgctl,
  msgget,
  msgsnd,
  semctl,
  semget,
  type SegmentAttachment,
} from '../../lib/index.js';
import { CLI_CHUNK as CHUNK, CLI_WINDOW as WINDOW, cliMain as main } from '../../lib/internal.js';
import { ROOT } from '../support/child.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { procSysvRow, removeMsgAfterTest, removeSemAfterTest } from '../support/sysv-objects.js';

// ---------------------------------------------------------------------------------------------------------------
const MAIN = join(ROOT, 'lib/cli/main.ts');
const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, LC_ALL: 'C', TZ: 'UTC', ...extra });

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  raw: Buffer;
}

/** sysv-shm <args>, as `npm run cli -- <args>` runs it (tsx, from the sources). */
function cli(args: Array<string | number>, options: { input?: string | Buffer; uid?: number } = {}): Run {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args.map(String)], {
    cwd: ROOT,
    env: env(options.uid === undefined ? {} : { HOME: '/tmp' }),
    input: options.input ?? '',
    timeout: 30_000,
    uid: options.uid,
    gid: options.uid,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8'), raw: result.stdout };
}

function tool(name: string, args: Array<string | number>, input?: Buffer): string {
  return execFileSync(name, args.map(String), { encoding: 'utf8', env: env(), input });
}

/** The line of a table whose `column`-th cell (0-based) is `value`. */
function rowOf(text: string, column: number, value: string | number): string | undefined {
  return text.split('\n').find((line) => line.trim().split(/\s+/)[column] === String(value));
}

/** Title, column header, the rows of `ids`, and the trailing lines of an ipcs-style table. */
function tableFor(text: string, ids: number[], idColumn: number): string[] {
  const lines = text.split('\n');
  return [lines[0], lines[1], lines[2], ...ids.map((id) => rowOf(text, idColumn, id) ?? `(no row for ${id})`), lines.at(-2)!, lines.at(-1)!];
}

/** A uid nobody on the machine uses (no passwd entry), so tests acting as it touch only their own segments. */
const strangerUid = () => 40_000 + Math.floor(Math.random() * 20_000);

/** Exactly one line on stderr, no stack trace. */
function expectOneLineError(run: Run, pattern: RegExp) {
  expect(run.stderr.endsWith('\n')).toBe(true);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

const attachments: SegmentAttachment[] = [];
afterEach(() => {
  for (const a of attachments.splice(0)) a[Symbol.dispose]();
});

/** Segments that exercise every column: attached with a negative key_t, locked, removed while attached (dest), owned by nobody, owned by a uid without a name. */
function fixture() {
  const attached = Segment.create({ key: uniqueKey() | 0x8000_0000, size: 5000, mode: 0o640 });
  removeAfterTest(attached.id);
  attachments.push(attached.attach());
  const locked = Segment.create({ size: 3 * 4096 + 1, mode: 0o600 });
  removeAfterTest(locked.id);
  locked.lock();
  const dest = Segment.create({ key: uniqueKey(), size: 100, mode: 0o644 });
  removeAfterTest(dest.id);
  attachments.push(dest.attach());
  dest.remove();
  const nobody = Segment.create({ size: 2 << 20, mode: 0o660 });
  removeAfterTest(nobody.id);
  nobody.setOwner(65534, 65534);
  const unnamed = Segment.create({ size: 1, mode: 0o400 });
  removeAfterTest(unnamed.id);
  unnamed.setOwner(strangerUid(), strangerUid());
  return { attached, locked, dest, nobody, unnamed, ids: [attached.id, locked.id, dest.id, nobody.id, unnamed.id] };
}

// ---------------------------------------------------------------------------------------------------------------
describe('sysv-shm ls, stat, limits, summary print what ipcs prints', () => {
  it('ls and its views -t, -p, -c, --human match ipcs -m row for row', () => {
    const { ids } = fixture();
    for (const view of [[], ['-t'], ['-p'], ['-c'], ['--human']]) {
      const ours = cli(['ls', ...view]);
      expect(ours.status, ours.stderr).toBe(0);
      const theirs = tool('ipcs', ['-m', ...view]);
      const idColumn = view.length === 0 || view[0] === '--human' ? 1 : 0;
      expect(tableFor(ours.stdout, ids, idColumn), `ls ${view.join(' ')}`).toEqual(tableFor(theirs, ids, idColumn));
    }
    // The status column: dest and locked.
    const table = cli(['ls']).stdout;
    expect(rowOf(table, 1, ids[1])).toMatch(/\slocked\s*$/);
    expect(rowOf(table, 1, ids[2])).toMatch(/^0x00000000 .*\sdest\s*$/);
  });

  it('stat matches ipcs -m -i byte for byte, also for a removed and a locked segment, and with --human', () => {
    const { ids, attached } = fixture();
    for (const id of ids) {
      expect(cli(['stat', id]).stdout, `stat ${id}`).toBe(tool('ipcs', ['-m', '-i', id]));
    }
    expect(cli(['stat', attached.id, '--human']).stdout).toBe(tool('ipcs', ['-m', '-i', attached.id, '--human']));
    // By key, signed or as ipcs prints it.
    expect(cli(['stat', '--key', attached.keyHex]).stdout).toBe(tool('ipcs', ['-m', '-i', attached.id]));
    expect(attached.key).toBeLessThan(0);
    expect(cli(['stat', `--key=${attached.key}`]).stdout).toBe(tool('ipcs', ['-m', '-i', attached.id]));
  });

  it('--json gives every field, as the library reports it', () => {
    const { attached, dest } = fixture();
    const all = JSON.parse(cli(['ls', '--json']).stdout);
    const expected = JSON.parse(JSON.stringify(list().find((s) => s.id === attached.id)));
    expect(all.find((s: { id: number }) => s.id === attached.id)).toEqual(expected);
    const one = JSON.parse(cli(['stat', dest.id, '--json']).stdout);
    expect(one).toMatchObject({ id: dest.id, key: 0, keyHex: '0x00000000', size: 100, mode: 0o644, attached: 1, markedForRemoval: true, locked: false });
    expect(one.lastAttachTime).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('limits matches ipcs -m -l (kbytes, --bytes, --human); --json has the numbers as strings', () => {
    expect(cli(['limits']).stdout).toBe(tool('ipcs', ['-m', '-l']));
    expect(cli(['limits', '--bytes']).stdout).toBe(tool('ipcs', ['-m', '-l', '-b']));
    expect(cli(['limits', '--human']).stdout).toBe(tool('ipcs', ['-m', '-l', '--human']));
    const json = JSON.parse(cli(['limits', '--json']).stdout);
    expect(json.shmmni).toBe(tool('cat', ['/proc/sys/kernel/shmmni']).trim());
    expect(json.shmmax).toBe(tool('cat', ['/proc/sys/kernel/shmmax']).trim());
  });

  it('summary matches ipcs -m -u (retried: other processes make and remove segments meanwhile)', () => {
    fixture();
    let ours = '';
    let theirs = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      ours = cli(['summary']).stdout;
      theirs = tool('ipcs', ['-m', '-u']);
      if (ours === theirs) break;
    }
    expect(ours).toBe(theirs);
    expect(Number(JSON.parse(cli(['summary', '--json']).stdout).segments)).toBeGreaterThanOrEqual(5);
  });

  it('a missing segment is exit 1 with one line', () => {
    const run = cli(['stat', 2 ** 31 - 2]);
    expect(run.status).toBe(1);
    expectOneLineError(run, /^sysv-shm stat: no segment with id 2147483646/);
    expect(run.stdout).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('sysv-shm create, rm, orphans', () => {
  it('create prints the id of a segment made as asked (size suffixes, octal mode, key); a taken key is exit 1', () => {
    const key = uniqueKey();
    const run = cli(['create', '--size', '8K', '--mode', '0640', '--key', '0x' + (key >>> 0).toString(16)]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\d+\n$/);
    const id = removeAfterTest(Number(run.stdout));
    expect(procRow(id)).toMatchObject({ key, size: 8192, perms: 0o640, nattch: 0 });
    // Exactly as ipcs shows it.
    expect(rowOf(tool('ipcs', ['-m']), 1, id)).toMatch(new RegExp(`^0x${(key >>> 0).toString(16).padStart(8, '0')} ${id}\\s+\\S+\\s+640\\s+8192\\s+0\\s*$`));

    const again = cli(['create', '--size', '100', '--key', String(key)]);
    expect(again.status).toBe(1);
    expectOneLineError(again, /^sysv-shm create: EEXIST: /);
  });

  it('create with --path and --proj uses ftok; private and 0600 by default; --json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-cli-'));
    try {
      const file = join(dir, 'anchor');
      writeFileSync(file, '');
      const run = cli(['create', '--size', '100', '--path', file, '--proj', 'A']);
      expect(run.status, run.stderr).toBe(0);
      const id = removeAfterTest(Number(run.stdout));
      expect(procRow(id)?.key).toBe(ftok(file, 'A'));

      const json = cli(['create', '--size', '1KB', '--json']);
      const status = JSON.parse(json.stdout);
      removeAfterTest(status.id);
      expect(status).toMatchObject({ key: 0, size: 1000, mode: 0o600 });
      expect(procRow(status.id)?.perms).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rm removes by id and by key like ipcrm, marks an attached one (dest), tries every one and exits 1 naming the bad ones', () => {
    const a = Segment.create({ size: 100 });
    const b = Segment.create({ key: uniqueKey(), size: 100 });
    const c = Segment.create({ size: 100 });
    for (const s of [a, b, c]) removeAfterTest(s.id);
    attachments.push(c.attach());
    const missing = 2 ** 31 - 3;
    const run = cli(['rm', '-v', a.id, missing, c.id, '--key', b.keyHex]);
    expect(run.status).toBe(1);
    expectOneLineError(run, new RegExp(`^sysv-shm rm: id ${missing}: EINVAL: `));
    expect(run.stdout).toBe(`removed ${a.id}\nmarked ${c.id} for removal: still attached, destroyed at the last detach\nremoved ${b.id}\n`);
    expect(procRow(a.id)).toBeUndefined();
    expect(procRow(b.id)).toBeUndefined();
    expect(procRow(c.id)?.perms).toBe(0o600 | 0o1000); // SHM_DEST: ipcs says dest
    expect(rowOf(tool('ipcs', ['-m']), 1, c.id)).toMatch(/\sdest\s*$/);

    // Quiet on success, like ipcrm.
    const d = Segment.create({ size: 10 });
    removeAfterTest(d.id);
    expect(cli(['rm', d.id])).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(procRow(d.id)).toBeUndefined();
  });

  it('rm --all-mine removes the segments the current user owns, and no others', () => {
    const uid = strangerUid();
    const mine = [Segment.create({ size: 10 }), Segment.create({ size: 20 })];
    const other = Segment.create({ size: 30 });
    for (const s of [...mine, other]) removeAfterTest(s.id);
    for (const s of mine) s.setOwner(uid, uid);
    const run = cli(['rm', '--all-mine', '-v'], { uid });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean).sort()).toEqual(mine.map((s) => `removed ${s.id}`).sort());
    for (const s of mine) expect(procRow(s.id)).toBeUndefined();
    expect(procRow(other.id)).toBeDefined();
  });

  it('orphans lists a segment whose creator is gone, and --rm --mine removes it', () => {
    const uid = strangerUid();
    // ipcmk exits at once: its segment is unattached and its creator gone.
    const id = removeAfterTest(Number(/(\d+)\s*$/.exec(tool('ipcmk', ['-M', '4096', '-p', '0600']))![1]));
    const listed = cli(['orphans']);
    expect(listed.status).toBe(0);
    expect(rowOf(listed.stdout, 1, id)).toBe(rowOf(tool('ipcs', ['-m']), 1, id));
    expect(JSON.parse(cli(['orphans', '--json']).stdout).map((s: { id: number }) => s.id)).toContain(id);

    Segment.fromId(id).setOwner(uid, uid);
    const removed = cli(['orphans', '--rm', '--mine'], { uid });
    expect(removed.status, removed.stderr).toBe(0);
    expect(tableFor(removed.stdout, [], 1).slice(0, 3)).toEqual(['', '------ Shared Memory Segments --------', expect.stringMatching(/^key\s+shmid/)]);
    expect(removed.stdout.trim().split('\n')).toHaveLength(3); // title, header, one row
    expect(rowOf(removed.stdout, 1, id)).toBeDefined();
    expect(procRow(id)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('sysv-shm with semaphore sets and message queues', () => {
  /** `sysv-shm ls <args>` as a program, compared with `ipcs <args>` when two ipcs runs around it agree. */
  function expectLsAsIpcs(args: string[]) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = tool('ipcs', args);
      const ours = cli(['ls', ...args]);
      if (before !== tool('ipcs', args)) continue;
      expect(ours.stderr).toBe('');
      expect(ours.status).toBe(0);
      expect(ours.stdout, `sysv-shm ls ${args.join(' ')}`).toBe(before);
      return;
    }
    throw new Error(`ipcs ${args.join(' ')} kept changing`);
  }

  it("create -S / -Q as a program prints ipcmk's lines; the key and mode asked; ls -a then prints what ipcs -a prints", () => {
    const key = uniqueKey();
    const run = cli(['create', '-Q', '-S', '4', '--key', '0x' + (key >>> 0).toString(16), '--mode', '0640']);
    expect(run.status, run.stderr).toBe(0);
    const [, msqid, semid] = /^Message queue id: (\d+)\nSemaphore id: (\d+)\n$/.exec(run.stdout)!.map(Number);
    removeMsgAfterTest(msqid);
    removeSemAfterTest(semid);
    expect(procSysvRow('msg', msqid)).toMatchObject({ key, perms: 0o640, qnum: 0 });
    expect(procSysvRow('sem', semid)).toMatchObject({ key, perms: 0o640, nsems: 4 });
    msgsnd(msqid, 1, 'a message');
    expectLsAsIpcs(['-a']);
    expectLsAsIpcs(['-s', '-i', String(semid)]);
  });

  it('create makes all or nothing: a taken key for the set removes the queue it had made (exit 1, one line)', async () => {
    const key = uniqueKey();
    removeSemAfterTest(semget(key, 1, IPC_CREAT | IPC_EXCL | 0o600));
    const queuesBefore = listQueues().length;
    const run = await inProcess(['create', '-Q', '-S', '1', '--key', String(key)]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^sysv-shm create: EEXIST: .*\n$/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(listQueues().some((q) => q.key === key)).toBe(false);
    expect(listQueues().length).toBe(queuesBefore);

    // --json: the status of what was made; several as { shm, msg, sem }.
    const one = await inProcess(['create', '-S', '2', '--json']);
    expect(one.status, one.stderr).toBe(0);
    const set = JSON.parse(one.stdout);
    removeSemAfterTest(set.id);
    expect(set).toMatchObject({ count: 2, mode: 0o644, lastOperationTime: null });
    expect(set.key).not.toBe(0);
    const both = await inProcess(['create', '-Q', '-M', '1K', '--json', '--mode', '600']);
    expect(both.status, both.stderr).toBe(0);
    const made = JSON.parse(both.stdout);
    removeAfterTest(made.shm.id);
    removeMsgAfterTest(made.msg.id);
    expect(Object.keys(made)).toEqual(['shm', 'msg']);
    expect(made.shm).toMatchObject({ size: 1024, mode: 0o600 });
    expect(made.msg).toMatchObject({ mode: 0o600, messages: 0, maxBytes: limits().msg.msgmnb });
    // Private when asked (key 0).
    const privateSet = await inProcess(['create', '-S', '1', '--key', '0']);
    const privateId = removeSemAfterTest(Number(/^Semaphore id: (\d+)\n$/.exec(privateSet.stdout)![1]));
    expect(procSysvRow('sem', privateId)?.key).toBe(0);
  });

  it('rm -s / -S as a stranger answers as ipcrm: "permission denied for id (N)" and "... for key (N)"', () => {
    const uid = strangerUid();
    const sets = [0, 1, 2, 3].map(() => removeSemAfterTest(semget(uniqueKey(), 1, IPC_CREAT | IPC_EXCL | 0o600)));
    const keyOf = (id: number) => '0x' + (procSysvRow('sem', id)!.key >>> 0).toString(16).padStart(8, '0');
    const ours = cli(['rm', '-s', sets[0], '-S', keyOf(sets[1])], { uid });
    const theirs = spawnSync('ipcrm', ['-s', String(sets[2]), '-S', keyOf(sets[3])], { encoding: 'utf8', env: env(), uid, gid: uid });
    expect(ours.status).toBe(1);
    expect(theirs.status).toBe(1);
    expect(ours.stderr).toBe(`sysv-shm rm: permission denied for id (${sets[0]})\nsysv-shm rm: permission denied for key (${sets[1]})\n`);
    expect(theirs.stderr).toBe(`ipcrm: permission denied for id (${sets[2]})\nipcrm: permission denied for key (${sets[3]})\n`);
    for (const id of sets) expect(procSysvRow('sem', id)).toBeDefined();
  });

  it('stat -s / -q, ls -i, --json and usage errors', async () => {
    const semid = removeSemAfterTest(semget(IPC_PRIVATE, 2, IPC_CREAT | 0o600));
    const msqid = removeMsgAfterTest(msgget(uniqueKey(), IPC_CREAT | IPC_EXCL | 0o600));
    msgsnd(msqid, 7, 'hello');
    const set = JSON.parse((await inProcess(['stat', '-s', String(semid), '--json'])).stdout);
    expect(set).toEqual({
      ...JSON.parse(JSON.stringify(listSemaphores().find((s) => s.id === semid))),
      semaphores: [
        { value: 0, waitingForNonzero: 0, waitingForZero: 0, lastPid: 0 },
        { value: 0, waitingForNonzero: 0, waitingForZero: 0, lastPid: 0 },
      ],
    });
    const queue = JSON.parse((await inProcess(['ls', '-q', '-i', String(msqid), '--json'])).stdout);
    expect(queue).toMatchObject({ id: msqid, messages: 1, bytes: 5, maxBytes: limits().msg.msgmnb });
    expect(JSON.parse((await inProcess(['ls', '-s', '--json'])).stdout)).toEqual(JSON.parse(JSON.stringify(listSemaphores())));
    const all = JSON.parse((await inProcess(['ls', '-a', '--json'])).stdout);
    expect(Object.keys(all)).toEqual(['msg', 'shm', 'sem']);
    expect(all.msg.map((q: { id: number }) => q.id)).toContain(msqid);
    expect(JSON.parse((await inProcess(['limits', '-s', '--json'])).stdout)).toEqual(limits().sem);
    expect(Object.keys(JSON.parse((await inProcess(['summary', '-a', '--json'])).stdout))).toEqual(['msg', 'shm', 'sem']);
    expect(JSON.parse((await inProcess(['summary', '-q', '--json'])).stdout).queues).toBeGreaterThanOrEqual(1);

    const missing = await inProcess(['stat', '-s', String(2 ** 31 - 2)]);
    expect(missing).toMatchObject({ status: 1, stdout: '', stderr: `sysv-shm stat: no semaphore set with id ${2 ** 31 - 2} (sysv-shm ls -s lists them)\n` });
    const missingKey = await inProcess(['stat', '-q', '--key', '0x7ffffff1']);
    expect(missingKey.stderr).toBe('sysv-shm stat: no message queue with key 0x7ffffff1 (sysv-shm ls -q lists them)\n');
    for (const args of [
      ['ls', '-a', '-i', '5'],
      ['ls', '-s', '-q', '-i', '5'],
      ['ls', '-l', '-t'],
      ['ls', '-u', '-c'],
      ['stat', '-s', '-q', '5'],
      ['stat', '-s'],
      ['create', '--size', '10', '-S', '2'],
      ['create', '-S', '0'],
      ['create', '-S', 'two'],
      ['create', '-Q', 'extra'],
      ['rm', '-s', 'x'],
      ['rm', '-S', '0xgg'],
      ['rm', '--all-mine', '-q', '5'],
    ]) {
      const run = await inProcess(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(new RegExp(`\\nTry 'sysv-shm ${args[0]} --help'\\.\\n$`));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('sysv-shm cat, hexdump, write', () => {
  it('write copies stdin in at an offset; cat gives back the raw bytes; hexdump matches hexdump -C', () => {
    const segment = Segment.create({ size: 300 });
    removeAfterTest(segment.id);
    const data = Buffer.from(Array.from({ length: 70 }, (_, i) => (i * 37) & 0xff));
    const w = cli(['write', segment.id, '--offset', '100'], { input: data });
    expect(w, w.stderr).toMatchObject({ status: 0, stdout: '', stderr: '' });

    const all = cli(['cat', segment.id]);
    expect(all.status).toBe(0);
    expect(all.raw.length).toBe(300);
    expect(all.raw.subarray(100, 170)).toEqual(data);
    expect(all.raw.subarray(0, 100).every((b) => b === 0)).toBe(true);
    expect(cli(['cat', segment.id, '--offset', '0x64', '--length', '70']).raw).toEqual(data);

    expect(cli(['hexdump', segment.id]).stdout).toBe(tool('hexdump', ['-C'], all.raw));
    // With an offset the addresses are the segment's, as hexdump -s prints them.
    const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-cli-'));
    try {
      writeFileSync(join(dir, 'bytes'), all.raw);
      expect(cli(['hexdump', segment.id, '-o', '96', '-n', '40']).stdout).toBe(tool('hexdump', ['-C', '-s', '96', '-n', '40', join(dir, 'bytes')]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Nothing attached is left behind.
    expect(procRow(segment.id)?.nattch).toBe(0);
  });

  it('write that does not fit writes nothing and is exit 1; bad offsets and ids are usage errors (exit 2)', () => {
    const segment = Segment.create({ size: 16 });
    removeAfterTest(segment.id);
    const tooBig = cli(['write', segment.id, '--offset', '10', '-v'], { input: 'more than six' });
    expect(tooBig.status).toBe(1);
    expectOneLineError(
      tooBig,
      /^sysv-shm write: RangeError: the data does not fit: stdin has more than the 6 bytes from offset 10 to the end of the segment \(16 bytes\); nothing was written/,
    );
    expect(cli(['cat', segment.id]).raw).toEqual(Buffer.alloc(16));
    expect(cli(['cat', segment.id, '--length', '17']).status).toBe(1);
    for (const args of [['cat'], ['cat', 'x1'], ['hexdump', segment.id, '--offset', 'ten'], ['write', segment.id, segment.id]]) {
      const run = cli(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/\nTry 'sysv-shm (cat|hexdump|write) --help'\.\n$/);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Any size, in bounded memory. The memory bound is about the command as installed: built JavaScript on plain Node.
// Through tsx (npm run cli) the loader alone makes the process about 85 MB, so these tests run lib/ built with
// esbuild into a temporary folder (under a second), with a preload that writes the process's peak resident memory
// (VmHWM, which also counts the segment's pages the process had mapped in) to fd 3 as it exits
// (test/fixtures/cli/report-peak-memory.ts, built there too).
const PEAK_PRELOAD_SOURCE = fileURLToPath(new URL('../fixtures/cli/report-peak-memory.ts', import.meta.url));
const MB = 1_000_000;

interface Streamed {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** sha256 of stdout, and its length: outputs of hundreds of MB are hashed as they come, never held. */
  sha256: string;
  bytes: number;
  /** Peak resident memory in bytes, for a child run with the preload. */
  peak?: number;
}

/** Runs a program to its end (SIGKILL after 240 s), stdin from /dev/null. */
function streamed(command: string, args: Array<string | number>, options: { peak?: boolean } = {}): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args.map(String), { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe', options.peak ? 'pipe' : 'ignore'] });
    const hash = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    let peak = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} still running after 240 s`));
    }, 240_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdio[3]?.on('data', (chunk: Buffer) => (peak += chunk.toString('utf8')));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr, sha256: hash.digest('hex'), bytes, peak: options.peak ? Number(peak) * 1024 : undefined });
    });
  });
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A segment and a sparse file with the same bytes, written through `put`. */
function segmentAndFile(dir: string, size: number, fill: (put: (at: number, bytes: Uint8Array) => void) => void) {
  const segment = Segment.create({ size, noReserve: true });
  removeAfterTest(segment.id);
  const file = join(dir, `segment-${segment.id}`);
  const fd = openSync(file, 'w');
  const attachment = segment.attach();
  try {
    ftruncateSync(fd, size);
    fill((at, bytes) => {
      attachment.write(bytes, at);
      writeSync(fd, bytes, 0, bytes.length, at);
    });
  } finally {
    attachment.detach();
    closeSync(fd);
  }
  return { segment, file };
}

/** Numbers from a fixed seed, so that a failure can be run again. */
function seeded(seed: number) {
  return () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
}

describe('sysv-shm cat, hexdump, write: any size, in bounded memory', () => {
  let work = '';
  /** lib/cli/main.ts built with esbuild: what the installed command runs, without tsx's loader. */
  let builtMain = '';
  /** test/fixtures/cli/report-peak-memory.ts built with esbuild. */
  let peakPreload = '';
  const built = (args: Array<string | number>, options: { peak?: boolean } = {}) =>
    streamed(process.execPath, [...(options.peak ? ['--import', peakPreload] : []), builtMain, ...args], options);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sysv-shm-cli-large-'));
    const out = join(work, 'built');
    const lib = join(ROOT, 'lib');
    const entryPoints = readdirSync(lib, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => join(lib, file));
    await build({
      entryPoints,
      outdir: join(out, 'lib'),
      outbase: lib,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      logLevel: 'error',
    });
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
    symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules')); // koffi
    builtMain = join(out, 'lib/cli/main.js');
    peakPreload = join(out, 'report-peak-memory.js');
    await build({
      entryPoints: [PEAK_PRELOAD_SOURCE],
      outfile: peakPreload,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      logLevel: 'error',
    });
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('hexdump and cat stream a 256 MiB segment: what hexdump -C prints and the bytes themselves, in under 100 MB', async () => {
    const size = 256 << 20;
    const { segment, file } = segmentAndFile(work, size, (put) => {
      put(0, Buffer.from('sysv-shm hexdump of a large segment\n'));
      put(4 * CHUNK - 1000, randomBytes(70_000)); // across chunk boundaries
      put(3 * WINDOW - 4001, Buffer.alloc(12_000, 'sixteen bytes!!\n')); // identical rows, squeezed across a window boundary
      put((100 << 20) + 7, randomBytes(333));
      put(size - 41, Buffer.from('the last 41 bytes, at the very end: done.'));
    });

    const expected = await streamed('hexdump', ['-C', file]);
    expect(expected.status).toBe(0);
    const dump = await built(['hexdump', segment.id], { peak: true });
    expect(dump.status, dump.stderr).toBe(0);
    expect(dump.stderr).toBe('');
    expect({ sha256: dump.sha256, bytes: dump.bytes }).toEqual({ sha256: expected.sha256, bytes: expected.bytes });
    expect(dump.peak!, `hexdump's peak resident memory: ${(dump.peak! / MB).toFixed(1)} MB`).toBeLessThan(100 * MB);

    // A range, with offsets that cut rows: hexdump -s -n prints the same addresses.
    const [offset, length] = [0x12345, (200 << 20) + 3];
    const rangeExpected = await streamed('hexdump', ['-C', '-s', offset, '-n', length, file]);
    const range = await built(['hexdump', segment.id, '--offset', '0x12345', '--length', length]);
    expect(range.status, range.stderr).toBe(0);
    expect({ sha256: range.sha256, bytes: range.bytes }).toEqual({ sha256: rangeExpected.sha256, bytes: rangeExpected.bytes });

    const raw = await built(['cat', segment.id], { peak: true });
    expect(raw.status, raw.stderr).toBe(0);
    expect({ sha256: raw.sha256, bytes: raw.bytes }).toEqual({ sha256: await sha256OfFile(file), bytes: size });
    expect(raw.peak!, `cat's peak resident memory: ${(raw.peak! / MB).toFixed(1)} MB`).toBeLessThan(100 * MB);
    expect(procRow(segment.id)?.nattch).toBe(0);
  }, 300_000);

  it('hexdump matches hexdump -C -s -n for ranges that start and end anywhere across chunks and attachments', async () => {
    // Rows drawn from a few patterns, in runs of random lengths: squeezes start and end everywhere, also across the
    // chunks the command reads and the attachments it reads them through.
    const size = 2 * WINDOW + 100_003;
    const random = seeded(0x5eed);
    const rows = [Buffer.alloc(16), randomBytes(16), Buffer.from('0123456789abcdef'), randomBytes(16)];
    const { segment, file } = segmentAndFile(work, size, (put) => {
      for (let at = 0; at < size; ) {
        const row = rows[Math.floor(random() * rows.length)];
        const run = Math.min(random() < 0.5 ? 1 : Math.floor(random() * 20_000), Math.ceil((size - at) / 16));
        const bytes = Buffer.alloc(Math.min(run * 16, size - at), row);
        put(at, bytes);
        at += bytes.length;
      }
    });
    const ranges: Array<[number, number | undefined]> = [
      [0, undefined],
      [1, undefined],
      [15, size - 31],
      [CHUNK - 5, CHUNK + 37],
      [WINDOW - 16, 33],
      [WINDOW - 100_000, 300_017],
      [size - 7, undefined],
      [size, undefined], // nothing left: hexdump -C -s still prints the end offset
      [4096, 0], // -n 0: nothing at all
    ];
    for (const [offset, length] of ranges) {
      const expected = await streamed('hexdump', ['-C', '-s', offset, ...(length === undefined ? [] : ['-n', length]), file]);
      const ours = await built(['hexdump', segment.id, '--offset', offset, ...(length === undefined ? [] : ['--length', length])]);
      expect(ours.status, ours.stderr).toBe(0);
      expect({ sha256: ours.sha256, bytes: ours.bytes }, `--offset ${offset} --length ${length}`).toEqual({ sha256: expected.sha256, bytes: expected.bytes });
    }
    const expectedRaw = readFileSync(file).subarray(CHUNK - 5, 3 * CHUNK);
    const raw = await built(['cat', segment.id, '--offset', CHUNK - 5, '--length', expectedRaw.length]);
    expect({ sha256: raw.sha256, bytes: raw.bytes }).toEqual({ sha256: createHash('sha256').update(expectedRaw).digest('hex'), bytes: expectedRaw.length });
  }, 300_000);

  it('write reads no more of stdin than fits: `yes | sysv-shm write` fails at once with one line, the segment unchanged', () => {
    const segment = Segment.create({ size: 1 << 20 });
    removeAfterTest(segment.id);
    const before = randomBytes(1 << 20);
    const attachment = segment.attach();
    attachment.write(before);
    attachment.detach();
    // yes never ends: reading it all (as write once did) never ends either, and grows without bound.
    const run = spawnSync('sh', ['-c', 'yes | "$0" --import tsx "$1" write "$2" --offset 100', process.execPath, MAIN, String(segment.id)], {
      cwd: ROOT,
      env: env(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(1);
    expectOneLineError(
      { status: run.status, stdout: run.stdout, stderr: run.stderr, raw: Buffer.from(run.stdout) },
      new RegExp(
        `^sysv-shm write: RangeError: the data does not fit: stdin has more than the ${(1 << 20) - 100} bytes from offset 100 to the end of the segment \\(${1 << 20} bytes\\); nothing was written\\n$`,
      ),
    );
    const check = segment.attach({ readOnly: true });
    try {
      expect(Buffer.from(check.read()).equals(before)).toBe(true);
    } finally {
      check.detach();
    }
  });

  it('write takes exactly the room left after --offset; one byte more writes nothing and leaves the rest of stdin unread', () => {
    const size = 4096;
    const offset = 1000;
    const room = size - offset;
    const segment = Segment.create({ size });
    removeAfterTest(segment.id);
    const exact = randomBytes(room);
    const fits = cli(['write', segment.id, '--offset', offset, '-v'], { input: exact });
    expect(fits.status, fits.stderr).toBe(0);
    expect(fits.stdout).toBe(`wrote ${room} bytes at offset ${offset} of segment ${segment.id}\n`);
    const after = cli(['cat', segment.id]).raw;
    expect(after.subarray(0, offset).every((b) => b === 0)).toBe(true);
    expect(after.subarray(offset).equals(exact)).toBe(true);

    // One byte more, from a file and from a pipe: the command after write in the same group reads on right after
    // the byte that showed the data does not fit.
    const input = join(work, 'input');
    const tooMuch = randomBytes(room + 100);
    writeFileSync(input, tooMuch);
    const write = '"$0" --import tsx "$1" write "$2" --offset "$3"; echo "status $?" >&2; cat';
    for (const shell of [`{ ${write}; } < "$4"`, `cat "$4" | { ${write}; }`]) {
      const run = spawnSync('sh', ['-c', shell, process.execPath, MAIN, String(segment.id), String(offset), input], { cwd: ROOT, env: env(), timeout: 60_000 });
      expect(run.error).toBeUndefined();
      expect(run.stderr.toString(), shell).toMatch(
        /^sysv-shm write: RangeError: the data does not fit: stdin has more than the 3096 bytes from offset 1000 .*; nothing was written\nstatus 1\n$/,
      );
      expect(run.stdout.equals(tooMuch.subarray(room + 1)), `${shell}: the rest of stdin`).toBe(true);
      expect(cli(['cat', segment.id]).raw.equals(after), `${shell}: nothing written`).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
/** sysv-shm <args> run by main() in this process, its output collected. */
async function inProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const collect = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    return { stream, text: () => text };
  };
  const [stdout, stderr] = [collect(), collect()];
  const status = await main(args, { stdout: stdout.stream, stderr: stderr.stream, stdin: new PassThrough() });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

describe('sysv-shm usage', () => {
  const commands = ['ls', 'stat', 'limits', 'summary', 'create', 'rm', 'orphans', 'cat', 'hexdump', 'write', 'repl'];

  it('--help for the program and every command (exit 0); no command, an unknown one or option is exit 2', async () => {
    // In this process through main() (one program launch per case took 40 launches, too slow on a loaded
    // machine); one real launch below checks that the program answers the same.
    const top = await inProcess(['--help']);
    expect(top.status).toBe(0);
    expect(cli(['--help'])).toMatchObject({ status: 0, stdout: top.stdout, stderr: '' });
    for (const name of commands) expect(top.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
    for (const name of commands) {
      const run = await inProcess([name, '--help']);
      expect(run.status, name).toBe(0);
      expect(run.stdout, name).toMatch(new RegExp(`^Usage: sysv-shm ${name}\\b`));
      expect((await inProcess(['help', name])).stdout).toBe(run.stdout);
    }
    expect((await inProcess([])).status).toBe(2);
    const unknown = await inProcess(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(`sysv-shm: unknown command "frobnicate"\nTry 'sysv-shm --help'.\n`);
    const badOption = await inProcess(['ls', '--frob']);
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toMatch(/^sysv-shm ls: Unknown option '--frob'.*\nTry 'sysv-shm ls --help'\.\n$/);
    expect((await inProcess(['create', '--size', '12Q'])).status).toBe(2);
    expect((await inProcess(['create', '--size', '10', '--mode', '0999'])).status).toBe(2);
    expect((await inProcess(['ls', '-t', '-c'])).status).toBe(2);
    expect((await inProcess(['repl', 'extra'])).status).toBe(2);
  });

  it('--version and -V print the version in package.json', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) expect(cli([flag])).toMatchObject({ status: 0, stdout: `sysv-shm ${version}\n`, stderr: '' });
  });

  it('repl starts the REPL: the library and Channel, wait, notify in scope; leaving removes what it created', () => {
    const run = cli(['repl'], {
      input: [
        "const s = Segment.create({ size: 64 }); console.log('ID', s.id)",
        "console.log('SCOPE', typeof Channel, typeof wait, typeof notify, typeof shm.shmget)",
        '.exit',
        '',
      ].join('\n'),
    });
    expect(run.status, run.stderr).toBe(0);
    const id = removeAfterTest(Number(/ID (\d+)/.exec(run.stdout)![1]));
    expect(run.stdout).toContain('SCOPE function function function function');
    expect(run.stdout).toContain(`removed segment ${id} (created here)`);
    expect(procRow(id)).toBeUndefined();
  });

  it('a closed stdout ends cat and hexdump quietly', () => {
    const segment = Segment.create({ size: 4 << 20 });
    removeAfterTest(segment.id);
    const attachment = segment.attach();
    attachment.write(randomBytes(4 << 20)); // hexdump prints every line: megabytes wait when head leaves
    attachment.detach();
    for (const command of ['cat', 'hexdump']) {
      const out = execFileSync('sh', ['-c', `node --import tsx ${MAIN} ${command} ${segment.id} | head -c 10 | wc -c`], {
        cwd: ROOT,
        encoding: 'utf8',
        env: env(),
      });
      expect(out, command).toMatch(/^10\n/);
      expect(procRow(segment.id)?.nattch).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('sysv-shm rm -a, --all-mine and create -p', () => {
  /**
   * test/fixtures/cli/remove-all.ts in an IPC namespace of its own (never this one: other tests' objects live here):
   * it makes segments, sets and queues (the user's, root's 0600, root's 0644, an attached segment), runs
   * `sysv-shm rm <args>` as `who`, and reports what is left.
   */
  function rmInOwnNamespace(who: number | 'root', args: string[]) {
    const fixture = fileURLToPath(new URL('../fixtures/cli/remove-all.ts', import.meta.url));
    const result = spawnSync(
      'unshare',
      ['--ipc', '--fork', '--', process.execPath, '--import', 'tsx', fixture, readlinkSync('/proc/self/ns/ipc'), 'sysv-shm', String(who), ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      status: number;
      stdout: string;
      stderr: string;
      left: { shm: number[]; sem: number[]; msg: number[] };
    };
  }

  it('rm -a as root removes every segment, set and queue; --all=<kind> only that kind, after the other options', () => {
    expect(rmInOwnNamespace('root', ['-a'])).toMatchObject({ status: 0, stdout: '', stderr: '', left: { shm: [], sem: [], msg: [] } });
    expect(rmInOwnNamespace('root', ['--all=sem'])).toMatchObject({ status: 0, left: { shm: [0, 1, 2], sem: [], msg: [0, 1, 2] } });
    expect(rmInOwnNamespace('root', ['-amsg'])).toMatchObject({ status: 0, left: { shm: [0, 1, 2], sem: [0, 1, 2], msg: [] } });
    // -a acts last: the queue named first is removed by -q, then -a takes the segments.
    const ordered = rmInOwnNamespace('root', ['--all=shm', '-v', '-q', '1']);
    expect(ordered.stdout).toBe("removing message queue id `1'\n" + [0, 1, 2, 3].map((id) => `removing shared memory segment id \`${id}'\n`).join(''));
    expect(ordered.left).toEqual({ shm: [], sem: [0, 1, 2], msg: [0, 2] });
  });

  it('usage errors remove nothing: an unknown kind, a kind as a separate word, -a with --all-mine', () => {
    for (const [args, message] of [
      [['--all=foo'], /^sysv-shm rm: unknown argument: foo \(--all takes shm, msg or sem/],
      [['-a', 'sem'], /^sysv-shm rm: not a segment id: "sem"/],
      [['-a', '--all-mine'], /^sysv-shm rm: --all-mine takes no ids, keys or other options/],
      [['--all-mine=queues'], /^sysv-shm rm: unknown argument: queues/],
    ] as const) {
      const run = rmInOwnNamespace('root', [...args]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.left).toEqual({ shm: [0, 1, 2], sem: [0, 1, 2], msg: [0, 1, 2] });
    }
  });

  it('rm --all-mine removes the sets and queues the user owns too (--all-mine=<kind>: that kind only), and nothing else', () => {
    const uid = strangerUid();
    const others = [semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600), msgget(IPC_PRIVATE, IPC_CREAT | 0o600)];
    removeSemAfterTest(others[0]);
    removeMsgAfterTest(others[1]);
    const segment = Segment.create({ size: 10 });
    removeAfterTest(segment.id);
    segment.setOwner(uid, uid);
    const first = {
      segment: segment.id,
      set: removeSemAfterTest(semget(IPC_PRIVATE, 2, IPC_CREAT | 0o600)),
      queue: removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600)),
    };
    semctl(first.set, 0, IPC_SET, { perm: { uid, gid: uid } });
    msgctl(first.queue, IPC_SET, { perm: { uid, gid: uid } });
    const onlySets = cli(['rm', '--all-mine=sem', '-v'], { uid });
    expect(onlySets).toMatchObject({ status: 0, stdout: `removed semaphore set ${first.set}\n`, stderr: '' });
    expect(procSysvRow('sem', first.set)).toBeUndefined();
    expect(procSysvRow('msg', first.queue)).toBeDefined();
    expect(procRow(first.segment)).toBeDefined();

    const all = cli(['rm', '--all-mine', '-v'], { uid });
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout).toBe(`removed ${first.segment}\nremoved message queue ${first.queue}\n`);
    expect(procRow(first.segment)).toBeUndefined();
    expect(procSysvRow('msg', first.queue)).toBeUndefined();
    expect(procSysvRow('sem', others[0])).toBeDefined();
    expect(procSysvRow('msg', others[1])).toBeDefined();
    expect(cli(['rm', '--all-mine=msg', '-v'], { uid })).toMatchObject({ status: 0, stdout: 'no message queues owned by you\n' });
    expect(cli(['rm', '--all-mine', '-v'], { uid }).stdout).toBe('no segments, semaphore sets or message queues owned by you\n');
  });

  it("create -p is ipcmk's mode option (also clustered, -Qp600); -m and --mode still work", async () => {
    const made = cli(['create', '-Qp600', '-S', '1', '-p', '640']); // the last -p wins
    expect(made.status, made.stderr).toBe(0);
    const queue = removeMsgAfterTest(Number(/Message queue id: (\d+)/.exec(made.stdout)![1]));
    const set = removeSemAfterTest(Number(/Semaphore id: (\d+)/.exec(made.stdout)![1]));
    expect(procSysvRow('msg', queue)?.perms).toBe(0o640);
    expect(procSysvRow('sem', set)?.perms).toBe(0o640);
    const segment = await inProcess(['create', '--size', '100', '-p', '0604']);
    expect(segment.status, segment.stderr).toBe(0);
    expect(procRow(removeAfterTest(Number(segment.stdout)))?.perms).toBe(0o604);
    const old = await inProcess(['create', '--size', '100', '-m', '0640']);
    expect(procRow(removeAfterTest(Number(old.stdout)))?.perms).toBe(0o640);
    const bad = await inProcess(['create', '-Q', '-p', '0999']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/mode must be octal permission bits/);
  });
});
