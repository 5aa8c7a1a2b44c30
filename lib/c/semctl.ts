// semctl(2): values, counts and pids of the semaphores, status, ownership and mode, removal, and the system-wide
// info calls. semctl's fourth argument (union semun) is an integer for SETVAL and a buffer for the commands that
// read or write one (lib/native/libc.ts binds both forms).
import { libc } from '../native/libc.js';
import { errnoError, type ShmError } from './errors.js';
import type { SemidDs, SemidDsPatch, Seminfo } from '../abi/index.js';
import { IPC_SET, IPC_STAT, SEM_STAT_ANY, SEMCTL_COMMAND_NAMES, type SemctlCommand } from './constants.js';
import { checkFlags, checkNonNegativeInt, checkSemaphoreValue, checkSemid } from '../common/arguments.js';
import { checkPermPatch, currentPerm, ipcScratch, statAnyById } from './ipc-perm.js';
import { procSemRowById } from '../native/procfs.js';

/** IPC_INFO / SEM_INFO: the limits (IPC_INFO) or the use (SEM_INFO: semusz = sets, semaem = semaphores), and the highest used index. */
export type SeminfoResult = Seminfo & { highestIndex: number };
/** SEM_STAT / SEM_STAT_ANY: the status of the set at an index of the kernel's array, plus its id. */
export type SemidDsWithId = SemidDs & { semid: number };

export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'GETVAL' | 'GETPID' | 'GETNCNT' | 'GETZCNT'>): number;
export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'SETVAL'>, value: number): void;
export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'GETALL'>): number[];
export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'SETALL'>, values: readonly number[]): void;
export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'IPC_STAT'>): SemidDs;
export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'IPC_SET'>, patch: SemidDsPatch): void;
export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'IPC_RMID'>): void;
export function semctl(semid: number, semnum: number, cmd: SemctlCommand<'IPC_INFO' | 'SEM_INFO'>): SeminfoResult;
export function semctl(index: number, semnum: number, cmd: SemctlCommand<'SEM_STAT' | 'SEM_STAT_ANY'>): SemidDsWithId;
export function semctl(
  semid: number,
  semnum: number,
  cmd: number,
  arg?: number | readonly number[] | SemidDsPatch,
  // biome-ignore lint/suspicious/noConfusingVoidType: the general overload: some commands return nothing, as their specific overloads say
): number | number[] | SemidDs | SemidDsWithId | SeminfoResult | void;
export function semctl(
  semid: number,
  semnum: number,
  cmd: number,
  arg?: number | readonly number[] | SemidDsPatch,
  // biome-ignore lint/suspicious/noConfusingVoidType: the implementation of the overloads above
): number | number[] | SemidDs | SemidDsWithId | SeminfoResult | void {
  const id = checkSemid(semid);
  const num = checkNonNegativeInt(semnum, 'semnum', 'the index of a semaphore in the set');
  const name = SEMCTL_COMMAND_NAMES.get(checkFlags(cmd, 'cmd'));
  if (name === undefined) {
    throw new RangeError(`cmd ${cmd} is not a semctl command; use one of ${[...SEMCTL_COMMAND_NAMES.values()].join(', ')}`);
  }
  const { abi } = libc();
  switch (name) {
    case 'GETVAL':
    case 'GETPID':
    case 'GETNCNT':
    case 'GETZCNT':
      return callValue(id, num, cmd, name, 0);
    case 'SETVAL': {
      const value = checkSemaphoreValue(arg, 'value');
      callValue(id, num, cmd, name, abi.semunValue(value));
      return;
    }
    case 'GETALL':
      return getAll(id, num, cmd);
    case 'SETALL':
      return setAll(id, num, cmd, arg);
    case 'IPC_STAT':
      return abi.decodeSemidDs(callBuffer(id, num, cmd, name, ipcScratch()).bytes);
    case 'SEM_STAT':
    case 'SEM_STAT_ANY': {
      const { result, bytes } = callBuffer(id, num, cmd, name, ipcScratch());
      return { ...abi.decodeSemidDs(bytes), semid: result };
    }
    case 'IPC_SET':
      return setPerm(id, arg);
    case 'IPC_INFO':
    case 'SEM_INFO': {
      const { result, bytes } = callBuffer(id, num, cmd, name, ipcScratch());
      return { ...abi.decodeSeminfo(bytes), highestIndex: result };
    }
    default:
      callValue(id, num, cmd, name, 0); // IPC_RMID
      return;
  }
}

function fail(semid: number, semnum: number, name: string, extra = ''): ShmError {
  return errnoError({ syscall: 'semctl', call: `semctl(${semid}, ${semnum}, ${name}${extra})`, semid, semnum, cmd: name });
}

function callValue(semid: number, semnum: number, cmd: number, name: string, arg: number | bigint): number {
  const result = libc().semctlValue(semid, semnum, cmd, arg);
  if (result === -1) throw fail(semid, semnum, name, name === 'SETVAL' ? `, ${arg}` : '');
  return result;
}

function callBuffer(semid: number, semnum: number, cmd: number, name: string, bytes: Uint8Array): { result: number; bytes: Uint8Array } {
  const result = libc().semctlBuffer(semid, semnum, cmd, bytes);
  if (result === -1) throw fail(semid, semnum, name);
  return { result, bytes };
}

/**
 * IPC_STAT, or for a process that may not read the set (IPC_STAT is EACCES) SEM_STAT_ANY at its index: the kernel
 * then still tells the status (Linux 4.17). The EACCES is thrown when that fails too.
 */
export function semStatOrAny(semid: number): SemidDs {
  const { abi } = libc();
  try {
    return abi.decodeSemidDs(callBuffer(semid, 0, IPC_STAT, 'IPC_STAT', ipcScratch()).bytes);
  } catch (error) {
    if ((error as ShmError).code !== 'EACCES') throw error;
    const found = statAnyById(semid, (index) => {
      const bytes = ipcScratch();
      const result = libc().semctlBuffer(index, 0, SEM_STAT_ANY, bytes);
      return result === -1 ? undefined : { id: result, ds: abi.decodeSemidDs(bytes) };
    });
    if (!found) throw error;
    return found.ds;
  }
}

// GETALL and SETALL pass an array of nsems unsigned shorts, nsems being the set's: the kernel reads or writes
// that many, so the buffer is sized from the set's status, never from the caller's array.
function getAll(semid: number, semnum: number, cmd: number): number[] {
  const nsems = semStatOrAny(semid).nsems;
  const values = new Uint16Array(nsems);
  callBuffer(semid, semnum, cmd, 'GETALL', new Uint8Array(values.buffer));
  return Array.from(values);
}

function setAll(semid: number, semnum: number, cmd: number, arg: unknown): void {
  if (!Array.isArray(arg)) throw new TypeError(`SETALL needs an array of values (one per semaphore), got ${arg === null ? 'null' : typeof arg}`);
  const values = Uint16Array.from(arg, (value, index) => checkSemaphoreValue(value, `values[${index}]`));
  const nsems = semStatOrAny(semid).nsems;
  if (values.length !== nsems) {
    throw new RangeError(`SETALL needs exactly one value per semaphore: semaphore set ${semid} has ${nsems}, got ${values.length} values`);
  }
  callBuffer(semid, semnum, cmd, 'SETALL', new Uint8Array(values.buffer));
}

// The kernel sets uid, gid and mode together; the fields the caller left out keep their current values.
function setPerm(semid: number, patch: unknown): void {
  if (typeof patch !== 'object' || patch === null) throw new TypeError('IPC_SET needs { perm: { uid?, gid?, mode? } }');
  let { uid, gid, mode } = checkPermPatch((patch as SemidDsPatch).perm, 'IPC_SET');
  const rest = Object.keys(patch).filter((key) => key !== 'perm');
  if (rest.length) throw new TypeError(`semctl IPC_SET changes only perm.uid, perm.gid and perm.mode; got ${rest.join(', ')}`);
  if (uid === undefined || gid === undefined || mode === undefined) {
    const current = currentPerm(
      () => semStatOrAny(semid),
      () => procSemRowById(semid),
    );
    uid ??= current.uid;
    gid ??= current.gid;
    mode ??= current.mode;
  }
  const bytes = ipcScratch();
  bytes.set(libc().abi.encodeSemidDs({ perm: { uid, gid, mode } }));
  callBuffer(semid, 0, IPC_SET, 'IPC_SET', bytes);
}
