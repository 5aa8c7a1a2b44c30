// semctl, command by command.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  GETALL,
  GETNCNT,
  GETPID,
  GETVAL,
  GETZCNT,
  IPC_CREAT,
  IPC_INFO,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SEM_INFO,
  SEM_STAT,
  SEM_STAT_ANY,
  SETALL,
  SETVAL,
  msgctl,
  msgget,
  semctl,
  semget,
  semop,
} from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { procSysvRow, removeMsgAfterTest, removeSemAfterTest, uniqueKey } from '../support/sysv-objects.js';
import { killChildren, recordProgram, runProgram } from '../support/child.js';
import { skipIfEmulated } from '../support/emulation.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/c-api/${name}.ts`, import.meta.url));

afterEach(killChildren);

function newSet(nsems: number, mode = 0o600): number {
  return removeSemAfterTest(semget(IPC_PRIVATE, nsems, IPC_CREAT | mode));
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const kernelSem = () => readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/).map(Number);

describe('semctl', () => {
  it('SETVAL and GETVAL, for each semaphore, over the whole range 0..32767', () => {
    const id = newSet(3);
    semctl(id, 0, SETVAL, 7);
    semctl(id, 2, SETVAL, 32767);
    expect([0, 1, 2].map((n) => semctl(id, n, GETVAL))).toEqual([7, 0, 32767]);
    semctl(id, 2, SETVAL, 0);
    expect(semctl(id, 2, GETVAL)).toBe(0);
  });

  it('SETALL and GETALL read and write every semaphore', () => {
    const id = newSet(4);
    semctl(id, 0, SETALL, [1, 2, 32767, 0]);
    expect(semctl(id, 0, GETALL)).toEqual([1, 2, 32767, 0]);
    expect(semctl(id, 3, GETVAL)).toBe(0);
    expect(semctl(id, 2, GETVAL)).toBe(32767);
  });

  it('SETALL needs exactly one value per semaphore (the kernel would read past a shorter array)', () => {
    const id = newSet(3);
    expect(() => semctl(id, 0, SETALL, [1, 2])).toThrow(/exactly one value per semaphore: semaphore set \d+ has 3, got 2/);
    expect(() => semctl(id, 0, SETALL, [1, 2, 3, 4])).toThrow(RangeError);
    expect(semctl(id, 0, GETALL)).toEqual([0, 0, 0]);
  });

  it('GETPID is the last process that operated on a semaphore (0 before any)', async () => {
    const id = newSet(2);
    expect(semctl(id, 0, GETPID)).toBe(0);
    semop(id, [{ sem_num: 1, sem_op: 1 }]);
    expect(semctl(id, 1, GETPID)).toBe(process.pid);
    const child = recordProgram(fixture('sem-op'), [id, 0, 1, 0]);
    await child.exit;
    expect(semctl(id, 0, GETPID)).toBe(child.child.pid);
  });

  it('GETNCNT and GETZCNT count the processes waiting for an increase and for zero', async () => {
    const id = newSet(2);
    semctl(id, 1, SETVAL, 1);
    const decrement = recordProgram(fixture('sem-op'), [id, 0, -1, 0]);
    const zero = recordProgram(fixture('sem-op'), [id, 1, 0, 0]);
    await until(() => semctl(id, 0, GETNCNT) === 1 && semctl(id, 1, GETZCNT) === 1, 'both children wait');
    expect(semctl(id, 0, GETZCNT)).toBe(0);
    expect(semctl(id, 1, GETNCNT)).toBe(0);
    semctl(id, 0, SETALL, [1, 0]);
    await Promise.all([decrement.exit, zero.exit]);
    expect([semctl(id, 0, GETNCNT), semctl(id, 1, GETZCNT)]).toEqual([0, 0]);
  });

  it('IPC_STAT decodes semid_ds, matching /proc/sysvipc/sem; otime is set by semop, not by SETVAL', () => {
    const key = uniqueKey();
    const id = removeSemAfterTest(semget(key, 5, IPC_CREAT | 0o640));
    semctl(id, 0, SETVAL, 1);
    const before = semctl(id, 0, IPC_STAT);
    const row = procSysvRow('sem', id)!;
    expect(before.perm).toMatchObject({ key, uid: row.uid, gid: row.gid, cuid: row.cuid, cgid: row.cgid, mode: 0o640 });
    expect(before).toMatchObject({ nsems: 5, otime: 0, ctime: row.ctime });
    semop(id, [{ sem_num: 0, sem_op: -1 }]);
    const after = semctl(id, 0, IPC_STAT);
    expect(after.otime).toBeGreaterThanOrEqual(after.ctime);
    expect(after.otime).toBe(procSysvRow('sem', id)!.otime);
  });

  it('IPC_SET changes the mode, keeping uid and gid; and the owner, keeping the mode', () => {
    const id = newSet(1);
    semctl(id, 0, IPC_SET, { perm: { mode: 0o644 } });
    expect(semctl(id, 0, IPC_STAT).perm).toMatchObject({ mode: 0o644, uid: process.getuid!(), gid: process.getgid!() });
    semctl(id, 0, IPC_SET, { perm: { uid: 4_000_000_000, gid: 65534 } });
    const ds = semctl(id, 0, IPC_STAT);
    expect(ds.perm).toMatchObject({ uid: 4_000_000_000, gid: 65534, mode: 0o644, cuid: process.getuid!() });
    expect(procSysvRow('sem', id)!.uid).toBe(4_000_000_000);
  });

  it('IPC_SET rejects bad patches before any syscall', () => {
    const id = newSet(1);
    expect(() => semctl(id, 0, IPC_SET, undefined as never)).toThrow(TypeError);
    expect(() => semctl(id, 0, IPC_SET, { perm: { mode: 0o1777 } })).toThrow(RangeError);
    expect(() => semctl(id, 0, IPC_SET, { perm: { uid: -1 } })).toThrow(RangeError);
    expect(() => semctl(id, 0, IPC_SET, { perm: { key: 5 } } as never)).toThrow(/only perm.uid/);
  });

  it('IPC_RMID removes the set; waiters are woken with EIDRM (semop.test.ts), and the id is EINVAL after', () => {
    const id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600);
    semctl(id, 0, IPC_RMID);
    expect(procSysvRow('sem', id)).toBeUndefined();
    expect(catchError(() => semctl(id, 0, GETVAL))).toMatchObject({ code: 'EINVAL', semid: id });
    expect(catchError(() => semctl(id, 0, IPC_RMID)).code).toBe('EINVAL');
  });

  it('EINVAL for a semnum beyond the set, naming its size', () => {
    const id = newSet(2);
    const error = catchError(() => semctl(id, 2, GETVAL));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'semctl', semid: id });
    expect(error.message).toContain(`has 2 semaphores: semnum must be 0..1, got 2`);
  });

  it('IPC_INFO reports the limits of /proc/sys/kernel/sem', () => {
    const [semmsl, semmns, semopm, semmni] = kernelSem();
    const info = semctl(0, 0, IPC_INFO);
    expect(info).toMatchObject({ semmsl, semmns, semopm, semmni, semvmx: 32767, semaem: 32767 });
    expect(info.highestIndex).toBeGreaterThanOrEqual(0);
  });

  it('SEM_INFO counts the sets (semusz) and semaphores (semaem) in use', () => {
    newSet(3);
    newSet(2);
    const rows = readFileSync('/proc/sysvipc/sem', 'utf8').trim().split('\n').slice(1);
    const semaphores = rows.reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[3]), 0);
    const info = semctl(0, 0, SEM_INFO);
    expect(info.semusz).toBe(rows.length);
    expect(info.semaem).toBe(semaphores);
  });

  it.for([
    ['SEM_STAT', SEM_STAT],
    ['SEM_STAT_ANY', SEM_STAT_ANY],
  ] as const)('%s walks the kernel array up to SEM_INFO.highestIndex and finds every set', ([, command], ctx) => {
    if (command === SEM_STAT_ANY) skipIfEmulated(ctx, 'qemu-user (7.2) does not know SEM_STAT_ANY (Linux 4.17) and answers EINVAL itself');
    const id = newSet(4);
    const { highestIndex } = semctl(0, 0, SEM_INFO);
    const found = new Map<number, number>();
    for (let index = 0; index <= highestIndex; index++) {
      try {
        const entry = semctl(index, 0, command);
        found.set(entry.semid, entry.nsems);
      } catch (error) {
        expect((error as { code: string }).code).toBe('EINVAL'); // an unused slot
      }
    }
    expect(found.get(id)).toBe(4);
    const unused = catchError(() => semctl(highestIndex + 1, 0, command));
    expect(unused.code).toBe('EINVAL');
    expect(unused.message).toContain('is unused');
  });

  it('rejects an unknown command, bad ids and semnums before any syscall', () => {
    expect(() => semctl(0, 0, 999 as never)).toThrow(/not a semctl command/);
    expect(() => semctl(-1, 0, IPC_STAT)).toThrow(RangeError);
    expect(() => semctl(Number.NaN, 0, IPC_STAT)).toThrow(RangeError);
    expect(() => semctl(0, -1, GETVAL)).toThrow(RangeError);
    expect(() => semctl('1' as never, 0, GETVAL)).toThrow(TypeError);
  });
});

describe('semaphore sets and permissions (a child that drops to uid 65534)', () => {
  it('a set that root owns with mode 0600: EACCES for use, EPERM for change and removal, naming mode and owner', () => {
    const semKey = uniqueKey();
    const msgKey = uniqueKey() ^ 0x800;
    const semid = removeSemAfterTest(semget(semKey, 1, IPC_CREAT | 0o600));
    const msqid = removeMsgAfterTest(msgget(msgKey, IPC_CREAT | 0o600));
    const result = runProgram(fixture('nobody-sem-msg'), [semid, msqid, semKey, msgKey]);
    expect(result.stderr).toBe('');
    const r = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    for (const name of ['semget', 'semop', 'getval', 'semStat']) expect(r[name].code, name).toBe('EACCES');
    expect(r.semget.message).toContain('mode 0600, owner uid 0');
    expect(r.semop.message).toContain(`emaphore set ${semid} has mode 0600, owner uid 0`);
    expect(r.semSet).toMatchObject({ code: 'EPERM', syscall: 'semctl' });
    expect(r.semRm.code).toBe('EPERM');
    expect(r.semSet.message).toContain('owner');
    for (const name of ['msgget', 'msgsnd', 'msgrcv', 'msgStat']) expect(r[name].code, name).toBe('EACCES');
    expect(r.msgsnd.message).toContain(`essage queue ${msqid} has mode 0600, owner uid 0`);
    expect(r.msgSet).toMatchObject({ code: 'EPERM', syscall: 'msgctl' });
    expect(r.msgRm.code).toBe('EPERM');
    expect(semctl(semid, 0, GETVAL)).toBe(0);
  });

  it('an owner that cannot read changes only the mode (the rest from *_STAT_ANY); SETALL with alter permission only', (ctx) => {
    skipIfEmulated(ctx, 'qemu-user (7.2) does not know SEM_STAT_ANY / MSG_STAT_ANY (Linux 4.17)');
    const semid = newSet(1, 0);
    semctl(semid, 0, IPC_SET, { perm: { uid: 65534, gid: 65534 } });
    const msqid = removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT));
    msgctl(msqid, IPC_SET, { perm: { uid: 65534, gid: 65534 }, qbytes: 4096 });
    const semid2 = newSet(2, 0o602);
    const result = runProgram(fixture('nobody-sem-msg-owner'), [semid, msqid, semid2]);
    expect(result.stderr).toBe('');
    const r = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(r.semStatBefore.code).toBe('EACCES');
    expect(r).toMatchObject({
      semSet: 'ok',
      msgSet: 'ok',
      sem: { uid: 65534, mode: 0o640 },
      msg: { uid: 65534, mode: 0o640, qbytes: 4096 },
      setall: 'ok',
      getall: { code: 'EACCES' },
    });
    expect(semctl(semid2, 0, GETALL)).toEqual([3, 4]);
  });
});
