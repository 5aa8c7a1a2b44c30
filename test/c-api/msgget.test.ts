import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_RMID, IPC_STAT, msgctl, msgget } from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { procSysvRow, removeMsgAfterTest, uniqueKey } from '../support/sysv-objects.js';

describe('msgget', () => {
  it('creates a private queue, empty, with the mode asked for and the default size limit (MSGMNB)', () => {
    const id = removeMsgAfterTest(msgget(IPC_PRIVATE, IPC_CREAT | 0o640));
    expect(procSysvRow('msg', id)).toMatchObject({ key: 0, msqid: id, perms: 0o640, qnum: 0, cbytes: 0, uid: process.getuid!() });
    expect(msgctl(id, IPC_STAT).qbytes).toBe(Number(readFileSync('/proc/sys/kernel/msgmnb', 'utf8')));
  });

  it('creates by key, opens the same queue by key, and IPC_EXCL refuses a second creation', () => {
    const key = uniqueKey();
    const id = removeMsgAfterTest(msgget(key, IPC_CREAT | IPC_EXCL | 0o600));
    expect(msgget(key, 0)).toBe(id);
    expect(msgget(key >>> 0, IPC_CREAT | 0o600)).toBe(id);
    const error = catchError(() => msgget(key, IPC_CREAT | IPC_EXCL | 0o600));
    expect(error).toMatchObject({ code: 'EEXIST', syscall: 'msgget', key });
    expect(error.message).toContain(`msqid ${id}, 0 messages`);
    expect(error.message).toMatch(/ipcrm -Q 0x[0-9a-f]{8}/);
  });

  it('ENOENT for a key nobody created, with the way to list the queues', () => {
    const error = catchError(() => msgget(uniqueKey(), 0o600));
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'msgget' });
    expect(error.message).toContain('ipcs -q');
  });

  it('IPC_RMID removes the queue: its id is then EINVAL', () => {
    const id = msgget(IPC_PRIVATE, IPC_CREAT | 0o600);
    msgctl(id, IPC_RMID);
    expect(procSysvRow('msg', id)).toBeUndefined();
    const error = catchError(() => msgctl(id, IPC_STAT));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'msgctl', msqid: id });
    expect(error.message).toContain(`no message queue with id ${id}`);
  });

  it('rejects bad keys and flags before any syscall', () => {
    expect(() => msgget(2 ** 32, 0)).toThrow(RangeError);
    expect(() => msgget(1.5, 0)).toThrow(RangeError);
    expect(() => msgget('1' as never, 0)).toThrow(TypeError);
    expect(() => msgget(IPC_PRIVATE, 2 ** 33)).toThrow(RangeError);
  });
});
