// Interoperability with util-linux: ipcmk makes segments we open, ipcs shows what we made exactly as our shmctl
// decodes it, ipcrm removes what we made. Output formats are those of util-linux 2.38 (Debian 12), run with LC_ALL=C.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  IPC_CREAT,
  IPC_EXCL,
  IPC_INFO,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SHM_DEST,
  SHM_INFO,
  SHM_RDONLY,
  ShmError,
  shmat,
  shmctl,
  shmdt,
  shmget,
} from '../../lib/index.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { startProgram, waitForLine } from '../support/child.js';
import { parseIpcsDetail, parseIpcsUsage, sameValue } from '../support/ipcs.js';
import { catchError } from '../support/errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Running the tools and reading their output.
function run(tool: string, args: Array<string | number>): string {
  return execFileSync(tool, args.map(String), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
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
