// semop and semtimedop: atomic operations, waiting (in slices, with signals looked at between them), timeouts,
// SEM_UNDO, and what a waiter sees when its set is removed.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  GETALL,
  GETNCNT,
  GETPID,
  GETVAL,
  GETZCNT,
  IPC_CREAT,
  IPC_NOWAIT,
  IPC_PRIVATE,
  IPC_RMID,
  SEM_UNDO,
  SETALL,
  SETVAL,
  msgget,
  semctl,
  semget,
  semop,
  semtimedop,
} from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { removeMsgAfterTest, removeSemAfterTest } from '../support/sysv-objects.js';
import { killChildren, recordProgram } from '../support/child.js';
import { procRow, removeAfterTest } from '../support/segments.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/c-api/${name}.ts`, import.meta.url));

afterEach(killChildren);

function newSet(nsems: number, values?: number[]): number {
  const id = removeSemAfterTest(semget(IPC_PRIVATE, nsems, IPC_CREAT | 0o600));
  if (values) semctl(id, 0, SETALL, values);
  return id;
}

/** Polls (asynchronously) until `check` holds; fails after 20 s, which only a broken test reaches. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('semop', () => {
  it('does each operation: decrement, increment, several semaphores at once', () => {
    const id = newSet(3, [2, 0, 5]);
    semop(id, [{ sem_num: 0, sem_op: -2 }]);
    semop(id, [
      { sem_num: 1, sem_op: 3 },
      { sem_num: 2, sem_op: -1, sem_flg: 0 },
    ]);
    expect(semctl(id, 0, GETALL)).toEqual([0, 3, 4]);
    expect(semctl(id, 2, GETPID)).toBe(process.pid);
  });

  it('is atomic: when one operation would wait under IPC_NOWAIT, none is done (EAGAIN)', () => {
    const id = newSet(2, [1, 0]);
    const error = catchError(() =>
      semop(id, [
        { sem_num: 0, sem_op: -1, sem_flg: IPC_NOWAIT },
        { sem_num: 1, sem_op: -1, sem_flg: IPC_NOWAIT },
      ]),
    );
    expect(error).toMatchObject({ code: 'EAGAIN', syscall: 'semop', semid: id });
    expect(error.message).toContain('IPC_NOWAIT would have had to wait (none was done)');
    expect(semctl(id, 0, GETALL)).toEqual([1, 0]);
  });

  it('sem_op 0 waits for zero; with IPC_NOWAIT on a nonzero semaphore it is EAGAIN', () => {
    const id = newSet(1, [0]);
    semop(id, [{ sem_num: 0, sem_op: 0 }]); // already zero: returns at once
    semctl(id, 0, SETVAL, 1);
    expect(catchError(() => semop(id, [{ sem_num: 0, sem_op: 0, sem_flg: IPC_NOWAIT }])).code).toBe('EAGAIN');
  });

  it('an IPC_NOWAIT operation that would wait is EAGAIN even beside operations that may wait', () => {
    const id = newSet(2, [0, 0]);
    // Operation 0 blocks first and has IPC_NOWAIT: C answers EAGAIN at once (semtimedop guards the test from hanging).
    const error = catchError(() =>
      semtimedop(
        id,
        [
          { sem_num: 0, sem_op: -1, sem_flg: IPC_NOWAIT },
          { sem_num: 1, sem_op: -1 },
        ],
        20_000,
      ),
    );
    expect(error.code).toBe('EAGAIN');
    expect(error.message).toContain('IPC_NOWAIT would have had to wait');
  });

  it('waits until another process makes the operation possible', async () => {
    const id = newSet(1, [0]);
    const child = recordProgram(fixture('sem-op'), [id, 0, -1, 0]);
    await until(() => semctl(id, 0, GETNCNT) === 1, 'the child waits');
    semctl(id, 0, SETVAL, 1);
    const end = await child.exit;
    expect(end.stdout).toContain('done');
    expect(semctl(id, 0, GETVAL)).toBe(0);
    expect(semctl(id, 0, GETPID)).toBe(child.child.pid);
  });

  it('a process waiting for zero counts in GETZCNT and returns when the semaphore reaches 0', async () => {
    const id = newSet(1, [2]);
    const child = recordProgram(fixture('sem-op'), [id, 0, 0, 0]);
    await until(() => semctl(id, 0, GETZCNT) === 1, 'the child waits for zero');
    semop(id, [{ sem_num: 0, sem_op: -2 }]);
    expect((await child.exit).stdout).toContain('done');
    expect(semctl(id, 0, GETZCNT)).toBe(0);
  });

  it('SEM_UNDO: a holder killed with SIGKILL gives its unit back; without SEM_UNDO it does not', async () => {
    for (const [mode, expected] of [
      ['undo', 1],
      ['no-undo', 0],
    ] as const) {
      const id = newSet(1, [1]);
      const child = recordProgram(fixture('sem-hold'), [id, mode]);
      await child.line(/^holding$/m);
      expect(semctl(id, 0, GETVAL)).toBe(0);
      child.child.kill('SIGKILL');
      expect((await child.exit).signal).toBe('SIGKILL');
      expect(semctl(id, 0, GETVAL)).toBe(expected);
    }
  });

  it('a waiter whose set is removed gets EIDRM, saying so', () => {
    const id = newSet(1, [0]);
    recordProgram(fixture('sem-remove-when-waited'), [id]); // removes the set once we wait
    // semtimedop rather than semop, so that a broken child fails the test instead of hanging it.
    const error = catchError(() => semtimedop(id, [{ sem_num: 0, sem_op: -1 }], 20_000));
    expect(error).toMatchObject({ code: 'EIDRM', syscall: 'semtimedop', semid: id });
    expect(error.message).toContain(`emaphore set ${id} was removed while this process waited`);
  });

  it('a signal that interrupts the sleep (EINTR) does not end the semop; the listener runs once it returns', async () => {
    const id = newSet(1, [0]);
    const child = recordProgram(fixture('sem-wait-through-signal'), [id]);
    await child.line(/^blocked$/m);
    await until(() => semctl(id, 0, GETNCNT) === 1, 'the child waits');
    for (let i = 0; i < 3; i++) {
      child.child.kill('SIGUSR1');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(semctl(id, 0, GETNCNT)).toBe(1); // still waiting
    semctl(id, 0, SETVAL, 1);
    const end = await child.exit;
    expect(end.stderr).toBe('');
    const results = JSON.parse(/^results (.*)$/m.exec(end.stdout)![1]);
    expect(results.error).toBeUndefined();
    expect(results.during).toBe(0); // the listener is the program's own: it waits for the event loop
    expect(results.after).toBeGreaterThanOrEqual(1);
  });

  it('EFBIG for a sem_num beyond the set, naming its size; ERANGE above SEMVMX', () => {
    const id = newSet(2);
    const efbig = catchError(() => semop(id, [{ sem_num: 5, sem_op: 1 }]));
    expect(efbig).toMatchObject({ code: 'EFBIG', semid: id });
    expect(efbig.message).toContain(`emaphore set ${id} has 2 semaphores (sem_num 0..1); sem_num 5 is beyond them`);
    semctl(id, 0, SETVAL, 32767);
    const erange = catchError(() => semop(id, [{ sem_num: 0, sem_op: 1 }]));
    expect(erange.code).toBe('ERANGE');
    expect(erange.message).toContain('SEMVMX (32767)');
  });

  it('many operations in one call (more than the kernel copies without allocating) are done at once', () => {
    const id = newSet(1);
    semop(
      id,
      Array.from({ length: 200 }, () => ({ sem_num: 0, sem_op: 1 })),
    );
    expect(semctl(id, 0, GETVAL)).toBe(200);
  });

  it('EINVAL for an id that is no set', () => {
    const id = newSet(1);
    semctl(id, 0, IPC_RMID);
    const error = catchError(() => semop(id, [{ sem_num: 0, sem_op: 1 }]));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'semop' });
    expect(error.message).toContain(`no semaphore set with id ${id}`);
  });
});

describe('semtimedop', () => {
  it('times out with EAGAIN after the timeout, having done nothing', () => {
    const id = newSet(1, [0]);
    const started = performance.now();
    const error = catchError(() => semtimedop(id, [{ sem_num: 0, sem_op: -1 }], 60));
    expect(performance.now() - started).toBeGreaterThanOrEqual(60); // the kernel's timer never ends a sleep early
    expect(error).toMatchObject({ code: 'EAGAIN', syscall: 'semtimedop', semid: id });
    expect(error.message).toContain('he timeout passed before the operations could be done');
    expect(semctl(id, 0, GETVAL)).toBe(0);
  });

  it('with IPC_NOWAIT on every operation it makes a plain semop(2), and its errors say semop', () => {
    const id = newSet(1, [0]);
    const ops = [{ sem_num: 0, sem_op: -1, sem_flg: IPC_NOWAIT }];
    const busy = catchError(() => semtimedop(id, ops, 20_000));
    expect(busy).toMatchObject({ code: 'EAGAIN', syscall: 'semop', semid: id });
    expect(busy.message).toContain(`semop(semid=${id}, [{0, -1, IPC_NOWAIT}])`);
    semctl(id, 0, IPC_RMID);
    const gone = catchError(() => semtimedop(id, ops, 20_000));
    expect(gone).toMatchObject({ code: 'EINVAL', syscall: 'semop', semid: id });
    expect(gone.message).toContain(`semop(semid=${id}, [{0, -1, IPC_NOWAIT}])`);
    expect(gone.message).not.toContain('semtimedop');
  });

  it('a timeout longer than one slice (250 ms) is still one timeout', () => {
    const id = newSet(1, [0]);
    const started = performance.now();
    expect(catchError(() => semtimedop(id, [{ sem_num: 0, sem_op: -1 }], 600)).code).toBe('EAGAIN');
    expect(performance.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('timeout 0 tries once; null waits without limit; an operation that can be done returns at once', async () => {
    const id = newSet(1, [1]);
    expect(catchError(() => semtimedop(id, [{ sem_num: 0, sem_op: -2 }], 0)).code).toBe('EAGAIN');
    semtimedop(id, [{ sem_num: 0, sem_op: -1 }], 0);
    semtimedop(id, [{ sem_num: 0, sem_op: 1 }], null);
    expect(semctl(id, 0, GETVAL)).toBe(1);
  });

  it('returns when another process makes the operation possible before the timeout', () => {
    const id = newSet(1, [0]);
    recordProgram(fixture('sem-op'), [id, 0, 1, 0]);
    semtimedop(id, [{ sem_num: 0, sem_op: -1, sem_flg: SEM_UNDO }], 20_000);
    expect(semctl(id, 0, GETVAL)).toBe(0);
  });
});

describe('a termination signal while blocked in a synchronous System V call', () => {
  for (const how of ['semop', 'msgrcv', 'msgsnd'] as const) {
    it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(`${how}(): %s ends the process by that signal, running the library's listeners`, async (signal) => {
      const target = how === 'semop' ? newSet(1, [0]) : removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600));
      const child = recordProgram(fixture('sysv-blocked'), [how, target]);
      const shmid = removeAfterTest(Number((await child.line(/^made (\d+)$/m))[1]));
      await child.line(new RegExp(`^blocked ${how}$`, 'm'));
      if (how === 'semop') await until(() => semctl(target, 0, GETNCNT) === 1, 'the child sleeps in the kernel');
      const sent = performance.now();
      child.child.kill(signal);
      const end = await child.exit;
      const latencyMs = performance.now() - sent;
      expect({ code: end.code, signal: end.signal, stderr: end.stderr }).toEqual({ code: null, signal, stderr: '' });
      expect(end.stdout).not.toContain('returned');
      expect(procRow(shmid)).toBeUndefined(); // removeOnExit's listener ran
      // The promise is one slice (250 ms) or one poll (10 ms); the bound is generous for a loaded machine.
      expect(latencyMs).toBeLessThan(5000);
    });
  }
});
