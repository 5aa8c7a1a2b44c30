// Permissions through the friendly layer, seen from a child that drops to nobody:nogroup (65534). The suite runs
// as root, which bypasses the mode bits, so every check of a denial happens in such a child.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';
import { readProcShm } from '../../lib/internal.js';
import { runProgram } from '../support/child.js';
import { childResults, procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import type { Outcome } from '../fixtures/system/nobody.js';

const NOBODY = 65534;

/**
 * Runs test/fixtures/system/nobody-<name>.ts, which drops to nobody:nogroup once the library is loaded (the
 * supplementary groups too: root's group 0 would otherwise still grant the group bits of root-owned segments),
 * and returns its results.
 */
function asNobody(name: string, args: Array<string | number>): Record<string, Outcome> {
  const results = childResults<Record<string, Outcome>>(runProgram(fileURLToPath(new URL(`../fixtures/system/nobody-${name}.ts`, import.meta.url)), args));
  expect(results.whoami).toEqual({ ok: [NOBODY, NOBODY, [NOBODY]] });
  return results;
}

const denied = (code: string, syscall: string) => expect.objectContaining({ code, syscall, isShmError: true });

describe('permissions (from a child running as nobody)', () => {
  it('attaching a root-owned segment the mode does not open: EACCES naming the mode', () => {
    const closed = Segment.create({ size: 64, mode: 0o600 });
    removeAfterTest(closed.id);
    const readable = Segment.create({ size: 64, mode: 0o444 });
    removeAfterTest(readable.id);
    const groupOnly = Segment.create({ size: 64, mode: 0o660 }); // root's group: nobody is not in it any more
    removeAfterTest(groupOnly.id);
    const r = asNobody('attaches-closed-segments', [closed.id, readable.id, groupOnly.id]);
    // Segment.fromId needs no permission (like shmget(key, 0, 0)): the attach is where 0600 shuts nobody out.
    expect(r.closed).toEqual(denied('EACCES', 'shmat'));
    expect((r.closed as { message: string }).message).toContain('mode 0600, owner uid 0 gid 0');
    expect((r.closed as { message: string }).message).toContain(`this process runs as uid ${NOBODY}`);
    // With 0444, fromId works and the read-write attach is refused by shmat.
    expect(r.readableRw).toEqual(denied('EACCES', 'shmat'));
    expect((r.readableRw as { message: string }).message).toContain('mode 0444');
    expect((r.readableRw as { message: string }).message).toContain('attach read-only');
    expect(r.groupOnly).toEqual(denied('EACCES', 'shmat'));
    expect((r.groupOnly as { message: string }).message).toContain('mode 0660');
  });

  it('mode 0444 (root-created): a read-only attach works and reads the bytes root wrote; nothing else is allowed', () => {
    const segment = Segment.create({ size: 4096, mode: 0o444 });
    removeAfterTest(segment.id);
    using a = segment.attach();
    a.write('written by root\0');
    a.write(new Uint8Array([1, 2, 3, 4]), 100);
    const r = asNobody('uses-read-only-segment', [segment.id]);
    expect(r.stat).toEqual({ ok: [0o444, 0, 4096, 1] });
    expect(r.readOnly).toEqual({ ok: ['written by root', '1,2,3,4', true] });
    expect(r.readWrite).toEqual(denied('EACCES', 'shmat'));
    expect(r.chmod).toEqual(denied('EPERM', 'shmctl'));
    expect(r.remove).toEqual(denied('EPERM', 'shmctl'));
    // SHM_LOCK by a non-owner without CAP_IPC_LOCK: EPERM (the kernel checks ownership first).
    expect(r.lock).toEqual(expect.objectContaining({ code: expect.stringMatching(/^(EPERM|ENOMEM)$/), isShmError: true }));
    expect(segment.stat()).toMatchObject({ mode: 0o444, uid: 0, markedForRemoval: false, locked: false });
  });

  it('stat() on mode 0000: EACCES naming the mode (the owner itself, without CAP_IPC_OWNER, is shut out by 0000 too)', () => {
    // Given to nobody with read access, so that the child can open it, then chmod it to 0000 itself.
    const segment = Segment.create({ size: 64, mode: 0o400 });
    removeAfterTest(segment.id);
    segment.setOwner(NOBODY, NOBODY);
    const root = Segment.create({ size: 64, mode: 0o000 });
    removeAfterTest(root.id);
    const r = asNobody('chmods-to-zero', [segment.id, root.id]);
    expect(r.before).toEqual({ ok: 0o400 });
    expect(r.chmod).toEqual({ ok: null });
    expect(r.stat).toEqual(denied('EACCES', 'shmctl'));
    expect((r.stat as { message: string }).message).toContain(`mode 0000, owner uid ${NOBODY} gid ${NOBODY}`);
    expect(r.numberAttached).toEqual(denied('EACCES', 'shmctl'));
    expect(r.attachReadOnly).toEqual(denied('EACCES', 'shmat'));
    expect(r.rootsZero).toEqual(denied('EACCES', 'shmat'));
    expect((r.rootsZero as { message: string }).message).toContain('mode 0000, owner uid 0 gid 0');
    expect(segment.stat()).toMatchObject({ mode: 0, uid: NOBODY });
  });

  it('chmod and setOwner by a non-owner: EPERM; the segment is unchanged', () => {
    const segment = Segment.create({ size: 64, mode: 0o666 });
    removeAfterTest(segment.id);
    const r = asNobody('changes-foreign-segment', [segment.id]);
    expect(r.attach).toEqual({ ok: 'ok' });
    for (const name of ['chmod', 'setOwner', 'remove']) {
      expect(r[name], name).toEqual(denied('EPERM', 'shmctl'));
      expect((r[name] as { message: string }).message).toContain('Only the owner, the creator or a privileged process');
    }
    expect(segment.stat()).toMatchObject({ mode: 0o666, uid: 0, gid: 0, markedForRemoval: false });
    using ro = segment.attach({ readOnly: true });
    expect(ro.readString(0)).toBe('nobody was here');
  });

  it('an ownership change by root is seen by the new owner, who may then attach, chmod and remove', () => {
    const key = uniqueKey();
    const segment = Segment.create({ key, size: 4096, mode: 0o600 });
    removeAfterTest(segment.id);
    {
      using a = segment.attach();
      a.write('for nobody');
    }
    // Before: nobody is shut out.
    const before = asNobody('opens-and-attaches', [key]);
    expect(before.open).toEqual(denied('EACCES', 'shmat'));

    segment.setOwner(NOBODY, NOBODY);
    expect(segment.stat()).toMatchObject({ uid: NOBODY, gid: NOBODY, cuid: 0, cgid: 0, mode: 0o600 });
    expect(procRow(segment.id)).toMatchObject({ uid: NOBODY, gid: NOBODY, cuid: 0, cgid: 0 });

    const r = asNobody('as-new-owner', [key]);
    expect(r.stat).toEqual({ ok: [NOBODY, NOBODY, 0, 0, 0o600] });
    expect(r.read).toEqual({ ok: 'for nobody' });
    expect(r.chmod).toEqual({ ok: null });
    expect(r.giveBack).toEqual({ ok: null });
    expect(r.afterGiveBack).toEqual(denied('EACCES', 'shmctl'));
    expect(segment.stat()).toMatchObject({ uid: 0, gid: 0, mode: 0o640 });
    {
      using ro = segment.attach({ readOnly: true });
      expect(ro.readString(0)).toBe('NOBODYbody');
    }

    // And the new owner may remove it.
    segment.setOwner(NOBODY, NOBODY);
    const removed = asNobody('removes-by-key', [key]);
    expect(removed.remove).toEqual({ ok: null });
    expect(procRow(segment.id)).toBeUndefined();
  });

  // LIB BUG (lib/c/shmctl.ts setPerm): chmod() and setOwner() fill in the fields they do not change with an
  // IPC_STAT first, and IPC_STAT needs read permission. The kernel lets the owner (or creator) IPC_SET without
  // any mode bit, so in C the owner of a mode-0000 segment can chmod it back; through the library it gets EACCES
  // from the IPC_STAT. (A fix: on EACCES, read the current perm with SHM_STAT_ANY or from /proc/sysvipc/shm,
  // which need no read permission.)
  it('the owner of a mode-0000 segment can chmod it back, as the kernel allows', () => {
    const segment = Segment.create({ size: 64, mode: 0o400 });
    removeAfterTest(segment.id);
    segment.setOwner(NOBODY, NOBODY);
    const r = asNobody('chmods-mode-zero-back', [segment.id]);
    expect(r.chmodToZero).toEqual({ ok: null });
    expect(r.cLayer).toEqual({ ok: null });
    expect(r.chmodBack).toEqual({ ok: null }); // fails today: EACCES from the IPC_STAT inside chmod
    expect(segment.stat().mode).toBe(0o600);
  });

  // LIB BUG (lib/segment/segment.ts Segment.create): after shmget it calls IPC_STAT to learn the real size, and
  // a non-root creator whose mode gives itself no read bit (0o200, 0o000) gets EACCES there: the segment exists,
  // but the caller gets an exception instead of a Segment (only error.shmid says which one to remove). A fix:
  // use the requested size when IPC_STAT is denied (the segment was just created with exactly that size), or
  // remove the segment before rethrowing.
  it('Segment.create as a non-root user with a mode the creator cannot read leaves no orphan behind', () => {
    const key = uniqueKey();
    const r = asNobody('creates-unreadable', [key]);
    const left = (readProcShm() ?? []).filter((row) => row.key === key);
    for (const row of left) removeAfterTest(row.shmid);
    // Either it worked (the size came from elsewhere than IPC_STAT), or it failed without leaving a segment.
    if ('ok' in r.create) expect(r.create).toEqual({ ok: 64 });
    else expect(left, `create failed with ${JSON.stringify(r.create)} but left segment(s) ${left.map((row) => row.shmid)}`).toEqual([]);
  });
});
