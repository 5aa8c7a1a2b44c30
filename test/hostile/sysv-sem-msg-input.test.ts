// Hostile input to the C layer of semaphores and message queues: wrong types, NaN, fractions, values beyond the C
// types (unsigned short, short, a 32-bit long), huge arrays and sizes. Each is a clear TypeError or RangeError
// before any syscall, or the kernel's answer as a ShmError with advice; nothing crashes, nothing is changed.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  GETALL,
  GETVAL,
  IPC_CREAT,
  IPC_NOWAIT,
  IPC_PRIVATE,
  IPC_SET,
  IPC_STAT,
  MSG_COPY,
  MSG_EXCEPT,
  SETALL,
  SETVAL,
  ShmError,
  getAbi,
  msgctl,
  msgget,
  msgrcv,
  msgsnd,
  semctl,
  semget,
  semop,
  semtimedop,
} from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { removeMsgAfterTest, removeSemAfterTest } from '../support/sysv-objects.js';

const semopm = () => Number(readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/)[2]);
const longBits = () => BigInt(8 * getAbi().sizeof.long);

function newSet(nsems = 2): number {
  return removeSemAfterTest(semget(IPC_PRIVATE, nsems, IPC_CREAT | 0o600));
}

function newQueue(): number {
  return removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600));
}

describe('hostile sembuf arrays', () => {
  it.each([
    ['not an array', 'nope', TypeError],
    ['null', null, TypeError],
    ['an array-like object', { length: 1, 0: { sem_num: 0, sem_op: 1 } }, TypeError],
    ['an empty array', [], RangeError],
    ['a non-object element', [5], TypeError],
    ['a null element', [null], TypeError],
    ['a missing sem_num', [{ sem_op: 1 }], TypeError],
    ['a string sem_num', [{ sem_num: '0', sem_op: 1 }], TypeError],
    ['a NaN sem_num', [{ sem_num: Number.NaN, sem_op: 1 }], RangeError],
    ['a fractional sem_num', [{ sem_num: 0.5, sem_op: 1 }], RangeError],
    ['sem_num 65536 (beyond an unsigned short)', [{ sem_num: 65536, sem_op: 1 }], RangeError],
    ['a negative sem_num', [{ sem_num: -1, sem_op: 1 }], RangeError],
    ['sem_op 32768 (beyond a short)', [{ sem_num: 0, sem_op: 32768 }], RangeError],
    ['sem_op -32769', [{ sem_num: 0, sem_op: -32769 }], RangeError],
    ['sem_op Infinity', [{ sem_num: 0, sem_op: Infinity }], RangeError],
    ['a bigint sem_op', [{ sem_num: 0, sem_op: 1n }], TypeError],
    ['sem_flg 2^31', [{ sem_num: 0, sem_op: 1, sem_flg: 2 ** 31 }], RangeError],
    [
      'a bad element after good ones',
      [
        { sem_num: 0, sem_op: 1 },
        { sem_num: 0, sem_op: 1 },
        { sem_num: 1e9, sem_op: 1 },
      ],
      RangeError,
    ],
  ] as const)('%s: %s', (_what, sops, kind) => {
    const id = newSet();
    expect(() => semop(id, sops as never)).toThrow(kind);
    expect(() => semtimedop(id, sops as never, 10)).toThrow(kind);
    expect(semctl(id, 0, GETALL)).toEqual([0, 0]); // nothing was done
  });

  it('more operations than SEMOPM is E2BIG naming the limit, found before each element is looked at', () => {
    const id = newSet();
    const limit = semopm();
    const error = catchError(() =>
      semop(
        id,
        Array.from({ length: limit + 1 }, () => ({ sem_num: 0, sem_op: 1 })),
      ),
    );
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'E2BIG', syscall: 'semop', semid: id });
    expect(error.message).toContain(`at most SEMOPM (${limit}`);
    expect(error.message).toContain(`not ${limit + 1}`);
    // A huge sparse array: the same answer at once, without walking ten million holes.
    const huge = new Array(10_000_000);
    expect(catchError(() => semop(id, huge)).code).toBe('E2BIG');
    expect(semctl(id, 0, GETVAL)).toBe(0);
  });

  it('exactly SEMOPM operations are done', () => {
    const id = newSet();
    semop(
      id,
      Array.from({ length: semopm() }, () => ({ sem_num: 1, sem_op: 1 })),
    );
    expect(semctl(id, 1, GETVAL)).toBe(semopm());
  });

  it('bad semtimedop timeouts', () => {
    const id = newSet();
    const op = [{ sem_num: 0, sem_op: 1 }];
    expect(() => semtimedop(id, op, Number.NaN)).toThrow(RangeError);
    expect(() => semtimedop(id, op, -1)).toThrow(RangeError);
    expect(() => semtimedop(id, op, '10' as never)).toThrow(TypeError);
    semtimedop(id, op, 1e300); // beyond any time_t: no limit, as Infinity
    expect(semctl(id, 0, GETVAL)).toBe(1);
  });
});

describe('hostile semget and semctl arguments', () => {
  it('nsems negative, fractional, beyond an int; huge but an int is the kernel EINVAL naming SEMMSL', () => {
    expect(() => semget(IPC_PRIVATE, -1, IPC_CREAT)).toThrow(RangeError);
    expect(() => semget(IPC_PRIVATE, 1.5, IPC_CREAT)).toThrow(RangeError);
    expect(() => semget(IPC_PRIVATE, 2 ** 31, IPC_CREAT)).toThrow(RangeError);
    expect(() => semget(IPC_PRIVATE, '1' as never, IPC_CREAT)).toThrow(TypeError);
    const error = catchError(() => semget(IPC_PRIVATE, 2 ** 31 - 1, IPC_CREAT | 0o600));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'semget' });
    expect(error.message).toContain('SEMMSL');
  });

  it('semaphore values beyond SEMVMX (32767), negative, NaN; SETALL arrays of the wrong kind', () => {
    const id = newSet();
    for (const value of [32768, -1, Number.NaN, 1.5, 2 ** 53]) expect(() => semctl(id, 0, SETVAL, value)).toThrow(RangeError);
    expect(() => semctl(id, 0, SETVAL, '1' as never)).toThrow(TypeError);
    expect(() => semctl(id, 0, SETVAL, undefined as never)).toThrow(TypeError);
    expect(() => semctl(id, 0, SETALL, [1, 40000])).toThrow(/values\[1\] must be 0..32767/);
    expect(() => semctl(id, 0, SETALL, 'ab' as never)).toThrow(TypeError);
    expect(() => semctl(id, 0, SETALL, new Array(1_000_000).fill(0))).toThrow(RangeError);
    expect(semctl(id, 0, GETALL)).toEqual([0, 0]);
  });

  it('bad semids and semnums', () => {
    for (const semid of [-1, 2 ** 31, Number.NaN, 0.5]) expect(() => semop(semid, [{ sem_num: 0, sem_op: 1 }])).toThrow(RangeError);
    expect(() => semctl(0, 2 ** 31, GETVAL)).toThrow(RangeError);
    expect(() => semctl(5n as never, 0, IPC_STAT)).toThrow(TypeError);
  });
});

describe('hostile messages', () => {
  it('message types: 0, negative, fractional, NaN, unsafe numbers, beyond a C long of this target', () => {
    const id = newQueue();
    const max = (1n << (longBits() - 1n)) - 1n;
    for (const type of [0, -1, 0.5, Number.NaN, Infinity, 2 ** 53, 0n, -5n, max + 1n]) {
      expect(() => msgsnd(id, type, 'x'), String(type)).toThrow(RangeError);
    }
    expect(() => msgsnd(id, '1' as never, 'x')).toThrow(TypeError);
    if (longBits() === 32n) {
      expect(() => msgsnd(id, 2 ** 31, 'x')).toThrow(RangeError); // a 32-bit long: the kernel would see a negative type
    } else {
      msgsnd(id, 2 ** 31, 'x');
      expect(msgrcv(id, 8, 0).mtype).toBe(2 ** 31);
    }
    for (const type of [0.5, Number.NaN, max + 1n, -max - 2n]) expect(() => msgrcv(id, 8, type, IPC_NOWAIT), String(type)).toThrow(RangeError);
    expect(() => msgrcv(id, 8, null as never)).toThrow(TypeError);
    expect(msgctl(id, IPC_STAT).qnum).toBe(0);
  });

  it('msgrcv sizes: negative, fractional, 2^31 and beyond (no message can be larger than an int)', () => {
    const id = newQueue();
    for (const size of [-1, 0.5, Number.NaN, 2 ** 31, 2 ** 53, Infinity]) expect(() => msgrcv(id, size, 0, IPC_NOWAIT), String(size)).toThrow(RangeError);
    expect(() => msgrcv(id, '8' as never, 0)).toThrow(TypeError);
  });

  it('texts that are not bytes or strings; an oversize text is the kernel EINVAL naming MSGMAX', () => {
    const id = newQueue();
    for (const text of [5, null, undefined, [1, 2], new Uint16Array(2), new ArrayBuffer(4)]) expect(() => msgsnd(id, 1, text as never)).toThrow(TypeError);
    const msgmax = Number(readFileSync('/proc/sys/kernel/msgmax', 'utf8'));
    const error = catchError(() => msgsnd(id, 1, new Uint8Array(4 * msgmax)));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'msgsnd' });
    expect(error.message).toContain('MSGMAX');
    expect(msgctl(id, IPC_STAT).qnum).toBe(0);
  });

  it('MSG_COPY without IPC_NOWAIT, or with MSG_EXCEPT, is refused before the kernel would say EINVAL', () => {
    const id = newQueue();
    expect(() => msgrcv(id, 8, 0, MSG_COPY)).toThrow(/MSG_COPY needs IPC_NOWAIT/);
    expect(() => msgrcv(id, 8, 0, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT)).toThrow(/cannot be combined with MSG_EXCEPT/);
  });

  it('bad msqids and flags', () => {
    for (const msqid of [-1, 2 ** 31, Number.NaN]) expect(() => msgsnd(msqid, 1, 'x')).toThrow(RangeError);
    expect(() => msgrcv({} as never, 8, 0)).toThrow(TypeError);
    const id = newQueue();
    expect(() => msgsnd(id, 1, 'x', 2 ** 40)).toThrow(RangeError);
    expect(() => msgrcv(id, 8, 0, 'IPC_NOWAIT' as never)).toThrow(TypeError);
    expect(() => msgctl(id, IPC_SET, { qbytes: 2 ** 64 })).toThrow(RangeError);
  });
});
