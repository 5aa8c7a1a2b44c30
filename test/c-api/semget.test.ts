import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GETALL, IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_RMID, IPC_STAT, semctl, semget } from '../../lib/index.js';
import { catchError } from '../support/errors.js';
import { procSysvRow, removeSemAfterTest, uniqueKey } from '../support/sysv-objects.js';
import { ROOT } from '../support/child.js';

describe('semget', () => {
  it('creates a private set of n semaphores, all 0, with the mode asked for', () => {
    const id = removeSemAfterTest(semget(IPC_PRIVATE, 3, IPC_CREAT | 0o640));
    expect(semctl(id, 0, GETALL)).toEqual([0, 0, 0]);
    expect(procSysvRow('sem', id)).toMatchObject({ key: 0, semid: id, perms: 0o640, nsems: 3, uid: process.getuid!() });
  });

  it('creates by key, opens the same set by key (nsems 0 or at most its own), and IPC_EXCL refuses a second creation', () => {
    const key = uniqueKey();
    const id = removeSemAfterTest(semget(key, 2, IPC_CREAT | IPC_EXCL | 0o600));
    expect(semget(key, 0, 0)).toBe(id);
    expect(semget(key, 2, IPC_CREAT | 0o600)).toBe(id);
    expect(semget(key >>> 0, 1, 0)).toBe(id); // the key unsigned, as ipcs prints it
    const error = catchError(() => semget(key, 2, IPC_CREAT | IPC_EXCL | 0o600));
    expect(error).toMatchObject({ code: 'EEXIST', syscall: 'semget', key });
    expect(error.message).toContain(`semid ${id}, 2 semaphores`);
    expect(error.message).toMatch(/ipcrm -S 0x[0-9a-f]{8}/);
  });

  it('ENOENT for a key nobody created, with the way to list the sets', () => {
    const error = catchError(() => semget(uniqueKey(), 1, 0o600));
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'semget' });
    expect(error.message).toContain('ipcs -s');
  });

  it('EINVAL when asking an existing set for more semaphores than it has, naming its size', () => {
    const key = uniqueKey();
    const id = removeSemAfterTest(semget(key, 2, IPC_CREAT | 0o600));
    const error = catchError(() => semget(key, 5, 0o600));
    expect(error).toMatchObject({ code: 'EINVAL', errno: expect.any(Number), key });
    expect(error.message).toContain(`(semid ${id}) has only 2 semaphores`);
  });

  it('EINVAL above SEMMSL, naming the limit and where it is set', () => {
    const semmsl = Number(readFileSync('/proc/sys/kernel/sem', 'utf8').trim().split(/\s+/)[0]);
    const error = catchError(() => semget(IPC_PRIVATE, semmsl + 1, IPC_CREAT | 0o600));
    expect(error.code).toBe('EINVAL');
    expect(error.message).toContain(`above SEMMSL (${semmsl}`);
    expect(error.message).toContain('/proc/sys/kernel/sem');
  });

  it('a new set needs at least one semaphore', () => {
    const error = catchError(() => semget(uniqueKey(), 0, IPC_CREAT | 0o600));
    expect(error.code).toBe('EINVAL');
    expect(error.message).toContain('at least 1 semaphore');
  });

  it('IPC_RMID removes the set: its id is then EINVAL, and its row is gone', () => {
    const id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600);
    semctl(id, 0, IPC_RMID);
    expect(procSysvRow('sem', id)).toBeUndefined();
    const error = catchError(() => semctl(id, 0, IPC_STAT));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'semctl', semid: id });
    expect(error.message).toContain(`no semaphore set with id ${id}`);
  });

  it('ENOSPC at SEMMNI (and msgget at MSGMNI) names the limit (in an IPC namespace of its own, where the limits can be lowered)', (ctx) => {
    if (spawnSync('unshare', ['--ipc', 'true']).status !== 0) ctx.skip(true, 'unshare --ipc is not allowed here (it needs CAP_SYS_ADMIN)');
    const fixture = fileURLToPath(new URL('../fixtures/c-api/sysv-limits-in-own-namespace.ts', import.meta.url));
    const result = spawnSync('unshare', ['--ipc', '--', process.execPath, '--import', 'tsx', fixture], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).toBe('');
    const { sem, msg } = JSON.parse(/^results (.*)$/m.exec(result.stdout)![1]);
    expect(sem).toMatchObject({ code: 'ENOSPC', syscall: 'semget' });
    expect(sem.message).toContain('SEMMNI = 1');
    expect(sem.message).toContain('ipcrm -s');
    expect(msg).toMatchObject({ code: 'ENOSPC', syscall: 'msgget' });
    expect(msg.message).toContain('MSGMNI = 1');
  });
});
