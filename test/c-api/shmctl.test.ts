import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  IPC_CREAT,
  IPC_INFO,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SHM_INFO,
  SHM_LOCK,
  SHM_LOCKED,
  SHM_STAT,
  SHM_STAT_ANY,
  SHM_UNLOCK,
  getAbi,
  shmat,
  shmctl,
  shmdt,
  shmget,
} from '../../lib/index.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { catchError } from '../support/errors.js';
import { ipcInfoShmmax, skipIfEmulated } from '../support/emulation.js';

describe('shmctl', () => {
  it('IPC_STAT decodes every field of shmid_ds, matching /proc/sysvipc/shm', () => {
    const key = uniqueKey();
    const id = removeAfterTest(shmget(key, 12_345, IPC_CREAT | 0o640));
    const a = shmat(id);
    const ds = shmctl(id, IPC_STAT);
    const row = procRow(id)!;
    expect(ds.perm).toMatchObject({ key, uid: row.uid, gid: row.gid, cuid: row.cuid, cgid: row.cgid, mode: row.perms });
    expect(typeof ds.perm.seq).toBe('number');
    expect(ds).toMatchObject({ segsz: 12_345, atime: row.atime, dtime: row.dtime, ctime: row.ctime, cpid: process.pid, lpid: process.pid, nattch: 1 });
    shmdt(a);
  });

  it('IPC_SET changes mode, keeping uid and gid when they are not given', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600));
    const before = shmctl(id, IPC_STAT);
    shmctl(id, IPC_SET, { perm: { mode: 0o644 } });
    const after = shmctl(id, IPC_STAT);
    expect(after.perm.mode & 0o777).toBe(0o644);
    expect(after.perm.uid).toBe(before.perm.uid);
    expect(after.perm.gid).toBe(before.perm.gid);
    expect(after.ctime).toBeGreaterThanOrEqual(before.ctime);
  });

  it('IPC_SET changes owner uid and gid (unsigned, large ids included)', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600));
    shmctl(id, IPC_SET, { perm: { uid: 4_000_000_000, gid: 65534 } });
    const ds = shmctl(id, IPC_STAT);
    expect(ds.perm.uid).toBe(4_000_000_000);
    expect(ds.perm.gid).toBe(65534);
    expect(ds.perm.cuid).toBe(process.getuid!());
    expect(procRow(id)!.uid).toBe(4_000_000_000);
  });

  it('IPC_SET rejects bad patches before any syscall', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600));
    expect(() => shmctl(id, IPC_SET, undefined as never)).toThrow(TypeError);
    expect(() => shmctl(id, IPC_SET, { perm: { mode: 0o1777 } })).toThrow(RangeError);
    expect(() => shmctl(id, IPC_SET, { perm: { uid: -1 } })).toThrow(RangeError);
    expect(() => shmctl(id, IPC_SET, { perm: { key: 5 } } as never)).toThrow(/only perm.uid/);
  });

  it('IPC_RMID removes an unattached segment at once', () => {
    const id = shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600);
    shmctl(id, IPC_RMID);
    expect(procRow(id)).toBeUndefined();
    const error = catchError(() => shmctl(id, IPC_STAT));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'shmctl' });
    expect(error.message).toContain('no segment with id');
  });

  it('SHM_LOCK and SHM_UNLOCK set and clear SHM_LOCKED', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600));
    shmctl(id, SHM_LOCK);
    expect(shmctl(id, IPC_STAT).perm.mode & SHM_LOCKED).toBe(SHM_LOCKED);
    shmctl(id, SHM_UNLOCK);
    expect(shmctl(id, IPC_STAT).perm.mode & SHM_LOCKED).toBe(0);
  });

  const kernel = (name: string) => BigInt(readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim());

  it('IPC_INFO reports the limits of /proc/sys/kernel, as bigints where they can pass 2^53', () => {
    const info = shmctl(0, IPC_INFO);
    // The fields are C longs: a 32-bit process of a 64-bit kernel gets them cut to 32 bits (shmall's default is
    // 2^64 - 2^24 - 1 there). shmmax has a test of its own below.
    const ulongMax = (1n << BigInt(8 * getAbi().sizeof.long)) - 1n;
    expect(BigInt(info.shmall)).toBe(kernel('shmall') & ulongMax);
    expect(BigInt(info.shmmni)).toBe(kernel('shmmni'));
    expect(BigInt(info.shmmin)).toBe(1n);
    expect(typeof info.shmmax).toBe('bigint');
    expect(info.highestIndex).toBeGreaterThanOrEqual(0);
  });

  it('IPC_INFO shmmax is /proc/sys/kernel/shmmax exactly (clamped to INT_MAX for a 32-bit process of a 64-bit kernel)', (ctx) => {
    const { expected, emulatorDiffers } = ipcInfoShmmax(kernel('shmmax'), getAbi().sizeof.long);
    if (emulatorDiffers) skipIfEmulated(ctx, ipcInfoShmmax.emulatorReason);
    expect(expected).toContain(shmctl(0, IPC_INFO).shmmax);
  });

  it('SHM_INFO counts the segments and pages in use', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 3 * 4096, IPC_CREAT | 0o600));
    const a = shmat(id);
    new Uint8Array(a.buffer).fill(1);
    const info = shmctl(0, SHM_INFO);
    const rows = readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n').length - 1;
    expect(info.usedIds).toBe(rows);
    expect(Number(info.shmTot)).toBeGreaterThanOrEqual(3);
    expect(Number(info.shmRss)).toBeGreaterThanOrEqual(3);
    shmdt(a);
  });

  it.for([
    ['SHM_STAT', SHM_STAT],
    ['SHM_STAT_ANY', SHM_STAT_ANY],
  ] as const)('%s walks the kernel array up to SHM_INFO.highestIndex and finds every segment', ([, command], ctx) => {
    if (command === SHM_STAT_ANY) {
      skipIfEmulated(ctx, 'qemu-user (7.2) does not know SHM_STAT_ANY (Linux 4.17) and answers EINVAL itself, without asking the kernel');
    }
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600));
    const { highestIndex } = shmctl(0, SHM_INFO);
    const found: number[] = [];
    for (let index = 0; index <= highestIndex; index++) {
      try {
        const entry = shmctl(index, command);
        found.push(entry.shmid);
        expect(entry.segsz).toBe(procRow(entry.shmid)!.size);
      } catch (error) {
        expect((error as { code: string }).code).toBe('EINVAL'); // an unused slot
      }
    }
    expect(found).toContain(id);
    const own = found.map((shmid) => shmid).find((shmid) => shmid === id)!;
    expect(own).toBe(id);
    expect(() => shmctl(highestIndex, SHM_STAT)).not.toThrow();
  });

  it('rejects an unknown command and bad ids before any syscall', () => {
    expect(() => shmctl(0, 999 as never)).toThrow(/not a shmctl command/);
    expect(() => shmctl(-1, IPC_STAT)).toThrow(RangeError);
    expect(() => shmctl(Number.NaN, IPC_STAT)).toThrow(RangeError);
  });
});
