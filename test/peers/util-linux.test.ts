// Interoperability with util-linux: ipcmk makes segments, semaphore sets and queues we open, ipcs shows what we made
// exactly as our shmctl/semctl/msgctl decode it (and `sysv-shm ls` prints what ipcs prints, byte for byte), ipcrm
// removes what we made and we remove what ipcmk made. Output formats are those of util-linux 2.38 (Debian 12), run
// with LC_ALL=C.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  GETNCNT,
  GETPID,
  GETVAL,
  GETZCNT,
  IPC_CREAT,
  IPC_EXCL,
  IPC_INFO,
  IPC_NOWAIT,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  MSG_INFO,
  SEM_INFO,
  SETVAL,
  SHM_DEST,
  SHM_INFO,
  SHM_RDONLY,
  ShmError,
  listQueues,
  listSemaphores,
  msgctl,
  msgget,
  msgrcv,
  msgsnd,
  remove,
  semctl,
  semget,
  semop,
  shmat,
  shmctl,
  shmdt,
  shmget,
} from '../../lib/index.js';
import { cliMain } from '../../lib/internal.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { procSysvRow, removeMsgAfterTest, removeSemAfterTest } from '../support/sysv-objects.js';
import { ROOT, startProgram, waitForLine } from '../support/child.js';
import { parseIpcsDetail, parseIpcsUsage, sameValue } from '../support/ipcs.js';
import { catchError } from '../support/errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Running the tools and reading their output.
function run(tool: string, args: Array<string | number>, tz?: string): string {
  return execFileSync(tool, args.map(String), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', ...(tz === undefined ? {} : { TZ: tz }) } });
}

/** How ipcs prints a key: printf("0x%08x", key). */
function ipcsKey(key: number): string {
  return '0x' + (key >>> 0).toString(16).padStart(8, '0');
}

/** How ipcs -i prints a mode: printf("%#o", mode). */
function altOctal(mode: number): string {
  return mode === 0 ? '0' : '0' + mode.toString(8);
}

/** Rows of a table printed by `ipcs -m [format]`: cells keyed by the header's column names, plus the rest. */
type IpcsRow = Record<string, string> & { rest: string };

function ipcsTable(args: string[]): IpcsRow[] {
  const lines = run('ipcs', ['-m', ...args]).split('\n');
  const headerAt = lines.findIndex((line) => /^(key|shmid)\s/.test(line));
  expect(headerAt, 'ipcs table header').toBeGreaterThan(0);
  const names = lines[headerAt].trim().split(/\s+/);
  return lines
    .slice(headerAt + 1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const cells = line.trim().split(/\s+/);
      const row: Record<string, string> = {};
      for (const [i, name] of names.entries()) row[name] = cells[i] ?? '';
      row.rest = cells.slice(names.length).join(' ');
      return row as IpcsRow;
    });
}

/** The `ipcs -m` row of a segment (key shmid owner perms bytes nattch status). */
function ipcsRow(shmid: number): IpcsRow | undefined {
  const row = ipcsTable([]).find((r) => r.shmid === String(shmid));
  if (!row) return undefined;
  // The status column is blank, "dest", "locked" or "dest locked": it lands in `status` and `rest`.
  return { ...row, status: [row.status, row.rest].filter(Boolean).join(' ') } as IpcsRow;
}

/** `ipcs -m -i <id>`: "uid=0\tgid=0\t..." lines as a record of strings. */
function ipcsDetail(shmid: number): Record<string, string> {
  return parseIpcsDetail(run('ipcs', ['-m', '-i', shmid]), shmid);
}

/** "name = value" lines of a section of `ipcs -m -l` / `ipcs -m -u`. */
function ipcsSection(args: string[]): string {
  return run('ipcs', ['-m', ...args]);
}

function expectGone(fn: () => unknown, syscall: string) {
  const error = catchError(fn);
  expect(error).toBeInstanceOf(ShmError);
  const e = error as ShmError;
  expect(['EINVAL', 'EIDRM']).toContain(e.code);
  expect(e.syscall).toBe(syscall);
  expect(e.errno).toBe(e.code === 'EINVAL' ? 22 : 43);
}

const PAGE_SIZE = BigInt(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
const UINT64_MAX = 2n ** 64n - 1n;
const me = userInfo().username;

// ---------------------------------------------------------------------------------------------------------------
describe('ipcmk', () => {
  it('makes segments we open by key (signed and unsigned) and by id, with the real size and the mode it was given', () => {
    for (const [size, mode] of [
      [5000, 0o640],
      [12_345, 0o600],
      [4096, 0o644],
    ] as const) {
      const out = run('ipcmk', ['-M', size, '-p', '0' + mode.toString(8)]);
      const match = /Shared memory id: (\d+)/.exec(out);
      expect(match, out).not.toBeNull();
      const id = removeAfterTest(Number(match![1]));

      const row = ipcsRow(id)!;
      expect(row).toMatchObject({ perms: mode.toString(8), bytes: String(size), nattch: '0', owner: me });
      const unsignedKey = parseInt(row.key, 16);
      expect(unsignedKey).not.toBe(0);

      expect(shmget(unsignedKey, 0, 0)).toBe(id);
      expect(shmget(unsignedKey | 0, 0, 0)).toBe(id);
      expect(shmget(unsignedKey, size, 0)).toBe(id);

      const ds = shmctl(id, IPC_STAT);
      expect(ds.perm.key).toBe(unsignedKey | 0);
      expect(ipcsKey(ds.perm.key)).toBe(row.key);
      expect(ds.perm.mode).toBe(mode);
      expect(ds.segsz).toBe(size);
      expect(ds.cpid).not.toBe(process.pid);

      const a = shmat(id);
      expect(a.size).toBe(size);
      expect(a.buffer.byteLength).toBe(size);
      new Uint8Array(a.buffer)[size - 1] = 0xa5;
      expect(a.read(size - 1, 1)[0]).toBe(0xa5);
      expect(ipcsRow(id)!.nattch).toBe('1');
      shmdt(a);
    }
  });
});

describe('ipcs -m', () => {
  it('shows the key (unsigned hex), owner, perms, bytes and nattch of a segment we made; ipcs -i agrees with IPC_STAT', () => {
    // A key with the top bit set: negative as key_t, printed by ipcs as 0x8.......
    const key = uniqueKey() | 0x8000_0000;
    expect(key).toBeLessThan(0);
    const id = removeAfterTest(shmget(key, 6000, IPC_CREAT | IPC_EXCL | 0o640));

    expect(ipcsRow(id)).toEqual({ key: ipcsKey(key), shmid: String(id), owner: me, perms: '640', bytes: '6000', nattch: '0', status: '', rest: '' });
    expect(ipcsKey(key)).toMatch(/^0x[89a-f][0-9a-f]{7}$/);

    const a = shmat(id);
    // Each ipcs run forks this process first, and the kernel counts the fork's copy of our mapping as an attach
    // and (at exec) a detach by the child: lpid, atime and dtime move. So IPC_STAT is read after ipcs, not before.
    let detail = ipcsDetail(id);
    let ds = shmctl(id, IPC_STAT);
    expect(detail).toMatchObject({
      uid: String(ds.perm.uid),
      gid: String(ds.perm.gid),
      cuid: String(ds.perm.cuid),
      cgid: String(ds.perm.cgid),
      mode: altOctal(ds.perm.mode),
      access_perms: '0640',
      bytes: String(ds.segsz),
      lpid: String(ds.lpid),
      cpid: String(process.pid),
      nattch: '1',
    });
    expect(detail.att_time).not.toBe('Not set');
    expect(ds.atime).toBeGreaterThan(0);
    expect(ipcsRow(id)!.nattch).toBe('1');

    // A new owner without a passwd entry is shown by number; creator columns keep the creator.
    shmctl(id, IPC_SET, { perm: { uid: 4242, gid: 4343, mode: 0o604 } });
    expect(ipcsRow(id)).toMatchObject({ key: ipcsKey(key), owner: '4242', perms: '604', bytes: '6000', nattch: '1' });
    detail = ipcsDetail(id);
    ds = shmctl(id, IPC_STAT);
    expect(detail).toMatchObject({
      uid: '4242',
      gid: '4343',
      cuid: String(ds.perm.cuid),
      cgid: String(ds.perm.cgid),
      mode: '0604',
      access_perms: '0604',
      lpid: String(ds.lpid),
    });
    const creators = ipcsTable(['-c']).find((r) => r.shmid === String(id));
    expect(creators).toMatchObject({ perms: '604', cuid: me, uid: '4242', gid: '4343' });
    const pids = ipcsTable(['-p']).find((r) => r.shmid === String(id));
    expect(pids).toMatchObject({ owner: '4242', cpid: String(process.pid), lpid: String(shmctl(id, IPC_STAT).lpid) });
    shmdt(a);
    expect(ipcsRow(id)!.nattch).toBe('0');
    expect(ipcsDetail(id).lpid).toBe(String(process.pid));
  });

  it('nattch counts our attachments and a child process’s attachment', async () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600));
    const a = shmat(id);
    const b = shmat(id, null, SHM_RDONLY);
    expect(ipcsRow(id)!.nattch).toBe('2');
    expect(ipcsDetail(id).nattch).toBe('2');

    const child = startProgram(fileURLToPath(new URL('../fixtures/peers/attach-until-stdin-ends.ts', import.meta.url)), [id]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const [, childPid] = await waitForLine(child, /attached (\d+)/);
      expect(ipcsRow(id)!.nattch).toBe('3');
      expect(ipcsDetail(id).nattch).toBe('3');
      expect(shmctl(id, IPC_STAT).nattch).toBe(3);
      expect(procRow(id)!.nattch).toBe(3);
      expect(a.read(0, 1)[0]).toBe(0x5a);

      child.stdin!.end();
      expect(await exited).toBe(0);
      // The child's shmdt was the last operation (read before ipcs runs: its fork would be the last one then).
      expect(shmctl(id, IPC_STAT)).toMatchObject({ lpid: Number(childPid), nattch: 2 });
      expect(ipcsRow(id)!.nattch).toBe('2');
      expect(ipcsTable(['-p']).find((r) => r.shmid === String(id))!.lpid).toBe(String(shmctl(id, IPC_STAT).lpid));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    shmdt(b);
    expect(ipcsRow(id)!.nattch).toBe('1');
    shmdt(a);
    expect(ipcsRow(id)!.nattch).toBe('0');
  });

  it('shows status "dest" and key 0x00000000 after IPC_RMID while attached, and drops the segment at the last detach', () => {
    const key = uniqueKey();
    const id = removeAfterTest(shmget(key, 3000, IPC_CREAT | IPC_EXCL | 0o600));
    const a = shmat(id);
    expect(ipcsRow(id)).toMatchObject({ key: ipcsKey(key), status: '' });

    shmctl(id, IPC_RMID);
    const ds = shmctl(id, IPC_STAT);
    expect(ds.perm.mode).toBe(SHM_DEST | 0o600);
    expect(ds.perm.key).toBe(0);
    expect(ipcsRow(id)).toMatchObject({ key: '0x00000000', perms: '600', bytes: '3000', nattch: '1', status: 'dest' });
    expect(ipcsDetail(id)).toMatchObject({ mode: altOctal(ds.perm.mode), access_perms: '0600', nattch: '1' });
    expect(ipcsDetail(id).mode).toBe('01600');

    shmdt(a);
    expect(ipcsRow(id)).toBeUndefined();
    // ipcs -i on a missing id says so on stderr and still exits 0.
    const out = execFileSync('sh', ['-c', `ipcs -m -i ${id} 2>&1; echo "exit=$?"`], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    expect(out).toContain(`id ${id} not found`);
    expect(out).toContain('exit=0');
  });
});

describe('ipcrm', () => {
  it('ipcrm -m <id> removes a segment we made; our calls then fail with ShmError EINVAL/EIDRM', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 2048, IPC_CREAT | 0o600));
    expect(ipcsRow(id)).toBeDefined();
    run('ipcrm', ['-m', id]);
    expect(ipcsRow(id)).toBeUndefined();
    expect(procRow(id)).toBeUndefined();
    expectGone(() => shmctl(id, IPC_STAT), 'shmctl');
    expectGone(() => shmctl(id, IPC_RMID), 'shmctl');
    expectGone(() => shmat(id), 'shmat');
  });

  it('ipcrm -M <key> removes by key, including keys with the top bit set', () => {
    for (const key of [uniqueKey(), uniqueKey() | 0x8000_0000]) {
      const id = removeAfterTest(shmget(key, 100, IPC_CREAT | IPC_EXCL | 0o600));
      run('ipcrm', ['-M', ipcsKey(key)]);
      expect(ipcsRow(id)).toBeUndefined();
      const error = catchError(() => shmget(key, 0, 0));
      expect(error).toBeInstanceOf(ShmError);
      expect((error as ShmError).code).toBe('ENOENT');
      expect((error as ShmError).syscall).toBe('shmget');
      expectGone(() => shmctl(id, IPC_STAT), 'shmctl');
    }
  });

  it('ipcrm -m on a segment we have attached only marks it: we keep using it until we detach', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600));
    const a = shmat(id);
    run('ipcrm', ['-m', id]);
    expect(shmctl(id, IPC_STAT).perm.mode & SHM_DEST).toBe(SHM_DEST);
    new Uint8Array(a.buffer)[10] = 99;
    expect(a.read(10, 1)[0]).toBe(99);
    shmdt(a);
    expectGone(() => shmctl(id, IPC_STAT), 'shmctl');
  });
});

describe('ipcs -l and ipcs -u', () => {
  it('ipcs -l agrees with shmctl(0, IPC_INFO) after unit conversion (kbytes by default, bytes with -b)', () => {
    const info = shmctl(0, IPC_INFO);
    const kb = PAGE_SIZE / 1024n;
    // util-linux: shmmax / 1024; shmall * (pagesize / 1024), saturated to the largest multiple that fits in 64 bits.
    const saturate = (value: bigint, unit: bigint) => (value > UINT64_MAX ? UINT64_MAX - (UINT64_MAX % unit) : value);

    const kbytes = ipcsSection(['-l']);
    expect(kbytes).toContain('------ Shared Memory Limits --------');
    expect(kbytes).toContain(`max number of segments = ${info.shmmni}\n`);
    expect(kbytes).toContain(`max seg size (kbytes) = ${info.shmmax / 1024n}\n`);
    expect(kbytes).toContain(`max total shared memory (kbytes) = ${saturate(info.shmall * kb, kb)}\n`);
    expect(kbytes).toContain(`min seg size (bytes) = ${info.shmmin}\n`);

    const bytes = ipcsSection(['-l', '-b']);
    expect(bytes).toContain(`max number of segments = ${info.shmmni}\n`);
    expect(bytes).toContain(`max seg size (bytes) = ${info.shmmax}\n`);
    expect(bytes).toContain(`max total shared memory (bytes) = ${saturate(info.shmall * PAGE_SIZE, PAGE_SIZE)}\n`);
    expect(bytes).toContain(`min seg size (bytes) = ${info.shmmin}\n`);

    // ipcs reads /proc/sys/kernel; IPC_INFO must report the same tunables.
    const tunable = (name: string) => BigInt(execFileSync('cat', [`/proc/sys/kernel/${name}`], { encoding: 'utf8' }).trim());
    expect(info.shmmax).toBe(tunable('shmmax'));
    expect(info.shmall).toBe(tunable('shmall'));
    expect(info.shmmni).toBe(tunable('shmmni'));
    expect(info.shmmin).toBe(1n);
  });

  it('ipcs -u agrees with shmctl(0, SHM_INFO): segments, pages allocated, resident, swapped, swap performance', () => {
    // Some memory of our own so that the numbers are not all zero: 3 pages touched, 5 pages allocated.
    const touched = removeAfterTest(shmget(IPC_PRIVATE, 3 * Number(PAGE_SIZE), IPC_CREAT | 0o600));
    removeAfterTest(shmget(IPC_PRIVATE, 2 * Number(PAGE_SIZE), IPC_CREAT | 0o600));
    const a = shmat(touched);
    new Uint8Array(a.buffer).fill(1);
    shmdt(a);

    // Other processes may change the totals meanwhile: compare only when SHM_INFO was the same before and after.
    let compared = false;
    for (let attempt = 0; attempt < 20 && !compared; attempt++) {
      const before = shmctl(0, SHM_INFO);
      const text = ipcsSection(['-u']);
      const after = shmctl(0, SHM_INFO);
      if (!sameValue(before, after)) continue;
      expect(parseIpcsUsage(text)).toEqual({
        segments: before.usedIds,
        pagesAllocated: before.shmTot,
        pagesResident: before.shmRss,
        pagesSwapped: before.shmSwp,
        swapAttempts: before.swapAttempts,
        swapSuccesses: before.swapSuccesses,
      });
      expect(before.usedIds).toBeGreaterThanOrEqual(2);
      expect(before.shmTot).toBeGreaterThanOrEqual(5n);
      expect(before.shmRss).toBeGreaterThanOrEqual(3n);
      compared = true;
    }
    expect(compared, 'SHM_INFO kept changing while ipcs -u ran').toBe(true);
  });
});

// ===============================================================================================================
// Semaphore sets and message queues: ipcmk -S / -Q, ipcs -s / -q / -a in every view against `sysv-shm ls`, ipcrm.

/** sysv-shm <args> run by main() in this process, its output collected, in the time zone `tz` (Node reads TZ at each use). */
async function sysvShm(args: Array<string | number>, tz = 'UTC'): Promise<{ status: number; stdout: string; stderr: string }> {
  const collect = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    return { stream, text: () => text };
  };
  const [stdout, stderr] = [collect(), collect()];
  const previous = process.env.TZ;
  process.env.TZ = tz;
  try {
    const status = await cliMain(args.map(String), { stdout: stdout.stream, stderr: stderr.stream, stdin: new PassThrough() });
    return { status, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  }
}

/**
 * Expects `sysv-shm <ours>` to print exactly what `ipcs <theirs>` prints, in the time zone `tz`. Other processes
 * may make and remove objects meanwhile: the outputs are compared when two ipcs runs around ours agree.
 */
async function expectSameAsIpcs(theirs: Array<string | number>, ours: Array<string | number>, tz = 'UTC'): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = run('ipcs', theirs, tz);
    const mine = await sysvShm(ours, tz);
    const after = run('ipcs', theirs, tz);
    if (before !== after) continue;
    expect(mine.stderr, `sysv-shm ${ours.join(' ')}`).toBe('');
    expect(mine.status).toBe(0);
    expect(mine.stdout, `sysv-shm ${ours.join(' ')} against ipcs ${theirs.join(' ')}`).toBe(before);
    return before;
  }
  throw new Error(`ipcs ${theirs.join(' ')} kept changing`);
}

/** The id in ipcmk's line "Semaphore id: 5" / "Message queue id: 7" / "Shared memory id: 9". */
function ipcmkId(output: string, what: 'Semaphore id' | 'Message queue id' | 'Shared memory id'): number {
  const match = new RegExp(`^${what}: (\\d+)$`, 'm').exec(output);
  expect(match, output).not.toBeNull();
  return Number(match![1]);
}

/** A uid and gid without passwd or group entries: ipcs prints them as numbers. */
const stranger = () => 40_000 + Math.floor(Math.random() * 20_000);

/** A user whose name is longer than ipcs's owner column (cut to 10 there, whole with -c), if the machine has one. */
const longNamedUser = readFileSync('/etc/passwd', 'utf8')
  .split('\n')
  .map((line) => line.split(':'))
  .find(([name, , uid, gid]) => name !== undefined && name.length > 10 && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? ''));

/**
 * Semaphore sets and queues that exercise every column: made by ipcmk and by `sysv-shm create` (random keys, mode
 * 0644), with a negative key_t, private; used (values, a semop, messages sent and received) and never used ("Not
 * set"); owned by a uid without a name, by nobody, by a user whose name ipcs cuts.
 */
async function semMsgFixture() {
  const ipcmkSet = removeSemAfterTest(ipcmkId(run('ipcmk', ['-S', 3]), 'Semaphore id'));
  const ipcmkQueue = removeMsgAfterTest(ipcmkId(run('ipcmk', ['-Q', '-p', '0600']), 'Message queue id'));
  const made = await sysvShm(['create', '-Q', '-S', 2]);
  expect(made.status, made.stderr).toBe(0);
  const ourQueue = removeMsgAfterTest(ipcmkId(made.stdout, 'Message queue id'));
  const ourSet = removeSemAfterTest(ipcmkId(made.stdout, 'Semaphore id'));
  expect(made.stdout).toBe(`Message queue id: ${ourQueue}\nSemaphore id: ${ourSet}\n`);

  semctl(ourSet, 1, SETVAL, 7);
  semop(ourSet, [{ sem_num: 0, sem_op: 2 }]);
  msgsnd(ourQueue, 1, 'hello');
  msgsnd(ourQueue, 2, new Uint8Array(5000)); // 5005 bytes: "4.9K" with --human
  msgsnd(ourQueue, 3, 'taken');
  expect(new TextDecoder().decode(msgrcv(ourQueue, 100, 3).mtext)).toBe('taken');

  const negativeKeySet = removeSemAfterTest(semget(uniqueKey() | 0x8000_0000, 1, IPC_CREAT | IPC_EXCL | 0o640));
  const negativeKeyQueue = removeMsgAfterTest(msgget(uniqueKey() | 0x8000_0000, IPC_CREAT | IPC_EXCL | 0o604));
  const strangerSet = removeSemAfterTest(semget(IPC_PRIVATE, 5, IPC_CREAT | 0o600));
  semctl(strangerSet, 0, IPC_SET, { perm: { uid: stranger(), gid: stranger(), mode: 0o660 } });
  const nobodyQueue = removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o666));
  msgctl(nobodyQueue, IPC_SET, { perm: { uid: 65534, gid: 65534 } });
  // And a segment, for -a.
  removeAfterTest(shmget(IPC_PRIVATE, 5000, IPC_CREAT | 0o640));
  const sets = [ipcmkSet, ourSet, negativeKeySet, strangerSet];
  if (longNamedUser) {
    const longNamed = removeSemAfterTest(semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600));
    semctl(longNamed, 0, IPC_SET, { perm: { uid: Number(longNamedUser[2]), gid: Number(longNamedUser[3]) } });
    sets.push(longNamed);
  }
  return { sets, queues: [ipcmkQueue, ourQueue, negativeKeyQueue, nobodyQueue], ourSet, ourQueue, ipcmkSet, ipcmkQueue };
}

/** A process blocked in semop (perl's own semop: one real blocking call), until killed. */
function blockedInSemop(semid: number, semnum: number, op: number): ChildProcess {
  return spawn('perl', ['-e', 'semop($ARGV[0], pack("s!3", $ARGV[1], $ARGV[2], 0)) or die "semop: $!"', String(semid), String(semnum), String(op)], {
    stdio: 'ignore',
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const start = Date.now(); !condition(); await sleep(20)) {
    if (Date.now() - start > 20_000) throw new Error(`still not ${what} after 20 s`);
  }
}

describe('ipcmk -S and -Q', () => {
  it('make sets and queues we open by key, with the mode asked (0644 by default); ipcs -i agrees with IPC_STAT', () => {
    const semid = removeSemAfterTest(ipcmkId(run('ipcmk', ['-S', 4]), 'Semaphore id'));
    const set = listSemaphores().find((s) => s.id === semid)!;
    expect(set).toMatchObject({ count: 4, mode: 0o644, uid: process.getuid!(), cuid: process.getuid!(), lastOperationTime: null });
    expect(set.key).not.toBe(0);
    expect(semget(set.key, 0, 0)).toBe(semid);
    expect(semget(set.key >>> 0, 4, 0)).toBe(semid);
    const semDs = semctl(semid, 0, IPC_STAT);
    expect(semDs).toMatchObject({ nsems: 4, otime: 0 });
    expect(semDs.perm).toMatchObject({ key: set.key, mode: 0o644 });
    const semText = run('ipcs', ['-s', '-i', semid]);
    expect(semText).toContain(
      `\nSemaphore Array semid=${semid}\nuid=${semDs.perm.uid}\t gid=${semDs.perm.gid}\t cuid=${semDs.perm.cuid}\t cgid=${semDs.perm.cgid}\n`,
    );
    expect(semText).toContain('mode=0644, access_perms=0644\nnsems = 4\notime = Not set');
    for (let i = 0; i < 4; i++) expect(semctl(semid, i, GETVAL)).toBe(0);

    const msqid = removeMsgAfterTest(ipcmkId(run('ipcmk', ['-Q', '-p', '640']), 'Message queue id'));
    const queue = listQueues().find((q) => q.id === msqid)!;
    expect(queue).toMatchObject({ mode: 0o640, messages: 0, bytes: 0, lastSendTime: null, lastReceiveTime: null });
    expect(msgget(queue.key, 0)).toBe(msqid);
    const msgDs = msgctl(msqid, IPC_STAT);
    expect(queue.maxBytes).toBe(msgDs.qbytes);
    expect(msgDs.qbytes).toBe(msgctl(0, IPC_INFO).msgmnb);
    const msgText = run('ipcs', ['-q', '-i', msqid]);
    expect(msgText).toContain(`uid=${msgDs.perm.uid}\tgid=${msgDs.perm.gid}\tcuid=${msgDs.perm.cuid}\tcgid=${msgDs.perm.cgid}\tmode=0640\n`);
    expect(msgText).toContain(`cbytes=0\tqbytes=${msgDs.qbytes}\tqnum=0\tlspid=0\tlrpid=0\n`);

    // What we send, ipcs counts; what ipcmk made, we use.
    msgsnd(msqid, 5, 'twelve bytes');
    expect(run('ipcs', ['-q', '-i', msqid])).toContain(`cbytes=12\tqbytes=${msgDs.qbytes}\tqnum=1\tlspid=${process.pid}\tlrpid=0\n`);
    semop(semid, [{ sem_num: 3, sem_op: 5 }]);
    expect(semctl(semid, 3, GETPID)).toBe(process.pid);
    expect(run('ipcs', ['-s', '-i', semid])).toMatch(new RegExp(`^3 +5 +0 +0 +${process.pid} +$`, 'm'));
  });

  it('sysv-shm create -S / -Q speaks like ipcmk: a random key, mode 0644, "Semaphore id: N"; several at once in ipcmk\'s order', async () => {
    const made = await sysvShm(['create', '-S', 3, '-Q', '-M', 4096]);
    expect(made.status, made.stderr).toBe(0);
    const shmid = removeAfterTest(ipcmkId(made.stdout, 'Shared memory id'));
    const msqid = removeMsgAfterTest(ipcmkId(made.stdout, 'Message queue id'));
    const semid = removeSemAfterTest(ipcmkId(made.stdout, 'Semaphore id'));
    // ipcmk's order whatever the order of the options: segment, queue, set.
    expect(made.stdout).toBe(`Shared memory id: ${shmid}\nMessage queue id: ${msqid}\nSemaphore id: ${semid}\n`);
    const theirs = run('ipcmk', ['-M', 4096, '-Q', '-S', 3]);
    removeAfterTest(ipcmkId(theirs, 'Shared memory id'));
    removeMsgAfterTest(ipcmkId(theirs, 'Message queue id'));
    removeSemAfterTest(ipcmkId(theirs, 'Semaphore id'));
    expect(theirs.replace(/\d+/g, 'N')).toBe(made.stdout.replace(/\d+/g, 'N'));

    expect(procSysvRow('sem', semid)).toMatchObject({ perms: 0o644, nsems: 3, uid: process.getuid!() });
    expect(procSysvRow('msg', msqid)).toMatchObject({ perms: 0o644, qnum: 0 });
    expect(procRow(shmid)).toMatchObject({ perms: 0o644, size: 4096 });
    for (const key of [procSysvRow('sem', semid)!.key, procSysvRow('msg', msqid)!.key, procRow(shmid)!.key]) expect(key).not.toBe(IPC_PRIVATE);
    // ipcs shows them as it shows ipcmk's.
    expect(run('ipcs', ['-s'])).toMatch(new RegExp(`^0x[0-9a-f]{8} ${semid} +\\S+ +644 +3 +$`, 'm'));
    expect(run('ipcs', ['-q'])).toMatch(new RegExp(`^0x[0-9a-f]{8} ${msqid} +\\S+ +644 +0 +0 +$`, 'm'));
  });
});

describe('ipcs -s, -q, -a: sysv-shm ls prints the same bytes', () => {
  it('tables -q, -s, -a and -m with -t, -p, -c, -b, --human (times in Asia/Kolkata, as ipcs prints them there)', async () => {
    const f = await semMsgFixture();
    const tz = 'Asia/Kolkata';
    const all = await expectSameAsIpcs(['-a'], ['ls', '-a'], tz);
    // The fixture is in it: a negative key, a nameless owner, nobody, a cut name.
    for (const id of f.sets) expect(all).toMatch(new RegExp(`^0x[0-9a-f]{8} ${id} `, 'm'));
    for (const id of f.queues) expect(all).toMatch(new RegExp(`^0x[0-9a-f]{8} ${id} `, 'm'));
    expect(all).toMatch(/^0x[89a-f][0-9a-f]{7} \d+ +\S+ +640 +1 +$/m);
    expect(all).toMatch(new RegExp(`^0x[0-9a-f]{8} ${f.ourQueue} +\\S+ +644 +5005 +2 +$`, 'm'));
    expect(all).toMatch(/ nobody +666 /);
    if (longNamedUser) expect(all).toContain(` ${longNamedUser[0].slice(0, 10)} 600 `);

    for (const resource of ['-q', '-s', '-a']) {
      for (const view of [[], ['-t'], ['-p'], ['-c'], ['-b'], ['--human']]) await expectSameAsIpcs([resource, ...view], ['ls', resource, ...view], tz);
    }
    // ipcs -s -p prints nothing at all: not even a title.
    expect(await expectSameAsIpcs(['-s', '-p'], ['ls', '-s', '-p'], tz)).toBe('\n\n');
    expect(await expectSameAsIpcs(['-q', '-t'], ['ls', '-q', '-t'], tz)).toMatch(new RegExp(`^${f.ipcmkQueue} +\\S+ +Not set +Not set +[A-Z][a-z]{2} `, 'm'));
    // Without a resource option, ls is still ipcs -m; -m with another one adds it.
    await expectSameAsIpcs(['-m'], ['ls'], tz);
    await expectSameAsIpcs(['-m', '-s'], ['ls', '-s', '-m'], tz);
    await expectSameAsIpcs(['-q', '-m', '-t'], ['ls', '-m', '-q', '-t'], 'UTC');
  });

  it('-i: ls -s -i, ls -q -i, stat -s, stat -q print what ipcs -s -i and -q -i print, waiters and pids included', async () => {
    const f = await semMsgFixture();
    const tz = 'America/New_York';
    // Two processes wait on our set: one to take 3 from semaphore 0 (value 2: ncount), one for semaphore 1 (7) to be 0 (zcount).
    const waiters = [blockedInSemop(f.ourSet, 0, -3), blockedInSemop(f.ourSet, 1, 0)];
    try {
      await until(() => semctl(f.ourSet, 0, GETNCNT) === 1 && semctl(f.ourSet, 1, GETZCNT) === 1, 'waiting in semop');
      const text = await expectSameAsIpcs(['-s', '-i', f.ourSet], ['ls', '-s', '-i', f.ourSet], tz);
      // SETVAL and semop both set the pid.
      expect(text).toMatch(new RegExp(`^0 +2 +1 +0 +${process.pid} +\\n1 +7 +0 +1 +${process.pid} +$`, 'm'));
      await expectSameAsIpcs(['-s', '-i', f.ourSet], ['stat', '-s', f.ourSet], tz);
    } finally {
      for (const waiter of waiters) waiter.kill('SIGKILL');
    }
    for (const id of f.sets) await expectSameAsIpcs(['-s', '-i', id], ['stat', '--semaphores', id], tz);
    for (const id of f.queues) {
      await expectSameAsIpcs(['-q', '-i', id], ['ls', '-q', '-i', id], tz);
      await expectSameAsIpcs(['-q', '-i', id, '--human'], ['stat', '-q', id, '--human'], tz);
    }
    const queueText = await expectSameAsIpcs(['-q', '-i', f.ourQueue], ['stat', '-q', f.ourQueue], tz);
    expect(queueText).toContain(`cbytes=5005\tqbytes=${msgctl(f.ourQueue, IPC_STAT).qbytes}\tqnum=2\tlspid=${process.pid}\tlrpid=${process.pid}\n`);
    // By key, as ipcs prints it.
    const key = listSemaphores().find((s) => s.id === f.ipcmkSet)!.keyHex;
    await expectSameAsIpcs(['-s', '-i', f.ipcmkSet], ['stat', '-s', '--key', key], tz);
  });

  it('-l and -u: limits and usage of every facility, in bytes, -b and --human', async () => {
    await semMsgFixture();
    for (const resource of ['-q', '-s', '-a']) {
      for (const unit of [[], ['-b'], ['--human']]) {
        await expectSameAsIpcs([resource, '-l', ...unit], ['ls', resource, '-l', ...unit]);
        await expectSameAsIpcs([resource, '-u', ...unit], ['ls', resource, '-u', ...unit]);
        await expectSameAsIpcs([resource, '-l', ...unit], ['limits', resource, ...unit]);
        await expectSameAsIpcs([resource, '-u', ...unit], ['summary', resource, ...unit]);
      }
    }
    // The numbers are the kernel's: /proc/sys/kernel/sem, msgmni, msgmax, msgmnb; SEM_INFO and MSG_INFO.
    const [semmsl, semmns, semopm, semmni] = readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/);
    const limitsText = run('ipcs', ['-s', '-l']);
    expect(limitsText).toBe(
      `\n------ Semaphore Limits --------\nmax number of arrays = ${semmni}\nmax semaphores per array = ${semmsl}\n` +
        `max semaphores system wide = ${semmns}\nmax ops per semop call = ${semopm}\nsemaphore max value = 32767\n\n`,
    );
    const tunable = (name: string) => readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim();
    expect(run('ipcs', ['-q', '-l'])).toBe(
      `\n------ Messages Limits --------\nmax queues system wide = ${tunable('msgmni')}\nmax size of message (bytes) = ${tunable('msgmax')}\n` +
        `default max size of queue (bytes) = ${tunable('msgmnb')}\n\n`,
    );
    for (let attempt = 0; ; attempt++) {
      const [sem, msg] = [semctl(0, 0, SEM_INFO), msgctl(0, MSG_INFO)];
      const text = run('ipcs', ['-s', '-q', '-u']);
      if (!sameValue([sem, msg], [semctl(0, 0, SEM_INFO), msgctl(0, MSG_INFO)]) && attempt < 10) continue;
      expect(text).toBe(
        `\n------ Messages Status --------\nallocated queues = ${msg.msgpool}\nused headers = ${msg.msgmap}\nused space = ${msg.msgtql} bytes\n\n` +
          `------ Semaphore Status --------\nused arrays = ${sem.semusz}\nallocated semaphores = ${sem.semaem}\n\n`,
      );
      expect(msg.msgpool).toBeGreaterThanOrEqual(4);
      expect(msg.msgtql).toBeGreaterThanOrEqual(5005);
      break;
    }
  });

  it("lists in the kernel's order, as ipcs does, also once ids have wrapped (a reused slot gets a larger id)", async () => {
    // The kernel hands out slots cyclically (at least 64 before it wraps) and bumps the sequence number, part of the
    // id, each time it wraps: make and remove objects until a new one lands in a slot before an older one's.
    const procOrder = (kind: 'sem' | 'msg') =>
      readFileSync(`/proc/sysvipc/${kind}`, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => Number(line.trim().split(/\s+/)[1]));
    const wrapped = (kind: 'sem' | 'msg', make: () => number, drop: (id: number) => void) => {
      // The first object goes right after a slot left free (a spacer's), so that a wrap can land before it.
      let first: number | undefined;
      while (first === undefined) {
        const spacer = make();
        const candidate = make();
        const order = procOrder(kind);
        drop(spacer);
        if (order.indexOf(spacer) < order.indexOf(candidate)) first = candidate;
        else drop(candidate);
      }
      for (let i = 0; i < 100_000; i++) {
        const next = make();
        const order = procOrder(kind);
        if (order.indexOf(next) < order.indexOf(first)) return [first, next];
        drop(next);
      }
      throw new Error(`${kind}: slots never wrapped`);
    };
    const [oldQueue, newQueue] = wrapped(
      'msg',
      () => removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600)),
      (id) => msgctl(id, IPC_RMID),
    );
    const [oldSet, newSet] = wrapped(
      'sem',
      () => removeSemAfterTest(semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600)),
      (id) => semctl(id, 0, IPC_RMID),
    );
    expect(newQueue).toBeGreaterThan(oldQueue);
    expect(newSet).toBeGreaterThan(oldSet);
    const text = await expectSameAsIpcs(['-q', '-s'], ['ls', '-q', '-s']);
    const [queueSection, setSection] = text.split('------ Semaphore Arrays --------');
    const at = (section: string, id: number) => section.search(new RegExp(`^0x[0-9a-f]{8} ${id} `, 'm'));
    expect(at(queueSection, newQueue)).toBeGreaterThan(0);
    expect(at(queueSection, newQueue)).toBeLessThan(at(queueSection, oldQueue));
    expect(at(setSection, newSet)).toBeGreaterThan(0);
    expect(at(setSection, newSet)).toBeLessThan(at(setSection, oldSet));
    // The library sorts by id unless asked for the kernel's order.
    const ids = listQueues().map((q) => q.id);
    expect(ids.indexOf(oldQueue)).toBeLessThan(ids.indexOf(newQueue));
    expect(listQueues({ order: 'kernel' }).map((q) => q.id)).toEqual(procOrder('msg'));
    expect(listSemaphores({ order: 'kernel' }).map((s) => s.id)).toEqual(procOrder('sem'));
  });
});

describe('ipcrm and sysv-shm rm on sets and queues', () => {
  it('ipcrm -s, -q, -S, -Q remove sets and queues we made; our calls then fail with EINVAL/EIDRM', () => {
    const semKey = uniqueKey();
    const msgKey = uniqueKey() | 0x8000_0000;
    const byId = [removeSemAfterTest(semget(IPC_PRIVATE, 2, IPC_CREAT | 0o600)), removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600))];
    const byKey = [removeSemAfterTest(semget(semKey, 1, IPC_CREAT | IPC_EXCL | 0o600)), removeMsgAfterTest(msgget(msgKey, IPC_CREAT | IPC_EXCL | 0o600))];
    const hex = (key: number) => '0x' + (key >>> 0).toString(16);
    expect(run('ipcrm', ['-s', byId[0], '-q', byId[1], '-S', hex(semKey), '-Q', hex(msgKey)])).toBe('');
    for (const id of [byId[0], byKey[0]]) {
      expect(procSysvRow('sem', id)).toBeUndefined();
      expect(['EINVAL', 'EIDRM']).toContain(catchError(() => semctl(id, 0, IPC_STAT)).code);
    }
    for (const id of [byId[1], byKey[1]]) {
      expect(procSysvRow('msg', id)).toBeUndefined();
      expect(['EINVAL', 'EIDRM']).toContain(catchError(() => msgctl(id, IPC_STAT)).code);
      expect(catchError(() => msgsnd(id, 1, 'x', IPC_NOWAIT))).toBeInstanceOf(ShmError);
    }
    expect(catchError(() => semget(semKey, 0, 0)).code).toBe('ENOENT');
    expect(catchError(() => msgget(msgKey, 0)).code).toBe('ENOENT');
  });

  it('sysv-shm rm -s, -q, -S, -Q and remove({ kind }) remove what ipcmk made', async () => {
    const sets = [0, 1, 2].map(() => removeSemAfterTest(ipcmkId(run('ipcmk', ['-S', 1]), 'Semaphore id')));
    const queues = [0, 1, 2].map(() => removeMsgAfterTest(ipcmkId(run('ipcmk', ['-Q']), 'Message queue id')));
    const keyOf = (kind: 'sem' | 'msg', id: number) => '0x' + (procSysvRow(kind, id)!.key >>> 0).toString(16).padStart(8, '0');
    const removed = await sysvShm(['rm', '-s', sets[0], '-Q', keyOf('msg', queues[0]), '-S', keyOf('sem', sets[1]), '-q', queues[1]]);
    expect(removed).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(remove({ kind: 'sem', id: sets[2] })).toBe(sets[2]);
    expect(remove({ kind: 'msg', key: procSysvRow('msg', queues[2])!.key })).toBe(queues[2]);
    for (const id of sets) expect(procSysvRow('sem', id)).toBeUndefined();
    for (const id of queues) expect(procSysvRow('msg', id)).toBeUndefined();
  });

  it("rm speaks ipcrm's words: the -v lines, invalid id, invalid key, illegal key; every one tried, exit 1", async () => {
    const mine = [removeSemAfterTest(semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600)), removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600))];
    const theirs = [removeSemAfterTest(semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600)), removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600))];
    const missingKey = '0x' + (uniqueKey() >>> 0).toString(16);
    const args = (ids: number[]) => ['-v', '-s', ids[0], '-s', 2 ** 31 - 2, '-S', missingKey, '-q', ids[1], '-Q', '0', '-m', 2 ** 31 - 3];
    const ipcrm = spawnIpcrm(args(theirs));
    const ours = await sysvShm(['rm', ...args(mine)]);
    expect(ipcrm.status).toBe(1);
    expect(ours.status).toBe(1);
    const same = (text: string, ids: number[]) => text.replace(`\`${ids[0]}'`, "`SET'").replace(`\`${ids[1]}'`, "`QUEUE'");
    expect(same(ours.stdout, mine)).toBe(same(ipcrm.stdout, theirs));
    expect(ours.stdout).toBe(
      `removing semaphore id \`${mine[0]}'\nremoving semaphore id \`${2 ** 31 - 2}'\nremoving message queue id \`${mine[1]}'\nremoving shared memory segment id \`${2 ** 31 - 3}'\n`,
    );
    expect(ours.stderr.replaceAll('sysv-shm rm: ', 'ipcrm: ')).toBe(ipcrm.stderr);
    expect(ours.stderr).toBe(
      `sysv-shm rm: invalid id (${2 ** 31 - 2})\nsysv-shm rm: invalid key (${missingKey})\nsysv-shm rm: illegal key (0)\nsysv-shm rm: invalid id (${2 ** 31 - 3})\n`,
    );
    for (const id of [mine[0], theirs[0]]) expect(procSysvRow('sem', id)).toBeUndefined();
    for (const id of [mine[1], theirs[1]]) expect(procSysvRow('msg', id)).toBeUndefined();
  });
});

function spawnIpcrm(args: Array<string | number>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('ipcrm', args.map(String), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// ---------------------------------------------------------------------------------------------------------------
// ipcrm -a removes everything the caller can see: never in this process's namespace, where other tests' objects live.
// Each run is a fixture in an IPC namespace of its own (unshare --ipc --fork) that makes the same objects there, so
// the ids, and so ipcrm's lines, are the same for both tools.

interface RemoveAllRun {
  status: number | null;
  stdout: string;
  stderr: string;
  attachedId: number;
  attachedLeft: boolean;
  left: { shm: number[]; sem: number[]; msg: number[] };
}

/** test/fixtures/cli/remove-all.ts in a fresh IPC namespace: `tool` (ipcrm or sysv-shm rm) with `args`, as `who`. */
function removeAllInOwnNamespace(tool: 'ipcrm' | 'sysv-shm', who: number | 'root', args: string[]): RemoveAllRun {
  const fixture = fileURLToPath(new URL('../fixtures/cli/remove-all.ts', import.meta.url));
  const host = readlinkSync('/proc/self/ns/ipc');
  const result = spawnSync('unshare', ['--ipc', '--fork', '--', process.execPath, '--import', 'tsx', fixture, host, tool, String(who), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as RemoveAllRun;
}

describe('ipcrm -a and sysv-shm rm -a (each in an IPC namespace of its own)', () => {
  const user = 40_000 + (process.pid % 20_000); // a uid without a passwd entry
  const cases: Array<[who: number | 'root', args: string[]]> = [
    [user, ['-a', '-v']],
    [user, ['--all=sem', '-v']],
    [user, ['-ashm']],
    [user, ['-v', '--all=msg', '-q', '1', '-s', '0']],
    ['root', ['-va']],
    ['root', ['--all=shm', '-v']],
  ];
  it.each(cases)('as %s, rm %j prints, removes and leaves what ipcrm does', (who, args) => {
    const theirs = removeAllInOwnNamespace('ipcrm', who, args);
    const ours = removeAllInOwnNamespace('sysv-shm', who, args);
    expect({ ...ours, stderr: ours.stderr.replaceAll('sysv-shm rm: ', 'ipcrm: ') }).toEqual(theirs);
  });

  it('what a user may see but not remove is "permission denied for id"; what it cannot see stays, unmentioned', () => {
    const run = removeAllInOwnNamespace('sysv-shm', user, ['-a', '-v']);
    // ids as the fixture makes them: the user's (0), root's 0600 (1), root's 0644 (2), the user's attached segment (3).
    expect(run).toEqual({
      status: 1,
      stdout: [
        "removing shared memory segment id `0'",
        "removing shared memory segment id `2'",
        "removing shared memory segment id `3'",
        "removing semaphore id `0'",
        "removing semaphore id `2'",
        "removing message queue id `0'",
        "removing message queue id `2'",
        '',
      ].join('\n'),
      stderr: 'sysv-shm rm: permission denied for id (2)\n'.repeat(3),
      attachedId: 3,
      attachedLeft: true, // marked for removal: gone at the detach
      left: { shm: [1, 2], sem: [1, 2], msg: [1, 2] },
    });
  });
});

describe('ipcmk -p and sysv-shm create -p', () => {
  it('give the mode the same way: -p 600, -p0640, --mode 0600, clustered as -Qp 600', async () => {
    for (const args of [
      ['-Q', '-p', '600'],
      ['-S', '2', '-p0640'],
      ['-Q', '--mode', '0600'],
      ['-Qp', '600'],
      ['-M', '4096', '-p', '640'],
    ]) {
      // Each tool's object is registered for removal as soon as it exists, before anything is checked.
      const permsOf = (text: string) => {
        const queue = /Message queue id: (\d+)/.exec(text);
        const set = /Semaphore id: (\d+)/.exec(text);
        const segment = /Shared memory id: (\d+)/.exec(text);
        if (queue) return procSysvRow('msg', removeMsgAfterTest(Number(queue[1])))!.perms;
        if (set) return procSysvRow('sem', removeSemAfterTest(Number(set[1])))!.perms;
        return segment ? procRow(removeAfterTest(Number(segment[1])))!.perms : undefined;
      };
      const theirs = run('ipcmk', args);
      const theirPerms = permsOf(theirs);
      const ours = await sysvShm(['create', ...args]);
      const rows = [theirPerms, permsOf(ours.stdout)];
      expect(ours.status, ours.stderr).toBe(0);
      expect(ours.stdout.replace(/\d+/g, 'N'), args.join(' ')).toBe(theirs.replace(/\d+/g, 'N'));
      expect(rows[1], args.join(' ')).toBe(rows[0]);
      expect(rows[0]).toBe(args.join('').includes('640') ? 0o640 : 0o600);
    }
  });
});
