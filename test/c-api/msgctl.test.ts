// msgctl, command by command.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  IPC_CREAT,
  IPC_INFO,
  IPC_NOWAIT,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  MSG_INFO,
  MSG_STAT,
  MSG_STAT_ANY,
  msgctl,
  msgget,
  msgrcv,
  msgsnd,
} from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { procSysvRow, removeMsgAfterTest, uniqueKey } from '../support/sysv-objects.js';
import { lrpidAsSeen, skipIfEmulated } from '../support/emulation.js';

const CAP_SYS_RESOURCE = 24;
/** Whether this process has a capability in its effective set (/proc/self/status CapEff). */
const hasCapability = (bit: number) =>
  ((BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`) >> BigInt(bit)) & 1n) === 1n;

const kernel = (name: string) => Number(readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim());

function newQueue(mode = 0o600): number {
  return removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | mode));
}

describe('msgctl', () => {
  it('IPC_STAT decodes msqid_ds, matching /proc/sysvipc/msg', () => {
    const key = uniqueKey();
    const id = removeMsgAfterTest(msgget(key, IPC_CREAT | 0o640));
    const empty = msgctl(id, IPC_STAT);
    expect(empty).toMatchObject({ stime: 0, rtime: 0, qnum: 0, cbytes: 0, lspid: 0, lrpid: 0, qbytes: kernel('msgmnb') });
    msgsnd(id, 1, 'abc');
    msgsnd(id, 2, 'defgh');
    msgrcv(id, 16, 2);
    const ds = msgctl(id, IPC_STAT);
    const row = procSysvRow('msg', id)!;
    expect(ds.perm).toMatchObject({ key, uid: row.uid, gid: row.gid, cuid: row.cuid, cgid: row.cgid, mode: 0o640 });
    expect(ds).toMatchObject({ qnum: 1, cbytes: 3, lspid: process.pid, lrpid: lrpidAsSeen(process.pid), stime: row.stime, rtime: row.rtime, ctime: row.ctime });
    expect(ds.stime).toBeGreaterThan(0);
  });

  it('IPC_SET changes qbytes alone, keeping the mode; and the mode alone, keeping qbytes', () => {
    const id = newQueue();
    msgctl(id, IPC_SET, { qbytes: 100 });
    expect(msgctl(id, IPC_STAT)).toMatchObject({ qbytes: 100, perm: { mode: 0o600, uid: process.getuid!() } });
    msgctl(id, IPC_SET, { perm: { mode: 0o644 } });
    expect(msgctl(id, IPC_STAT)).toMatchObject({ qbytes: 100, perm: { mode: 0o644 } });
    msgctl(id, IPC_SET, { perm: { uid: 4_000_000_000, gid: 65534 }, qbytes: 200 });
    expect(msgctl(id, IPC_STAT)).toMatchObject({ qbytes: 200, perm: { uid: 4_000_000_000, gid: 65534, mode: 0o644 } });
  });

  it('a smaller qbytes limits what the queue holds; above MSGMNB needs CAP_SYS_RESOURCE (EPERM, naming it, without)', () => {
    const id = newQueue();
    msgctl(id, IPC_SET, { qbytes: 10 });
    msgsnd(id, 1, new Uint8Array(10));
    expect(catchError(() => msgsnd(id, 1, new Uint8Array(1), IPC_NOWAIT)).code).toBe('EAGAIN');
    const above = kernel('msgmnb') * 4;
    if (hasCapability(CAP_SYS_RESOURCE)) {
      msgctl(id, IPC_SET, { qbytes: above });
      expect(msgctl(id, IPC_STAT).qbytes).toBe(above);
    } else {
      const error = catchError(() => msgctl(id, IPC_SET, { qbytes: above }));
      expect(error).toMatchObject({ code: 'EPERM', syscall: 'msgctl', msqid: id });
      expect(error.message).toContain(`above MSGMNB (${kernel('msgmnb')}, /proc/sys/kernel/msgmnb) needs CAP_SYS_RESOURCE`);
      expect(msgctl(id, IPC_STAT).qbytes).toBe(10);
    }
  });

  it('IPC_SET rejects bad patches before any syscall', () => {
    const id = newQueue();
    expect(() => msgctl(id, IPC_SET, undefined as never)).toThrow(TypeError);
    expect(() => msgctl(id, IPC_SET, { qbytes: -1 })).toThrow(RangeError);
    expect(() => msgctl(id, IPC_SET, { qbytes: 1.5 })).toThrow(RangeError);
    expect(() => msgctl(id, IPC_SET, { perm: { mode: 0o1000 } })).toThrow(RangeError);
    expect(() => msgctl(id, IPC_SET, { cbytes: 5 } as never)).toThrow(/only perm.uid, perm.gid, perm.mode and qbytes/);
    expect(msgctl(id, IPC_STAT).qbytes).toBe(kernel('msgmnb'));
  });

  it('qbytes is at most 2^31 - 1 on every target: the kernel hands it on as an int (2^32 would be 0, 2^32 + 100 be 100)', () => {
    const id = newQueue();
    for (const qbytes of [2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 100]) {
      expect(() => msgctl(id, IPC_SET, { qbytes })).toThrow(RangeError);
    }
    expect(msgctl(id, IPC_STAT).qbytes).toBe(kernel('msgmnb'));
    if (hasCapability(CAP_SYS_RESOURCE)) {
      msgctl(id, IPC_SET, { qbytes: 2 ** 31 - 1 });
      expect(msgctl(id, IPC_STAT).qbytes).toBe(2 ** 31 - 1);
    }
  });

  it('IPC_RMID removes the queue with its messages', () => {
    const id = msgget(IPC_PRIVATE, IPC_CREAT | 0o600);
    msgsnd(id, 1, 'gone');
    msgctl(id, IPC_RMID);
    expect(procSysvRow('msg', id)).toBeUndefined();
    expect(catchError(() => msgctl(id, IPC_RMID))).toMatchObject({ code: 'EINVAL', msqid: id });
  });

  it('IPC_INFO reports the limits of /proc/sys/kernel (msgmax, msgmnb, msgmni)', () => {
    const info = msgctl(0, IPC_INFO);
    expect(info).toMatchObject({ msgmax: kernel('msgmax'), msgmnb: kernel('msgmnb'), msgmni: kernel('msgmni') });
    expect(info.highestIndex).toBeGreaterThanOrEqual(0);
  });

  it('MSG_INFO counts the queues (msgpool), messages (msgmap) and bytes (msgtql) in use', () => {
    const a = newQueue();
    const b = newQueue();
    msgsnd(a, 1, 'xx');
    msgsnd(b, 1, 'yyy');
    msgsnd(b, 1, 'z');
    const rows = readFileSync('/proc/sysvipc/msg', 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/).map(Number));
    const info = msgctl(0, MSG_INFO);
    expect(info.msgpool).toBe(rows.length);
    expect(info.msgmap).toBe(rows.reduce((sum, row) => sum + row[4], 0));
    expect(info.msgtql).toBe(rows.reduce((sum, row) => sum + row[3], 0));
  });

  it.for([
    ['MSG_STAT', MSG_STAT],
    ['MSG_STAT_ANY', MSG_STAT_ANY],
  ] as const)('%s walks the kernel array up to MSG_INFO.highestIndex and finds every queue', ([, command], ctx) => {
    if (command === MSG_STAT_ANY) skipIfEmulated(ctx, 'qemu-user (7.2) does not know MSG_STAT_ANY (Linux 4.17) and answers EINVAL itself');
    const id = newQueue();
    msgsnd(id, 1, 'one');
    const { highestIndex } = msgctl(0, MSG_INFO);
    const found = new Map<number, number>();
    for (let index = 0; index <= highestIndex; index++) {
      try {
        const entry = msgctl(index, command);
        found.set(entry.msqid, entry.qnum);
      } catch (error) {
        expect((error as { code: string }).code).toBe('EINVAL');
      }
    }
    expect(found.get(id)).toBe(1);
    expect(catchError(() => msgctl(highestIndex + 1, command)).message).toContain('is unused');
  });

  it('rejects an unknown command and bad ids before any syscall', () => {
    expect(() => msgctl(0, 999 as never)).toThrow(/not a msgctl command/);
    expect(() => msgctl(-1, IPC_STAT)).toThrow(RangeError);
    expect(() => msgctl(2 ** 31, IPC_STAT)).toThrow(RangeError);
    expect(() => msgctl(null as never, IPC_STAT)).toThrow(TypeError);
  });
});
