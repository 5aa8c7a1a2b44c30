// Permission errors, seen from a child process that drops to an unprivileged uid (the suite runs as root,
// which bypasses the mode bits).
import { describe, expect, it } from 'vitest';
import { IPC_CREAT, IPC_PRIVATE, IPC_SET, shmctl, shmget } from '../../lib/index.js';
import { removeAfterTest } from '../support/segments.js';
import { runChild } from '../support/child.js';

const NOBODY = 65534;

function asNobody(body: string) {
  return runChild(`
    process.setgid(${NOBODY}); process.setuid(${NOBODY});
    import { shmat, shmdt, shmctl, shmget, IPC_STAT, IPC_SET, IPC_RMID, SHM_RDONLY } from LIB;
    const report = (fn) => { try { fn(); return 'ok'; } catch (e) { return { code: e.code, syscall: e.syscall, message: e.message }; } };
    ${body}
  `);
}

function lastJson(stdout: string) {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('permissions', () => {
  it('a segment created without mode bits is closed to an unprivileged creator; the message names the mode', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT));
    shmctl(id, IPC_SET, { perm: { uid: NOBODY, gid: NOBODY } }); // nobody owns it, mode 000
    const result = asNobody(`
      console.log(JSON.stringify({ attach: report(() => shmat(${id})), stat: report(() => shmctl(${id}, IPC_STAT)) }));
    `);
    expect(result.stderr).toBe('');
    const { attach, stat } = lastJson(result.stdout);
    expect(attach).toMatchObject({ code: 'EACCES', syscall: 'shmat' });
    expect(attach.message).toContain('mode 0000');
    expect(stat).toMatchObject({ code: 'EACCES', syscall: 'shmctl' });
  });

  it('mode 0444 allows a read-only attach only', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o444));
    const result = asNobody(`
      const rw = report(() => shmat(${id}));
      let ro;
      try { const a = shmat(${id}, null, SHM_RDONLY); ro = a.read(0, 4).length; shmdt(a); } catch (e) { ro = e.code; }
      console.log(JSON.stringify({ rw, ro }));
    `);
    const { rw, ro } = lastJson(result.stdout);
    expect(rw.code).toBe('EACCES');
    expect(rw.message).toMatch(/mode 0444, owner uid 0/);
    expect(rw.message).toContain('attach read-only');
    expect(ro).toBe(4);
  });

  it('IPC_SET and IPC_RMID by a non-owner fail with EPERM; an ownership change is seen by the new owner', () => {
    const id = removeAfterTest(shmget(IPC_PRIVATE, 64, IPC_CREAT | 0o666));
    const denied = lastJson(
      asNobody(`console.log(JSON.stringify({ set: report(() => shmctl(${id}, IPC_SET, { perm: { mode: 0o600 } })), rm: report(() => shmctl(${id}, IPC_RMID)) }));`).stdout,
    );
    expect(denied.set).toMatchObject({ code: 'EPERM', syscall: 'shmctl' });
    expect(denied.rm.code).toBe('EPERM');
    expect(denied.set.message).toContain('owner');

    shmctl(id, IPC_SET, { perm: { uid: NOBODY, gid: NOBODY, mode: 0o600 } });
    const owner = lastJson(
      asNobody(`const ds = shmctl(${id}, IPC_STAT); shmctl(${id}, IPC_SET, { perm: { mode: 0o640 } }); console.log(JSON.stringify({ uid: ds.perm.uid, mode: shmctl(${id}, IPC_STAT).perm.mode & 0o777 }));`).stdout,
    );
    expect(owner).toEqual({ uid: NOBODY, mode: 0o640 });
  });

  it('shmget of an existing key with more access than the mode allows fails with EACCES naming mode and owner', () => {
    const key = 0x5eed_0000 | (process.pid & 0xffff);
    removeAfterTest(shmget(key, 64, IPC_CREAT | 0o600));
    const result = asNobody(`console.log(JSON.stringify(report(() => shmget(${key}, 0, 0o600))));`);
    const error = lastJson(result.stdout);
    expect(error.code).toBe('EACCES');
    expect(error.message).toContain('mode 0600, owner uid 0');
  });
});
