// shmctl(2): status, ownership and mode, removal, locking and the system-wide info calls.
import { libc } from '../native/libc.js';
import { errnoError, type ShmError } from './errors.js';
import { procRowById } from '../native/procfs.js';
import type { ShmidDs, ShmidDsPatch, Shminfo, ShmInfo } from '../abi/index.js';
import { IPC_SET, IPC_STAT, SHMCTL_COMMAND_NAMES, type ShmctlCommand } from './constants.js';
import { checkFlags, checkMode, checkShmid, checkUnsigned32 } from '../common/arguments.js';

/** IPC_INFO's answer; `highestIndex` is shmctl's return value (the highest used index of the kernel's array). */
export type ShminfoResult = Shminfo & { highestIndex: number };
/** SHM_INFO's answer, with shmctl's return value as `highestIndex` (what SHM_STAT iterates up to). */
export type ShmInfoResult = ShmInfo & { highestIndex: number };
/** SHM_STAT / SHM_STAT_ANY: the status of the segment at an index of the kernel's array, plus its id. */
export type ShmidDsWithId = ShmidDs & { shmid: number };

export function shmctl(shmid: number, cmd: ShmctlCommand<'IPC_STAT'>): ShmidDs;
export function shmctl(shmid: number, cmd: ShmctlCommand<'IPC_SET'>, buf: ShmidDsPatch): void;
export function shmctl(shmid: number, cmd: ShmctlCommand<'IPC_RMID' | 'SHM_LOCK' | 'SHM_UNLOCK'>): void;
export function shmctl(shmid: number, cmd: ShmctlCommand<'IPC_INFO'>): ShminfoResult;
export function shmctl(shmid: number, cmd: ShmctlCommand<'SHM_INFO'>): ShmInfoResult;
export function shmctl(index: number, cmd: ShmctlCommand<'SHM_STAT' | 'SHM_STAT_ANY'>): ShmidDsWithId;
// biome-ignore lint/suspicious/noConfusingVoidType: the general overload: some commands return nothing, as their specific overloads say
export function shmctl(shmid: number, cmd: number, buf?: ShmidDsPatch): ShmidDs | ShmidDsWithId | ShminfoResult | ShmInfoResult | void;
// biome-ignore lint/suspicious/noConfusingVoidType: the implementation of the overloads above
export function shmctl(shmid: number, cmd: number, buf?: ShmidDsPatch): ShmidDs | ShmidDsWithId | ShminfoResult | ShmInfoResult | void {
  const id = checkShmid(shmid);
  const name = SHMCTL_COMMAND_NAMES.get(checkFlags(cmd, 'cmd'));
  if (name === undefined) {
    throw new RangeError(`cmd ${cmd} is not a shmctl command; use one of ${[...SHMCTL_COMMAND_NAMES.values()].join(', ')}`);
  }
  const { abi } = libc();
  switch (name) {
    case 'IPC_STAT':
      return abi.decodeShmidDs(call(id, cmd, name, scratchBuffer()).bytes);
    case 'SHM_STAT':
    case 'SHM_STAT_ANY': {
      const { result, bytes } = call(id, cmd, name, scratchBuffer());
      return { ...abi.decodeShmidDs(bytes), shmid: result };
    }
    case 'IPC_SET':
      return setPerm(id, checkPatch(buf));
    case 'IPC_INFO': {
      const { result, bytes } = call(id, cmd, name, scratchBuffer());
      return { ...abi.decodeShminfo(bytes), highestIndex: result };
    }
    case 'SHM_INFO': {
      const { result, bytes } = call(id, cmd, name, scratchBuffer());
      return { ...abi.decodeShmInfo(bytes), highestIndex: result };
    }
    default:
      call(id, cmd, name, null);
      return;
  }
}

// One buffer fits every answer (the kernel writes its own structs, which libc's may not exceed), and one is
// enough: every answer is decoded before the next call. Zeroed before each use.
let scratch: Uint8Array | undefined;
export function scratchBuffer(): Uint8Array {
  if (!scratch) {
    const s = libc().abi.sizeof;
    scratch = new Uint8Array(Math.max(s.shmidDs, s.shminfo, s.shmInfo, 256));
  }
  return scratch.fill(0);
}

function call(shmid: number, cmd: number, name: string, bytes: Uint8Array | null): { result: number; bytes: Uint8Array } {
  const result = libc().shmctl(shmid, cmd, bytes);
  if (result === -1) {
    throw errnoError({ syscall: 'shmctl', call: `shmctl(${shmid}, ${name})`, shmid, cmd: name });
  }
  return { result, bytes: bytes ?? new Uint8Array(0) };
}

function checkPatch(buf: unknown): ShmidDsPatch {
  if (typeof buf !== 'object' || buf === null || typeof (buf as ShmidDsPatch).perm !== 'object' || (buf as ShmidDsPatch).perm === null) {
    throw new TypeError('IPC_SET needs { perm: { uid?, gid?, mode? } }');
  }
  const { uid, gid, mode, ...rest } = (buf as ShmidDsPatch).perm;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new TypeError(`IPC_SET changes only perm.uid, perm.gid and perm.mode; got ${unknown.join(', ')}`);
  return {
    perm: {
      ...(uid !== undefined && { uid: checkUnsigned32(uid, 'perm.uid') }),
      ...(gid !== undefined && { gid: checkUnsigned32(gid, 'perm.gid') }),
      ...(mode !== undefined && { mode: checkMode(mode, 'perm.mode') }),
    },
  };
}

// The kernel sets uid, gid and mode together; fields the caller left out keep their current values.
function setPerm(shmid: number, patch: ShmidDsPatch): void {
  const { abi } = libc();
  let { uid, gid, mode } = patch.perm;
  if (uid === undefined || gid === undefined || mode === undefined) {
    const current = currentPerm(shmid);
    uid ??= current.uid;
    gid ??= current.gid;
    mode ??= current.mode & 0o777;
  }
  const bytes = scratchBuffer();
  bytes.set(abi.encodeShmidDs({ perm: { uid, gid, mode } }));
  call(shmid, IPC_SET, 'IPC_SET', bytes);
}

function currentPerm(shmid: number): { uid: number; gid: number; mode: number } {
  const { uid, gid, mode } = statOrProc(shmid);
  return { uid, gid, mode };
}

/** What IPC_STAT tells of a segment that every process may know, from /proc when IPC_STAT is refused. */
export interface SegmentFacts {
  key: number;
  size: number;
  uid: number;
  gid: number;
  mode: number;
}

/**
 * IPC_STAT's key, size, owner and mode. IPC_STAT needs read permission, which a creator or owner may not have
 * given itself (mode 0200 or 0000) although it may still change or remove the segment; /proc/sysvipc/shm is
 * readable by all and has the same fields, so it answers then (the EACCES is thrown if /proc cannot).
 */
export function statOrProc(shmid: number): SegmentFacts {
  try {
    const ds = libc().abi.decodeShmidDs(call(checkShmid(shmid), IPC_STAT, 'IPC_STAT', scratchBuffer()).bytes);
    return { key: ds.perm.key, size: ds.segsz, uid: ds.perm.uid, gid: ds.perm.gid, mode: ds.perm.mode };
  } catch (error) {
    const row = (error as ShmError).code === 'EACCES' ? procRowById(shmid) : undefined;
    if (!row) throw error;
    return { key: row.key, size: row.size, uid: row.uid, gid: row.gid, mode: row.perms };
  }
}
