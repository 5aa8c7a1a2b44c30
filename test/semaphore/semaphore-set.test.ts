// SemaphoreSet in one process: create and open, values, acquire/release/waitForZero/operate with their timeouts and
// argument checks, locks with `using`, status, permissions, removal and close. Across processes (SEM_UNDO at a
// kill, EIDRM to waiters, locks) in processes.test.ts; the async calls in async.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GETVAL, IPC_CREAT, SemaphoreLock, SemaphoreSet, ShmError, ftok, semctl, semget, semop } from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { runProgram } from '../support/child.js';
import { procSysvRow, removeSemAfterTest, uniqueKey } from '../support/sysv-objects.js';

const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-semaphore-'));
const keyFile = join(dir, 'key');
writeFileSync(keyFile, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOBODY = 65534;
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/semaphore/${name}.ts`, import.meta.url));

function track(set: SemaphoreSet): SemaphoreSet {
  removeSemAfterTest(set.id);
  return set;
}

describe('SemaphoreSet.create / open', () => {
  it('creates a private set of one semaphore at 0, owner-only, already marked initialised (sem_otime set)', () => {
    const set = track(SemaphoreSet.create());
    expect(set).toMatchObject({ key: 0, count: 1, created: true, closed: false });
    expect(set.values()).toEqual([0]);
    const status = set.status();
    expect(status.mode).toBe(0o600);
    expect(status.lastOperationTime).toBeInstanceOf(Date);
    expect(status.lastChangeTime).toBeInstanceOf(Date);
    expect(procSysvRow('sem', set.id)).toMatchObject({ nsems: 1, perms: 0o600 });
  });

  it('creates with values (count defaults to their number) and a mode', () => {
    const set = track(SemaphoreSet.create({ values: [3, 0, 32767], mode: 0o640 }));
    expect(set.count).toBe(3);
    expect(set.values()).toEqual([3, 0, 32767]);
    expect(set.status().mode).toBe(0o640);
    const four = track(SemaphoreSet.create({ count: 4 }));
    expect(four.values()).toEqual([0, 0, 0, 0]);
  });

  it('creates by key, exclusive by default; exclusive: false opens the existing set and leaves its values', () => {
    const key = uniqueKey();
    const set = track(SemaphoreSet.create({ key, values: [2, 5] }));
    expect(set.keyHex).toBe('0x' + (key >>> 0).toString(16).padStart(8, '0'));
    expect(catchError(() => SemaphoreSet.create({ key }))).toMatchObject({ code: 'EEXIST', syscall: 'semget' });
    const again = SemaphoreSet.create({ key, count: 2, values: [0, 0], exclusive: false });
    expect(again).toMatchObject({ id: set.id, created: false, count: 2 });
    expect(again.values()).toEqual([2, 5]);
    // The kernel refuses to open it as a larger set.
    expect(catchError(() => SemaphoreSet.create({ key, count: 3, exclusive: false }))).toMatchObject({ code: 'EINVAL', syscall: 'semget' });
  });

  it('creates and opens by path + projId (ftok), by key, by { key } and by { id }', () => {
    const set = track(SemaphoreSet.create({ path: keyFile, projId: 3, count: 2 }));
    expect(set.key).toBe(ftok(keyFile, 3));
    for (const target of [{ path: keyFile, projId: 3 }, set.key, { key: set.key }, { id: set.id }]) {
      const opened = SemaphoreSet.open(target);
      expect(opened).toMatchObject({ id: set.id, key: set.key, count: 2, created: false });
    }
  });

  it('keys are held as C holds key_t (signed), also when given unsigned as ipcs prints them', () => {
    const signed = uniqueKey() | 0x8000_0000; // negative
    const set = track(SemaphoreSet.create({ key: signed >>> 0 }));
    expect(set.key).toBe(signed);
    expect(SemaphoreSet.open(signed >>> 0)).toMatchObject({ id: set.id, key: signed });
    expect(set.status().key).toBe(signed);
  });

  it('open of a missing key is ENOENT, of a removed id EINVAL; a private key or a bad target is refused before any call', () => {
    expect(catchError(() => SemaphoreSet.open(uniqueKey()))).toMatchObject({ code: 'ENOENT', syscall: 'semget' });
    const set = SemaphoreSet.create();
    set.remove();
    expect(catchError(() => SemaphoreSet.open({ id: set.id }))).toBeInstanceOf(ShmError);
    expect(() => SemaphoreSet.open(0)).toThrow(RangeError);
    expect(() => SemaphoreSet.open({ id: -1 })).toThrow(RangeError);
    expect(() => SemaphoreSet.open('x' as never)).toThrow(TypeError);
    expect(() => SemaphoreSet.open(null as never)).toThrow(TypeError);
  });

  it('refuses bad create options before any call', () => {
    expect(() => SemaphoreSet.create({ count: 0 })).toThrow(RangeError);
    expect(() => SemaphoreSet.create({ count: 1.5 })).toThrow(RangeError);
    expect(() => SemaphoreSet.create({ count: '2' as never })).toThrow(TypeError);
    expect(() => SemaphoreSet.create({ values: [32768] })).toThrow(RangeError);
    expect(() => SemaphoreSet.create({ values: [-1] })).toThrow(RangeError);
    expect(() => SemaphoreSet.create({ values: [1, 2], count: 3 })).toThrow(RangeError);
    expect(() => SemaphoreSet.create({ values: 'x' as never })).toThrow(TypeError);
    expect(() => SemaphoreSet.create({ mode: 0o1000 })).toThrow(RangeError);
    expect(() => SemaphoreSet.create({ key: 1, path: keyFile, projId: 1 })).toThrow(TypeError);
    expect(() => SemaphoreSet.create({ path: keyFile })).toThrow(TypeError);
    expect(() => SemaphoreSet.create({ exclusive: 'yes' as never })).toThrow(TypeError);
    expect(() => SemaphoreSet.create(5 as never)).toThrow(TypeError);
  });

  it('open({ waitInitializedMs }) waits for the first semop of a set made without one, and gives up with ETIMEDOUT', () => {
    const key = uniqueKey();
    const id = removeSemAfterTest(semget(key, 1, IPC_CREAT | 0o600)); // as C code or ipcmk make it: sem_otime 0
    expect(SemaphoreSet.open(key).status().lastOperationTime).toBeNull(); // no wait by default
    const error = catchError(() => SemaphoreSet.open(key, { waitInitializedMs: 30 }));
    expect(error).toMatchObject({ code: 'ETIMEDOUT', operation: 'SemaphoreSet.open', semid: id });
    expect(error.message).toMatch(/not initialised within 30 ms/);
    semop(id, [{ sem_num: 0, sem_op: 1, sem_flg: 0 }]);
    expect(SemaphoreSet.open(key, { waitInitializedMs: 30 }).value()).toBe(1);
    expect(() => SemaphoreSet.open(key, { waitInitializedMs: -1 })).toThrow(RangeError);
  });
});

describe('values', () => {
  it('value, values, setValue, setValues', () => {
    const set = track(SemaphoreSet.create({ count: 3 }));
    set.setValue(1, 7);
    expect(set.value(1)).toBe(7);
    expect(set.value()).toBe(0);
    set.setValues([1, 2, 32767]);
    expect(set.values()).toEqual([1, 2, 32767]);
    expect(semctl(set.id, 2, GETVAL)).toBe(32767);
  });

  it('an index beyond the set, a value beyond SEMVMX or a wrong number of values is a RangeError before any call', () => {
    const set = track(SemaphoreSet.create({ count: 2 }));
    expect(() => set.value(2)).toThrow(/index 2 is not one of the set's 2 semaphores/);
    expect(() => set.value(-1)).toThrow(RangeError);
    expect(() => set.value('0' as never)).toThrow(TypeError);
    expect(() => set.setValue(0, 32768)).toThrow(RangeError);
    expect(() => set.setValue(0, 0.5)).toThrow(RangeError);
    expect(() => set.setValues([1])).toThrow(RangeError);
    expect(() => set.setValues([1, -1])).toThrow(RangeError);
    expect(() => set.acquire({ index: 2 })).toThrow(RangeError);
    expect(() => set.release({ count: 32768 })).toThrow(RangeError);
    expect(() => set.release({ count: 0 })).toThrow(RangeError);
    expect(() => set.acquire({ count: 0 })).toThrow(RangeError);
    expect(() => set.acquire({ undo: 1 as never })).toThrow(TypeError);
    expect(() => set.acquire({ timeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => set.acquire(7 as never)).toThrow(TypeError);
    expect(set.values()).toEqual([0, 0]);
  });

  it("a release beyond SEMVMX is the kernel's ERANGE, and changes nothing", () => {
    const set = track(SemaphoreSet.create({ values: [32767] }));
    expect(catchError(() => set.release({ undo: false }))).toMatchObject({ code: 'ERANGE' });
    expect(set.value()).toBe(32767);
  });
});

describe('acquire, tryAcquire, release, waitForZero, operate', () => {
  it('acquire takes, release gives back; acquire returns false when the timeout passes, tryAcquire at once', () => {
    const set = track(SemaphoreSet.create({ values: [2] }));
    expect(set.acquire()).toBe(true);
    expect(set.acquire({ count: 1 })).toBe(true);
    expect(set.value()).toBe(0);
    expect(set.acquire({ timeoutMs: 20 })).toBe(false);
    expect(set.acquire({ timeoutMs: 0 })).toBe(false);
    expect(set.tryAcquire()).toBe(false);
    set.release({ count: 2 });
    expect(set.value()).toBe(2);
    expect(set.tryAcquire({ count: 2 })).toBe(true);
    expect(set.tryAcquire({ count: 1 })).toBe(false);
    set.release({ count: 2 });
    expect(() => set.tryAcquire({ timeoutMs: 5 } as never)).not.toThrow(); // tryAcquire never waits
  });

  it('each semaphore of a set is its own', () => {
    const set = track(SemaphoreSet.create({ values: [0, 3] }));
    expect(set.tryAcquire({ index: 1, count: 3 })).toBe(true);
    expect(set.tryAcquire({ index: 0 })).toBe(false);
    set.release({ index: 1, count: 3 });
    expect(set.values()).toEqual([0, 3]);
  });

  it('waitForZero is true at 0 and false after its timeout otherwise', () => {
    const set = track(SemaphoreSet.create({ values: [0, 1] }));
    expect(set.waitForZero()).toBe(true);
    expect(set.waitForZero({ index: 1, timeoutMs: 20 })).toBe(false);
    expect(set.waitForZero({ index: 1, timeoutMs: 0 })).toBe(false);
  });

  it('operate is atomic: all the operations or none', () => {
    const set = track(SemaphoreSet.create({ values: [1, 0, 5] }));
    // The second operation cannot be done: the first is not done either.
    expect(
      set.operate([
        { index: 0, op: -1 },
        { index: 1, op: -1, noWait: true },
      ]),
    ).toBe(false);
    expect(set.values()).toEqual([1, 0, 5]);
    expect(
      set.operate(
        [
          { index: 0, op: -1 },
          { index: 1, op: -1 },
        ],
        { timeoutMs: 20 },
      ),
    ).toBe(false);
    expect(set.values()).toEqual([1, 0, 5]);
    expect(
      set.operate([
        { index: 0, op: -1 },
        { index: 1, op: 2 },
        { index: 2, op: -5 },
      ]),
    ).toBe(true);
    expect(set.values()).toEqual([0, 2, 0]);
    expect(
      set.operate([
        { index: 0, op: 0 },
        { index: 2, op: 0 },
        { index: 1, op: -2, undo: false },
      ]),
    ).toBe(true);
    expect(set.values()).toEqual([0, 0, 0]);
    set.operate([
      { index: 0, op: 1 },
      { index: 1, op: 2 },
      { index: 2, op: 5 },
    ]);
  });

  it('operate refuses malformed operations before any call', () => {
    const set = track(SemaphoreSet.create({ count: 2 }));
    expect(() => set.operate([])).toThrow(RangeError);
    expect(() => set.operate('x' as never)).toThrow(TypeError);
    expect(() => set.operate([null as never])).toThrow(TypeError);
    expect(() => set.operate([{ index: 2, op: 1 }])).toThrow(RangeError);
    expect(() => set.operate([{ index: 0, op: 32768 }])).toThrow(RangeError);
    expect(() => set.operate([{ index: 0, op: -32768 }])).toThrow(RangeError);
    expect(() => set.operate([{ index: 0, op: 1.5 }])).toThrow(RangeError);
    expect(() => set.operate([{ index: 0, op: 1, noWait: 'no' as never }])).toThrow(TypeError);
    expect(() => set.operate([{ index: 0, op: 1 }], { timeoutMs: -1 })).toThrow(RangeError);
    expect(set.values()).toEqual([0, 0]);
  });
});

describe('lock', () => {
  it('`using` takes the lock and gives it back at the end of the block, also when it throws', () => {
    const set = track(SemaphoreSet.create({ values: [1] }));
    {
      using lock = set.lock();
      expect(lock).toBeInstanceOf(SemaphoreLock);
      expect(lock).toMatchObject({ semid: set.id, index: 0, released: false });
      expect(set.value()).toBe(0);
    }
    expect(set.value()).toBe(1);
    expect(() => {
      using _lock = set.lock();
      throw new Error('boom');
    }).toThrow('boom');
    expect(set.value()).toBe(1);
  });

  it('release() gives back once; a lock not free in time is ETIMEDOUT and takes nothing', () => {
    const set = track(SemaphoreSet.create({ values: [1, 1] }));
    const lock = set.lock({ index: 1 });
    const error = catchError(() => set.lock({ index: 1, timeoutMs: 20 }));
    expect(error).toMatchObject({ code: 'ETIMEDOUT', operation: 'SemaphoreSet.lock', semid: set.id });
    expect(set.values()).toEqual([1, 0]);
    lock.release();
    lock.release();
    lock[Symbol.dispose]();
    expect(lock.released).toBe(true);
    expect(set.values()).toEqual([1, 1]);
  });
});

describe('status, permissions, removal, close', () => {
  it('status: the set, and per semaphore its value, waiters and last pid; times as Date | null', () => {
    const key = uniqueKey();
    const set = track(SemaphoreSet.create({ key, values: [4, 0] }));
    set.acquire({ index: 0 });
    const status = set.status();
    expect(status).toMatchObject({ id: set.id, key, count: 2, mode: 0o600, uid: process.getuid!(), cuid: process.getuid!() });
    expect(status.keyHex).toBe(set.keyHex);
    expect(status.semaphores).toEqual([
      { value: 3, waitingForNonzero: 0, waitingForZero: 0, lastPid: process.pid },
      { value: 0, waitingForNonzero: 0, waitingForZero: 0, lastPid: process.pid }, // SETALL sets it too
    ]);
    expect(Math.abs(status.lastOperationTime!.getTime() - Date.now())).toBeLessThan(60_000);
    set.release({ index: 0 });
  });

  it('setPermissions changes what it is given and keeps the rest', () => {
    const set = track(SemaphoreSet.create({ mode: 0o600 }));
    set.setPermissions({ mode: 0o644 });
    expect(set.status()).toMatchObject({ mode: 0o644, uid: process.getuid!(), gid: process.getgid!() });
    set.setPermissions({ gid: 4242 });
    expect(set.status()).toMatchObject({ mode: 0o644, gid: 4242 });
    expect(procSysvRow('sem', set.id)).toMatchObject({ perms: 0o644, gid: 4242 });
    expect(() => set.setPermissions({ mode: -1 })).toThrow(RangeError);
  });

  it('setPermissions refuses misuse before any call: unknown keys and wrong types (TypeError), out of range (RangeError)', () => {
    const set = track(SemaphoreSet.create({ mode: 0o640 }));
    expect(() => set.setPermissions({ mode: 0o600, owner: 0 } as never)).toThrow(TypeError);
    expect(() => set.setPermissions({ perm: { mode: 0o600 } } as never)).toThrow(TypeError);
    expect(() => set.setPermissions({ mode: '600' } as never)).toThrow(TypeError);
    expect(() => set.setPermissions({ uid: 1n } as never)).toThrow(TypeError);
    expect(() => set.setPermissions(null as never)).toThrow(TypeError);
    expect(() => set.setPermissions(0o600 as never)).toThrow(TypeError);
    expect(() => set.setPermissions({ mode: 0o1000 })).toThrow(RangeError);
    expect(() => set.setPermissions({ uid: -1 })).toThrow(RangeError);
    expect(() => set.setPermissions({ gid: 2 ** 32 })).toThrow(RangeError);
    expect(() => set.setPermissions({ uid: 1.5 })).toThrow(RangeError);
    // Nothing was changed.
    expect(set.status()).toMatchObject({ mode: 0o640, uid: process.getuid!(), gid: process.getgid!() });
  });

  it('the owner restores the mode of a set it cannot read (mode 0): no IPC_STAT first', () => {
    const set = track(SemaphoreSet.create({ values: [1] }));
    set.setPermissions({ uid: NOBODY, gid: NOBODY, mode: 0 });
    const result = runProgram(fixture('nobody-restores-mode'), [set.id]);
    expect(result.stderr).toBe('');
    const r = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(r.before).toMatchObject({ code: 'EACCES' }); // the owner could not read it
    expect(r).toMatchObject({ restored: 'ok', after: { uid: NOBODY, gid: NOBODY, mode: 0o600, values: [1] } });
    expect(set.status()).toMatchObject({ uid: NOBODY, gid: NOBODY, mode: 0o600 });
  });

  it('tryAcquire and a noWait operate on a removed set: EIDRM from semop (the syscall they make)', () => {
    const set = SemaphoreSet.create({ values: [1] });
    set.remove();
    expect(catchError(() => set.tryAcquire())).toMatchObject({ code: 'EIDRM', syscall: 'semop', semid: set.id });
    expect(catchError(() => set.operate([{ index: 0, op: -1, noWait: true }]))).toMatchObject({ code: 'EIDRM', syscall: 'semop' });
    expect(catchError(() => set.acquire({ timeoutMs: 0 }))).toMatchObject({ code: 'EIDRM', syscall: 'semop' });
  });

  it('remove() destroys the set at once; later calls are kernel errors', () => {
    const set = SemaphoreSet.create({ values: [1] });
    set.remove();
    expect(procSysvRow('sem', set.id)).toBeUndefined();
    expect(catchError(() => set.value())).toBeInstanceOf(ShmError);
    expect(catchError(() => set.remove())).toBeInstanceOf(ShmError);
  });

  it('`using` closes the object, not the set: later calls through it are ERR_SEMAPHORE_CLOSED, a held lock still goes back', () => {
    const created = track(SemaphoreSet.create({ values: [1] }));
    let lock: SemaphoreLock;
    let closed: SemaphoreSet;
    {
      using set = SemaphoreSet.open({ id: created.id });
      lock = set.lock();
      closed = set;
    }
    expect(closed.closed).toBe(true);
    expect(catchError(() => closed.value())).toMatchObject({ code: 'ERR_SEMAPHORE_CLOSED', operation: 'SemaphoreSet.value' });
    expect(catchError(() => closed.acquire())).toMatchObject({ code: 'ERR_SEMAPHORE_CLOSED' });
    expect(procSysvRow('sem', created.id)).toBeDefined();
    lock.release();
    expect(created.value()).toBe(1);
    closed.close(); // twice: nothing
  });

  it('inspect shows id, key, count and values', () => {
    const set = track(SemaphoreSet.create({ values: [1, 2] }));
    expect(inspect(set)).toBe(`SemaphoreSet { id: ${set.id}, key: 0x00000000, count: 2, values: [1, 2] }`);
    set.remove();
    expect(inspect(set)).toMatch(/gone \(E[A-Z]+\)/);
  });
});
