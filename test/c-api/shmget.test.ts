import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_RMID, IPC_STAT, SHM_NORESERVE, ShmError, getAbi, shmctl, shmget } from '../../lib/index.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { catchError } from '../support/errors.js';

describe('shmget', () => {
  it('creates a private segment with the mode and size asked, visible in /proc', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 1000, IPC_CREAT | 0o640));
    const row = procRow(id)!;
    expect(row.size).toBe(1000);
    expect(row.perms & 0o777).toBe(0o640);
    expect(row.key).toBe(0);
    expect(row.cpid).toBe(process.pid);
  });

  it('opens an existing segment by key with size 0, and by any size up to its own', () => {
    const key = uniqueKey();
    const id = removeAfterTest(shmget(key, 5000, IPC_CREAT | IPC_EXCL | 0o600));
    expect(shmget(key, 0, 0)).toBe(id);
    expect(shmget(key, 5000, 0)).toBe(id);
    expect(shmctl(id, IPC_STAT).segsz).toBe(5000);
  });

  it('accepts a key as signed or unsigned 32-bit and treats them as the same key', () => {
    const unsigned = (0xf000_0000 | (process.pid & 0xffff)) >>> 0;
    const signed = unsigned | 0;
    expect(signed).toBeLessThan(0);
    const id = removeAfterTest(shmget(unsigned, 64, IPC_CREAT | IPC_EXCL | 0o600));
    expect(shmget(signed, 0, 0)).toBe(id);
    expect(shmctl(id, IPC_STAT).perm.key).toBe(signed);
    expect(procRow(id)!.key).toBe(signed);
  });

  it('fails with EEXIST and advice when IPC_EXCL meets an existing key', () => {
    const key = uniqueKey();
    const id = removeAfterTest(shmget(key, 64, IPC_CREAT | 0o600));
    const error = catchError(() => shmget(key, 64, IPC_CREAT | IPC_EXCL | 0o600));
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'EEXIST', errno: 17, syscall: 'shmget' });
    expect(error.message).toMatch(/^EEXIST: /);
    expect(error.message).toContain(`shmid ${id}`);
    expect(error.message).toContain('IPC_CREAT|IPC_EXCL|0600');
    expect(error.message).toMatch(/ipcrm -M 0x/);
  });

  it('fails with ENOENT when the key does not exist and IPC_CREAT is absent', () => {
    const error = catchError(() => shmget(uniqueKey(), 0, 0));
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'shmget' });
    expect(error.message).toContain('IPC_CREAT');
  });

  it('fails with EINVAL naming the real size when asked for more than an existing segment has', () => {
    const key = uniqueKey();
    removeAfterTest(shmget(key, 100, IPC_CREAT | 0o600));
    const error = catchError(() => shmget(key, 200, 0));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'shmget' });
    expect(error.message).toContain('only 100 bytes');
  });

  it('fails with EINVAL mentioning SHMMAX when the size is above it', () => {
    // The limit is lowered for the test (it is per IPC namespace): its default on a 64-bit kernel, 2^64 - 2^24 - 1,
    // is above every size a 32-bit process can pass, and a 64-bit one gets ENOMEM or ENOSPC for 2^53 - 1.
    const limitFile = '/proc/sys/kernel/shmmax';
    const saved = readFileSync(limitFile, 'utf8');
    const limit = 1 << 20;
    // The largest size_t the library passes: 2^53 - 1 on 64-bit targets, 4 GiB - 1 on 32-bit ones.
    const largest = getAbi().pointerSize === 4 ? 2 ** 32 - 1 : Number.MAX_SAFE_INTEGER;
    try {
      writeFileSync(limitFile, String(limit));
      for (const size of [limit + 1, largest]) {
        const error = catchError(() => shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600));
        expect(error).toMatchObject({ code: 'EINVAL', syscall: 'shmget' });
        expect(error.message).toContain(`${size} bytes is above SHMMAX (${limit},`);
      }
    } finally {
      writeFileSync(limitFile, saved);
    }
  });

  it('IPC_CREAT with size 0 is EINVAL: a new segment needs a size', () => {
    const error = catchError(() => shmget(IPC_PRIVATE, 0, IPC_CREAT | 0o600));
    expect(error).toMatchObject({ code: 'EINVAL' });
    expect(error.message).toContain('at least 1 byte');
  });

  it('SHM_NORESERVE is accepted', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | SHM_NORESERVE | 0o600));
    expect(procRow(id)!.size).toBe(1 << 20);
  });

  it('fails with ENOSPC naming SHMMNI when the system-wide count of segments is reached', () => {
    const limitFile = '/proc/sys/kernel/shmmni';
    const saved = readFileSync(limitFile, 'utf8');
    const inUse = readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n').length - 1;
    try {
      writeFileSync(limitFile, String(inUse + 1));
      removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600));
      const error = catchError(() => shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o600));
      expect(error).toMatchObject({ code: 'ENOSPC', syscall: 'shmget' });
      expect(error.message).toContain(`SHMMNI = ${inUse + 1}`);
    } finally {
      writeFileSync(limitFile, saved);
    }
  });

  it('rejects bad arguments before any syscall', () => {
    expect(() => shmget(IPC_PRIVATE, -1, IPC_CREAT)).toThrow(RangeError);
    expect(() => shmget(IPC_PRIVATE, 1.5, IPC_CREAT)).toThrow(RangeError);
    expect(() => shmget(IPC_PRIVATE, Number.NaN, IPC_CREAT)).toThrow(RangeError);
    expect(() => shmget(IPC_PRIVATE, '10' as unknown as number, IPC_CREAT)).toThrow(TypeError);
    expect(() => shmget(IPC_PRIVATE, 10n as unknown as number, IPC_CREAT)).toThrow(TypeError);
    if (getAbi().pointerSize === 4) expect(() => shmget(IPC_PRIVATE, 2 ** 32, IPC_CREAT)).toThrow(/larger than this platform can address/);
    expect(() => shmget(2 ** 32, 10, IPC_CREAT)).toThrow(RangeError);
    expect(() => shmget(-(2 ** 31) - 1, 10, IPC_CREAT)).toThrow(RangeError);
    expect(() => shmget(IPC_PRIVATE, 10, 2 ** 33)).toThrow(RangeError);
    expect(() => shmget(IPC_PRIVATE, 10, 0.5)).toThrow(RangeError);
  });

  it('a segment created with no mode bits cannot be attached even by its creator (when not privileged)', () => {
    // Root bypasses permission checks; the unprivileged case runs in test/c-api/permissions.test.ts.
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT));
    expect(procRow(id)!.perms & 0o777).toBe(0);
    shmctl(id, IPC_RMID);
  });
});
