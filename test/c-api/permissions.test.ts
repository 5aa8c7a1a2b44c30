// Permission errors, seen from a child process that drops to an unprivileged uid (the suite runs as root,
// which bypasses the mode bits).
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_PRIVATE, IPC_SET, shmctl, shmget } from '../../lib/index.js';
import { removeAfterTest } from '../support/segments.js';
import { runProgram } from '../support/child.js';

const NOBODY = 65534;

/** Runs test/fixtures/c-api/<name>.ts, which drops to nobody (uid and gid 65534) once the library is loaded. */
function asNobody(name: string, args: Array<string | number>) {
  return runProgram(fileURLToPath(new URL(`../fixtures/c-api/${name}.ts`, import.meta.url)), args);
}

function lastJson(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('permissions', () => {
  it('a segment created without mode bits is closed to an unprivileged creator; the message names the mode', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT));
    shmctl(id, IPC_SET, { perm: { uid: NOBODY, gid: NOBODY } }); // nobody owns it, mode 000
    const result = asNobody('nobody-attach-and-stat', [id]);
    expect(result.stderr).toBe('');
    const { attach, stat } = lastJson(result.stdout);
    expect(attach).toMatchObject({ code: 'EACCES', syscall: 'shmat' });
    expect(attach.message).toContain('mode 0000');
    expect(stat).toMatchObject({ code: 'EACCES', syscall: 'shmctl' });
  });

  it('mode 0444 allows a read-only attach only', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o444));
    const result = asNobody('nobody-attach-read-write-and-read-only', [id]);
    const { rw, ro } = lastJson(result.stdout);
    expect(rw.code).toBe('EACCES');
    expect(rw.message).toMatch(/mode 0444, owner uid 0/);
    expect(rw.message).toContain('attach read-only');
    expect(ro).toBe(4);
  });

  it('IPC_SET and IPC_RMID by a non-owner fail with EPERM; an ownership change is seen by the new owner', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o666));
    const denied = lastJson(asNobody('nobody-set-and-remove', [id]).stdout);
    expect(denied.set).toMatchObject({ code: 'EPERM', syscall: 'shmctl' });
    expect(denied.rm.code).toBe('EPERM');
    expect(denied.set.message).toContain('owner');

    shmctl(id, IPC_SET, { perm: { uid: NOBODY, gid: NOBODY, mode: 0o600 } });
    const owner = lastJson(asNobody('nobody-owner-chmod', [id]).stdout);
    expect(owner).toEqual({ uid: NOBODY, mode: 0o640 });
  });

  it('shmget of an existing key with more access than the mode allows fails with EACCES naming mode and owner', () => {
    const key = 0x5eed_0000 | (process.pid & 0xffff);
    removeAfterTest(shmget(key, 64, IPC_CREAT | 0o600));
    const result = asNobody('nobody-shmget', [key]);
    const error = lastJson(result.stdout);
    expect(error.code).toBe('EACCES');
    expect(error.message).toContain('mode 0600, owner uid 0');
  });
});
