// The sysv-shm command as a subprocess, against real segments, compared with util-linux 2.38's ipcs, ipcmk, ipcrm
// and hexdump (LC_ALL=C, TZ=UTC for both sides). Other processes' segments come and go meanwhile, so tables are
// compared on their title, header and the rows of this test's segments.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Segment, ftok, list, type SegmentAttachment } from '../../lib/index.js';
import { ROOT } from '../support/child.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';

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
    expectOneLineError(tooBig, /^sysv-shm write: RangeError: 13 bytes at offset 10 do not fit in the segment \(16 bytes\); nothing was written/);
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
describe('sysv-shm usage', () => {
  const commands = ['ls', 'stat', 'limits', 'summary', 'create', 'rm', 'orphans', 'cat', 'hexdump', 'write', 'repl'];

  it('--help for the program and every command (exit 0); no command, an unknown one or option is exit 2', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    for (const name of commands) expect(top.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
    for (const name of commands) {
      const run = cli([name, '--help']);
      expect(run.status, name).toBe(0);
      expect(run.stdout, name).toMatch(new RegExp(`^Usage: sysv-shm ${name}\\b`));
      expect(cli(['help', name]).stdout).toBe(run.stdout);
    }
    expect(cli([]).status).toBe(2);
    const unknown = cli(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(`sysv-shm: unknown command "frobnicate"\nTry 'sysv-shm --help'.\n`);
    const badOption = cli(['ls', '--frob']);
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toMatch(/^sysv-shm ls: Unknown option '--frob'.*\nTry 'sysv-shm ls --help'\.\n$/);
    expect(cli(['create', '--size', '12Q']).status).toBe(2);
    expect(cli(['create', '--size', '10', '--mode', '0999']).status).toBe(2);
    expect(cli(['ls', '-t', '-c']).status).toBe(2);
    expect(cli(['repl', 'extra']).status).toBe(2);
  });

  it('--version and -V print the version in package.json', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) expect(cli([flag])).toMatchObject({ status: 0, stdout: `sysv-shm ${version}\n`, stderr: '' });
  });

  it('repl starts the REPL: the library and Channel, wait, notify in scope; leaving removes what it created', () => {
    const run = cli(['repl'], { input: ["const s = Segment.create({ size: 64 }); console.log('ID', s.id)", "console.log('SCOPE', typeof Channel, typeof wait, typeof notify, typeof shm.shmget)", '.exit', ''].join('\n') });
    expect(run.status, run.stderr).toBe(0);
    const id = removeAfterTest(Number(/ID (\d+)/.exec(run.stdout)![1]));
    expect(run.stdout).toContain('SCOPE function function function function');
    expect(run.stdout).toContain(`removed segment ${id} (created here)`);
    expect(procRow(id)).toBeUndefined();
  });

  it('a closed stdout ends cat quietly', () => {
    const segment = Segment.create({ size: 4 << 20 });
    removeAfterTest(segment.id);
    const out = execFileSync('sh', ['-c', `node --import tsx ${MAIN} cat ${segment.id} | head -c 10 | wc -c`], { cwd: ROOT, encoding: 'utf8', env: env() });
    expect(out).toMatch(/^10\n/);
    expect(procRow(segment.id)?.nattch).toBe(0);
  });
});
