import { describe, expect, it } from 'vitest';
import {
  IPC_CREAT,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_STAT,
  SHM_DEST,
  SHM_EXEC,
  SHM_RDONLY,
  SHM_REMAP,
  SHM_RND,
  shmat,
  shmctl,
  shmdt,
  shmget,
} from '../../lib/index.js';
import { procRow, removeAfterTest } from '../support/segments.js';
import { catchError } from '../support/errors.js';
import { skipIfEmulated } from '../support/emulation.js';

function privateSegment(size: number, mode = 0o600): number {
  return removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | mode));
}

describe('shmat / shmdt', () => {
  it('maps the segment at its real size, zero copy, and counts the attachment', () => {
    const id = privateSegment(10_000);
    const a = shmat(id);
    const b = shmat(id);
    try {
      expect(a.size).toBe(10_000);
      expect(a.buffer.byteLength).toBe(10_000);
      expect(a.readOnly).toBe(false);
      expect(typeof a.address).toBe('bigint');
      expect(a.address % 4096n).toBe(0n);
      expect(a.address).not.toBe(b.address);
      expect(procRow(id)!.nattch).toBe(2);
      new Uint8Array(a.buffer).set([1, 2, 3], 9_997);
      expect([...new Uint8Array(b.buffer, 9_997)]).toEqual([1, 2, 3]);
      expect([...b.read(9_997, 3)]).toEqual([1, 2, 3]);
      expect(a.buffer).toBe(a.buffer); // one view per attachment
    } finally {
      shmdt(a);
      shmdt(b);
    }
    expect(procRow(id)!.nattch).toBe(0);
    expect(shmctl(id, IPC_STAT).dtime).toBeGreaterThan(0);
  });

  it('the size is the real size even when the segment was opened with a smaller one', () => {
    const id = privateSegment(3000);
    const a = shmat(id);
    expect(a.size).toBe(3000);
    shmdt(a);
  });

  it('updates atime, lpid and nattch in IPC_STAT', () => {
    const id = privateSegment(64);
    expect(shmctl(id, IPC_STAT).atime).toBe(0);
    const a = shmat(id);
    const ds = shmctl(id, IPC_STAT);
    expect(ds.nattch).toBe(1);
    expect(ds.lpid).toBe(process.pid);
    expect(Math.abs(ds.atime - Date.now() / 1000)).toBeLessThan(5);
    shmdt(a);
  });

  it('spawning a child process does not count as an attach and detach by the child (MADV_DONTFORK)', async (ctx) => {
    skipIfEmulated(
      ctx,
      'qemu-user (7.2) answers madvise(MADV_DONTFORK) with 0 without passing it on (smaps shows no "dc" flag), so the ' +
        'forked child inherits the attachment and detaches it at exec: lpid and dtime change',
    );
    const { execFileSync } = await import('node:child_process');
    const id = privateSegment(64);
    const a = shmat(id);
    const before = shmctl(id, IPC_STAT);
    execFileSync('true');
    const after = shmctl(id, IPC_STAT);
    expect(after.lpid).toBe(process.pid);
    expect(after.dtime).toBe(before.dtime);
    expect(after.nattch).toBe(1);
    shmdt(a);
  });

  it('SHM_RDONLY gives reads by copy and no ArrayBuffer', () => {
    const id = privateSegment(64);
    const w = shmat(id);
    new Uint8Array(w.buffer)[5] = 42;
    const r = shmat(id, null, SHM_RDONLY);
    try {
      expect(r.readOnly).toBe(true);
      expect(r.read(5, 1)[0]).toBe(42);
      expect(r.read().length).toBe(64);
      const error = catchError(() => r.buffer);
      expect(error.code).toBe('ERR_SHM_READ_ONLY');
      expect(error.message).toContain('read(offset, length)');
    } finally {
      shmdt(r);
      shmdt(w);
    }
  });

  it('SHM_EXEC maps the segment executable', async (ctx) => {
    skipIfEmulated(
      ctx,
      'qemu-user (7.2) writes its own /proc/self/maps and records shmat pages without PAGE_EXEC: it shows rw-s where ' +
        'the kernel mapped rwxs (/proc/thread-self/maps, which qemu passes through, shows rwxs)',
    );
    const { readFileSync } = await import('node:fs');
    const id = privateSegment(4096);
    const a = shmat(id, null, SHM_EXEC);
    const line = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(a.address.toString(16)));
    expect(line?.split(' ')[1]).toBe('rwxs');
    shmdt(a);
  });

  it('read() checks its range', () => {
    const id = privateSegment(64);
    const a = shmat(id);
    expect(() => a.read(60, 10)).toThrow(RangeError);
    expect(() => a.read(-1, 1)).toThrow(RangeError);
    expect(a.read(64, 0).length).toBe(0);
    shmdt(a);
  });

  it('double detach throws EINVAL; detaching something else throws TypeError', () => {
    const id = privateSegment(64);
    const a = shmat(id);
    shmdt(a);
    expect(a.detached).toBe(true);
    const again = catchError(() => shmdt(a));
    expect(again).toMatchObject({ code: 'EINVAL', errno: 22, operation: 'shmdt' });
    expect(again).not.toHaveProperty('syscall'); // no call was made: the library knows
    expect(() => shmdt({ address: a.address } as never)).toThrow(TypeError);
    expect(() => shmdt(null as never)).toThrow(TypeError);
  });

  it('use after detach throws a clear error through the attachment', () => {
    const id = privateSegment(64);
    const a = shmat(id);
    shmdt(a);
    expect(catchError(() => a.buffer)).toMatchObject({ code: 'ERR_SHM_DETACHED' });
    expect(catchError(() => a.read(0, 1)).message).toContain('attach it again');
  });

  it('views kept across detach are harmless: they read zeros and the segment keeps its data', () => {
    const id = privateSegment(8192);
    const a = shmat(id);
    const view = new Uint8Array(a.buffer);
    view[100] = 7;
    shmdt(a);
    expect(procRow(id)!.nattch).toBe(0);
    expect(view[100]).toBe(0);
    view[100] = 9; // goes to private memory, not the segment
    const again = shmat(id);
    expect(again.read(100, 1)[0]).toBe(7);
    shmdt(again);
  });

  it('IPC_RMID on an attached segment only marks it; attach by id still works; last detach destroys it', () => {
    const id = privateSegment(64);
    const a = shmat(id);
    shmctl(id, IPC_RMID);
    const ds = shmctl(id, IPC_STAT);
    expect(ds.perm.mode & SHM_DEST).toBe(SHM_DEST);
    expect(ds.perm.key).toBe(0);
    const b = shmat(id);
    expect(procRow(id)!.nattch).toBe(2);
    shmdt(a);
    expect(procRow(id)).toBeDefined();
    shmdt(b);
    expect(procRow(id)).toBeUndefined();
  });

  it('shows up in /proc/self/maps as /SYSV<key> (deleted) after removal', async () => {
    const { readFileSync } = await import('node:fs');
    const id = privateSegment(64);
    const a = shmat(id);
    shmctl(id, IPC_RMID);
    const line = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(a.address.toString(16)));
    expect(line).toMatch(/\/SYSV00000000 \(deleted\)/);
    shmdt(a);
  });

  it('fails with EINVAL for an id that does not exist', () => {
    const error = catchError(() => shmat(2 ** 30));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'shmat' });
    expect(error.message).toContain('no segment with id');
  });

  it('rejects bad arguments before any syscall', () => {
    expect(() => shmat(-1)).toThrow(RangeError);
    expect(() => shmat(1.5)).toThrow(RangeError);
    expect(() => shmat('1' as never)).toThrow(TypeError);
    expect(() => shmat(0, 4096 as never)).toThrow(TypeError);
    expect(() => shmat(0, null, 0x10000000)).toThrow(/unknown bits/);
  });

  it('a fixed address where nothing is mapped works; over mapped memory the kernel refuses (EINVAL)', () => {
    const id = privateSegment(4096);
    const probe = shmat(id);
    const free = probe.address;
    shmdt(probe); // no buffer was made: the range is really unmapped now
    const fixed = shmat(id, free);
    expect(fixed.address).toBe(free);
    const clash = catchError(() => shmat(id, free));
    expect(clash).toMatchObject({ code: 'EINVAL', syscall: 'shmat' });
    shmdt(fixed);
  });

  it('SHM_RND rounds the address down', () => {
    const id = privateSegment(4096);
    const probe = shmat(id);
    const free = probe.address;
    shmdt(probe);
    const a = shmat(id, free + 123n, SHM_RND);
    expect(a.address).toBe(free);
    shmdt(a);
  });

  it('SHM_REMAP over memory the library did not attach is refused without a syscall', () => {
    const id = privateSegment(4096);
    const foreign = 0x10000n;
    const error = catchError(() => shmat(id, foreign, SHM_REMAP));
    expect(error.code).toBe('ERR_SHM_FOREIGN_ADDRESS');
    expect(error.message).toContain('unsafeAllowForeignAddress');
    expect(procRow(id)!.nattch).toBe(0);
  });

  it('SHM_REMAP over our own attachment replaces it; the old attachment is superseded', () => {
    const one = privateSegment(4096);
    const two = privateSegment(4096);
    const a = shmat(one);
    new Uint8Array(a.buffer)[0] = 1;
    const b = shmat(two, a.address, SHM_REMAP);
    expect(b.address).toBe(a.address);
    new Uint8Array(b.buffer)[0] = 2;
    expect(procRow(one)!.nattch).toBe(0);
    expect(procRow(two)!.nattch).toBe(1);
    expect(catchError(() => a.read(0, 1)).code).toBe('ERR_SHM_DETACHED');
    shmdt(a); // nothing left to give back, but allowed once
    shmdt(b);
    expect(procRow(two)!.nattch).toBe(0);
  });

  it('SHM_REMAP | SHM_RDONLY under live writable views is refused', () => {
    const one = privateSegment(4096);
    const a = shmat(one);
    const view = new Uint8Array(a.buffer);
    const error = catchError(() => shmat(one, a.address, SHM_REMAP | SHM_RDONLY));
    expect(error.code).toBe('ERR_SHM_FOREIGN_ADDRESS');
    view[0] = 1;
    shmdt(a);
  });
});
