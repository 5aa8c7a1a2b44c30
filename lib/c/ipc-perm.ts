// What semctl and msgctl share: the IPC_SET patch of ipc_perm, and the status of an object by id for a process
// that may not read it (IPC_STAT needs read permission; SEM_STAT_ANY / MSG_STAT_ANY, Linux 4.17, do not).
import { libc } from '../native/libc.js';
import { checkMode, checkUnsigned32 } from '../common/arguments.js';

export interface PermPatch {
  uid?: number;
  gid?: number;
  mode?: number;
}

/** Checks an IPC_SET `perm` patch: only uid, gid and mode, each in range. */
export function checkPermPatch(perm: unknown, command: string): PermPatch {
  if (typeof perm !== 'object' || perm === null) throw new TypeError(`${command} needs perm: { uid?, gid?, mode? }`);
  const { uid, gid, mode, ...rest } = perm as PermPatch;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new TypeError(`${command} changes only perm.uid, perm.gid and perm.mode; got ${unknown.join(', ')}`);
  return {
    ...(uid !== undefined && { uid: checkUnsigned32(uid, 'perm.uid') }),
    ...(gid !== undefined && { gid: checkUnsigned32(gid, 'perm.gid') }),
    ...(mode !== undefined && { mode: checkMode(mode, 'perm.mode') }),
  };
}

/**
 * The current uid, gid and mode of an object, for an IPC_SET that changes only some of them: from its status
 * (`stat`: IPC_STAT, or *_STAT_ANY for a process that may not read it), or, where the kernel has no *_STAT_ANY
 * (before Linux 4.17, qemu-user), from its /proc/sysvipc row (`row`), which anyone may read. The status's error is
 * thrown when neither answers.
 */
export function currentPerm(
  stat: () => { perm: { uid: number; gid: number; mode: number } },
  row: () => { uid: number; gid: number; mode: number } | undefined,
): Required<PermPatch> {
  try {
    const { perm } = stat();
    return { uid: perm.uid, gid: perm.gid, mode: perm.mode & 0o777 };
  } catch (error) {
    const fromProc = (error as { code?: string }).code === 'EACCES' ? row() : undefined;
    if (!fromProc) throw error;
    return { uid: fromProc.uid, gid: fromProc.gid, mode: fromProc.mode & 0o777 };
  }
}

/**
 * The kernel's array index of an id: the low 15 bits (24 with the ipcmni_extend boot option). Returns the
 * candidates, most likely first.
 */
export function candidateIndices(id: number): number[] {
  const low = id & 0x7fff;
  const extended = id & 0xffffff;
  return low === extended ? [low] : [low, extended];
}

/**
 * `statAt(index)` (a *_STAT_ANY call that answers the id found at an index, or undefined on failure) for the
 * indices `id` may have; the answer whose id is `id`, else undefined.
 */
export function statAnyById<T extends { id: number }>(id: number, statAt: (index: number) => T | undefined): T | undefined {
  for (const index of candidateIndices(id)) {
    const found = statAt(index);
    if (found?.id === id) return found;
  }
  return undefined;
}

/** One buffer big enough for every answer of semctl and msgctl, zeroed before each use (decoded before the next). */
let scratch: Uint8Array | undefined;
export function ipcScratch(): Uint8Array {
  if (!scratch) {
    const s = libc().abi.sizeof;
    scratch = new Uint8Array(Math.max(s.semidDs, s.seminfo, s.msqidDs, s.msginfo, 256));
  }
  return scratch.fill(0);
}
