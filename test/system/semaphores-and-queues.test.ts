// The system view of semaphore sets and message queues: listSemaphores(), listQueues(), the sem and msg groups of
// limits() and summary(), remove({ kind }), and the /proc readers under them; checked against IPC_STAT, the *_INFO
// commands, /proc/sys/kernel and the raw /proc/sysvipc files. (ipcs itself: test/peers/util-linux.test.ts.)
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  IPC_CREAT,
  IPC_EXCL,
  IPC_INFO,
  IPC_PRIVATE,
  IPC_SET,
  IPC_STAT,
  MSG_INFO,
  SEM_INFO,
  SETVAL,
  limits,
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
  summary,
  type MessageQueueEntry,
  type SemaphoreSetEntry,
} from '../../lib/index.js';
import { readKernelSemLimits, readProcMsg, readProcSem } from '../../lib/internal.js';
import { procSysvRow, removeMsgAfterTest, removeSemAfterTest, uniqueKey } from '../support/sysv-objects.js';
import { childResults } from '../support/segments.js';
import { runProgram } from '../support/child.js';
import { catchError } from '../support/errors.js';
import { sameValue } from '../support/ipcs.js';
import type { Outcome } from '../fixtures/system/nobody.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/system/${name}`, import.meta.url));
const seconds = (date: Date | null) => (date === null ? 0 : date.getTime() / 1000);

/** A few sets and queues, used and unused, one of each with a negative key_t. */
function objects() {
  const usedSet = removeSemAfterTest(semget(uniqueKey() | 0x8000_0000, 3, IPC_CREAT | IPC_EXCL | 0o640));
  semctl(usedSet, 2, SETVAL, 9);
  semop(usedSet, [{ sem_num: 0, sem_op: 1 }]);
  const idleSet = removeSemAfterTest(semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600));
  const usedQueue = removeMsgAfterTest(msgget(uniqueKey() | 0x8000_0000, IPC_CREAT | IPC_EXCL | 0o604));
  msgsnd(usedQueue, 1, 'one');
  msgsnd(usedQueue, 2, 'and two');
  msgrcv(usedQueue, 64, 1);
  msgctl(usedQueue, IPC_SET, { qbytes: 4000 });
  const idleQueue = removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600));
  return { usedSet, idleSet, usedQueue, idleQueue };
}

describe('listSemaphores() and listQueues()', () => {
  it('report every set and queue as IPC_STAT describes it', () => {
    const o = objects();
    for (const id of [o.usedSet, o.idleSet]) {
      const entry = listSemaphores().find((s) => s.id === id)!;
      const ds = semctl(id, 0, IPC_STAT);
      expect(entry).toEqual({
        id,
        key: ds.perm.key,
        keyHex: '0x' + (ds.perm.key >>> 0).toString(16).padStart(8, '0'),
        mode: ds.perm.mode & 0o777,
        uid: ds.perm.uid,
        gid: ds.perm.gid,
        cuid: ds.perm.cuid,
        cgid: ds.perm.cgid,
        count: ds.nsems,
        lastOperationTime: ds.otime === 0 ? null : new Date(ds.otime * 1000),
        lastChangeTime: new Date(ds.ctime * 1000),
      } satisfies SemaphoreSetEntry);
    }
    const used = listSemaphores().find((s) => s.id === o.usedSet)!;
    expect(used).toMatchObject({ count: 3, mode: 0o640 });
    expect(used.key).toBeLessThan(0);
    expect(used.keyHex).toMatch(/^0x[89a-f]/);
    expect(used.lastOperationTime).toBeInstanceOf(Date);
    expect(listSemaphores().find((s) => s.id === o.idleSet)).toMatchObject({ key: 0, keyHex: '0x00000000', count: 1, lastOperationTime: null });

    for (const id of [o.usedQueue, o.idleQueue]) {
      const entry = listQueues().find((q) => q.id === id)!;
      const ds = msgctl(id, IPC_STAT);
      expect(entry).toEqual({
        id,
        key: ds.perm.key,
        keyHex: '0x' + (ds.perm.key >>> 0).toString(16).padStart(8, '0'),
        mode: ds.perm.mode & 0o777,
        uid: ds.perm.uid,
        gid: ds.perm.gid,
        cuid: ds.perm.cuid,
        cgid: ds.perm.cgid,
        messages: ds.qnum,
        bytes: ds.cbytes,
        maxBytes: ds.qbytes,
        lastSendPid: ds.lspid,
        lastReceivePid: ds.lrpid,
        lastSendTime: ds.stime === 0 ? null : new Date(ds.stime * 1000),
        lastReceiveTime: ds.rtime === 0 ? null : new Date(ds.rtime * 1000),
        lastChangeTime: new Date(ds.ctime * 1000),
      } satisfies MessageQueueEntry);
    }
    expect(listQueues().find((q) => q.id === o.usedQueue)).toMatchObject({
      messages: 1,
      bytes: 7,
      maxBytes: 4000,
      lastSendPid: process.pid,
      lastReceivePid: process.pid,
      mode: 0o604,
    });
    expect(listQueues().find((q) => q.id === o.idleQueue)).toMatchObject({ messages: 0, bytes: 0, lastSendTime: null, lastReceiveTime: null, lastSendPid: 0 });
  });

  it('agree with the raw /proc/sysvipc rows, and the SEM_STAT_ANY / MSG_STAT_ANY walk agrees with /proc', () => {
    const o = objects();
    const semRow = procSysvRow('sem', o.usedSet)!;
    const set = listSemaphores({ source: 'proc' }).find((s) => s.id === o.usedSet)!;
    expect([set.key, set.mode, set.count, set.uid, set.gid, set.cuid, set.cgid, seconds(set.lastOperationTime), seconds(set.lastChangeTime)]).toEqual([
      semRow.key,
      semRow.perms,
      semRow.nsems,
      semRow.uid,
      semRow.gid,
      semRow.cuid,
      semRow.cgid,
      semRow.otime,
      semRow.ctime,
    ]);
    const msgRow = procSysvRow('msg', o.usedQueue)!;
    const queue = listQueues({ source: 'proc' }).find((q) => q.id === o.usedQueue)!;
    expect([
      queue.key,
      queue.mode,
      queue.bytes,
      queue.messages,
      queue.lastSendPid,
      queue.lastReceivePid,
      seconds(queue.lastSendTime),
      seconds(queue.lastReceiveTime),
    ]).toEqual([msgRow.key, msgRow.perms, msgRow.cbytes, msgRow.qnum, msgRow.lspid, msgRow.lrpid, msgRow.stime, msgRow.rtime]);
    // The walk (what ipcs does without /proc) finds the same, in the same order; other processes may change the
    // system meanwhile, so compared when two /proc readings around it agree.
    for (const [read, walk] of [
      [() => listSemaphores({ source: 'proc' }), () => listSemaphores({ source: 'semctl' })],
      [() => listQueues({ source: 'proc' }), () => listQueues({ source: 'msgctl' })],
    ] as const) {
      let compared = false;
      for (let attempt = 0; attempt < 10 && !compared; attempt++) {
        const before = read();
        const walked = walk();
        if (!sameValue(before, read())) continue;
        expect(walked).toEqual(before);
        compared = true;
      }
      expect(compared, 'the lists kept changing').toBe(true);
    }
    // Sorted by id; order: 'kernel' is the /proc order.
    const ids = listQueues().map((q) => q.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(listQueues({ order: 'kernel' }).map((q) => q.id)).toEqual((readProcMsg() ?? []).map((row) => row.msqid));
    expect(listSemaphores({ order: 'kernel' }).map((s) => s.id)).toEqual((readProcSem() ?? []).map((row) => row.semid));
  });

  it('need no permission, as ipcs: nobody sees a 0600 queue of root, without maxBytes (IPC_STAT is refused)', () => {
    const closed = removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600));
    const readable = removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o604));
    removeSemAfterTest(semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600));
    const results = childResults<Record<string, Outcome>>(runProgram(fixture('nobody-lists-queues.ts'), [closed, readable]));
    expect(results.whoami).toEqual({ ok: [65534, 65534, [65534]] });
    const seen = (results.queues as { ok: Array<Record<string, unknown>> }).ok;
    expect(seen.map((q) => q.id).sort()).toEqual([closed, readable].sort());
    const closedEntry = seen.find((q) => q.id === closed)!;
    expect(closedEntry).toMatchObject({ mode: 0o600, uid: 0, messages: 0 });
    expect(closedEntry).not.toHaveProperty('maxBytes');
    expect(seen.find((q) => q.id === readable)).toMatchObject({ mode: 0o604, maxBytes: msgctl(readable, IPC_STAT).qbytes });
    expect((results.sets as { ok: number }).ok).toBeGreaterThanOrEqual(1);
  });

  it('reject a wrong source or order with a TypeError, before reading anything', () => {
    expect(() => listQueues({ source: 'shmctl' as never })).toThrow(TypeError);
    expect(() => listSemaphores({ source: 'msgctl' as never })).toThrow(TypeError);
    expect(() => listSemaphores({ order: 'random' as never })).toThrow(/order must be 'id' or 'kernel'/);
  });
});

describe('the /proc readers', () => {
  it("find columns by the header line's names (a kernel may add or move one), perms in octal, keys signed", () => {
    expect(readProcSem(fixture('proc-sysvipc-sem.txt'))).toEqual([
      { key: -12345678, semid: 0, mode: 0o640, nsems: 3, uid: 0, gid: 0, cuid: 0, cgid: 0, otime: 0, ctime: 1764600000 },
      { key: 1398345728, semid: 32769, mode: 0o600, nsems: 1, uid: 1000, gid: 100, cuid: 0, cgid: 0, otime: 1764600123, ctime: 1764600000 },
    ]);
    expect(readProcMsg(fixture('proc-sysvipc-msg-reordered.txt'))).toEqual([
      {
        key: 1398345729,
        msqid: 5,
        mode: 0o604,
        cbytes: 5005,
        qnum: 2,
        lspid: 123,
        lrpid: 0,
        uid: 1000,
        gid: 100,
        cuid: 0,
        cgid: 0,
        stime: 1764600123,
        rtime: 0,
        ctime: 1764600000,
      },
      { key: 0, msqid: 7, mode: 0o600, cbytes: 0, qnum: 0, lspid: 0, lrpid: 0, uid: 0, gid: 0, cuid: 0, cgid: 0, stime: 0, rtime: 0, ctime: 1764600001 },
    ]);
    expect(readProcSem('/nonexistent/sysvipc/sem')).toBeUndefined();
    expect(readProcMsg('/nonexistent/sysvipc/msg')).toBeUndefined();
  });

  it('readKernelSemLimits reads "semmsl semmns semopm semmni", and gives up on anything else', () => {
    expect(readKernelSemLimits(fixture('proc-kernel-sem.txt'))).toEqual({ semmsl: 32000, semmns: 1024000000, semopm: 500, semmni: 32000 });
    expect(readKernelSemLimits(fixture('proc-kernel-sem-short.txt'))).toBeUndefined();
    expect(readKernelSemLimits('/nonexistent/sem')).toBeUndefined();
    const [semmsl, semmns, semopm, semmni] = readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/).map(Number);
    expect(readKernelSemLimits()).toEqual({ semmsl, semmns, semopm, semmni });
  });
});

describe('limits() and summary() of semaphores and queues', () => {
  it("limits().sem and .msg are /proc/sys/kernel's, and IPC_INFO agrees", () => {
    const { sem, msg } = limits();
    const [semmsl, semmns, semopm, semmni] = readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/).map(Number);
    expect(sem).toEqual({ semmni, semmsl, semmns, semopm, semvmx: 32767, semaem: 32767, source: 'proc' });
    const semInfo = semctl(0, 0, IPC_INFO);
    expect([semInfo.semmni, semInfo.semmsl, semInfo.semmns, semInfo.semopm, semInfo.semvmx, semInfo.semaem]).toEqual([
      semmni,
      semmsl,
      semmns,
      semopm,
      32767,
      32767,
    ]);
    const tunable = (name: string) => Number(readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim());
    expect(msg).toEqual({ msgmni: tunable('msgmni'), msgmax: tunable('msgmax'), msgmnb: tunable('msgmnb'), source: 'proc' });
    const msgInfo = msgctl(0, IPC_INFO);
    expect([msgInfo.msgmni, msgInfo.msgmax, msgInfo.msgmnb]).toEqual([msg.msgmni, msg.msgmax, msg.msgmnb]);
    // The shared memory limits stay at the top level, as before.
    expect(typeof limits().shmmni).toBe('bigint');
  });

  it("summary().sem and .msg are SEM_INFO's and MSG_INFO's, and add up the lists", () => {
    objects();
    let compared = false;
    for (let attempt = 0; attempt < 20 && !compared; attempt++) {
      const before = summary();
      const [sets, queues] = [listSemaphores(), listQueues()];
      const after = summary();
      if (!sameValue(before, after) || !sameValue([sets, queues], [listSemaphores(), listQueues()])) continue;
      const [semInfo, msgInfo] = [semctl(0, 0, SEM_INFO), msgctl(0, MSG_INFO)];
      expect(before.sem).toEqual({ sets: semInfo.semusz, semaphores: semInfo.semaem });
      expect(before.msg).toEqual({ queues: msgInfo.msgpool, messages: msgInfo.msgmap, bytes: msgInfo.msgtql });
      expect(before.sem).toEqual({ sets: sets.length, semaphores: sets.reduce((n, s) => n + s.count, 0) });
      expect(before.msg).toEqual({
        queues: queues.length,
        messages: queues.reduce((n, q) => n + q.messages, 0),
        bytes: queues.reduce((n, q) => n + q.bytes, 0),
      });
      expect(before.sem.sets).toBeGreaterThanOrEqual(2);
      expect(before.msg.messages).toBeGreaterThanOrEqual(1);
      compared = true;
    }
    expect(compared, 'the system kept changing').toBe(true);
  });
});

describe('remove({ kind })', () => {
  it('removes a set or a queue by id or by key and returns its id', () => {
    const key = uniqueKey();
    const byKey = removeSemAfterTest(semget(key, 2, IPC_CREAT | IPC_EXCL | 0o600));
    const byId = removeSemAfterTest(semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600));
    const queueKey = uniqueKey() | 0x8000_0000;
    const queueByKey = removeMsgAfterTest(msgget(queueKey, IPC_CREAT | IPC_EXCL | 0o600));
    const queueById = removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o600));
    expect(remove({ kind: 'sem', key })).toBe(byKey);
    expect(remove({ kind: 'sem', id: byId })).toBe(byId);
    expect(remove({ kind: 'msg', key: queueKey >>> 0 })).toBe(queueByKey);
    expect(remove({ kind: 'msg', id: queueById })).toBe(queueById);
    for (const id of [byKey, byId]) expect(procSysvRow('sem', id)).toBeUndefined();
    for (const id of [queueByKey, queueById]) expect(procSysvRow('msg', id)).toBeUndefined();
    // kind 'shm' is the default, as before.
    expect(catchError(() => remove({ id: byId }))).toMatchObject({ code: 'EINVAL', syscall: 'shmctl' });
  });

  it('fails as the kernel does on a missing one (ShmError), and on misuse before any call (TypeError, RangeError)', () => {
    expect(catchError(() => remove({ kind: 'sem', id: 2 ** 31 - 2 }))).toMatchObject({ code: 'EINVAL', syscall: 'semctl' });
    expect(catchError(() => remove({ kind: 'msg', id: 2 ** 31 - 2 }))).toMatchObject({ code: 'EINVAL', syscall: 'msgctl' });
    const missing = uniqueKey();
    expect(catchError(() => remove({ kind: 'sem', key: missing }))).toMatchObject({ code: 'ENOENT', syscall: 'semget' });
    expect(catchError(() => remove({ kind: 'msg', key: missing }))).toMatchObject({ code: 'ENOENT', syscall: 'msgget' });
    expect(() => remove({ kind: 'queue' as never, id: 1 })).toThrow(TypeError);
    expect(() => remove({ kind: 'sem', id: -1 })).toThrow(RangeError);
    expect(() => remove({ kind: 'msg', id: 1.5 })).toThrow(RangeError);
    expect(() => remove({ kind: 'msg', key: 2 ** 32 })).toThrow(RangeError);
    expect(() => remove({ kind: 'sem' } as never)).toThrow(TypeError);
    expect(() => remove(null as never)).toThrow(TypeError);
  });
});
