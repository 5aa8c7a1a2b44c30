// The friendly form of struct semid_ds plus each semaphore's GETVAL, GETNCNT, GETZCNT and GETPID.
import type { SemidDs } from '../abi/index.js';
import { hexKey } from '../common/format.js';

export interface SemaphoreState {
  /** semval: the semaphore's value now. */
  value: number;
  /** semncnt: processes (threads) blocked in a semop until the value grows. */
  waitingForNonzero: number;
  /** semzcnt: processes (threads) blocked in a semop until the value is 0. */
  waitingForZero: number;
  /** sempid: the pid of the last semop (or SETVAL/SETALL) on this semaphore; 0 = none yet. */
  lastPid: number;
}

export interface SemaphoreSetStatus {
  id: number;
  /** The key as key_t holds it (signed 32-bit); 0 for a private set. */
  key: number;
  /** The key as ipcs prints it: 0x%08x. */
  keyHex: string;
  /** Permission bits (0o777); semaphores use read (look) and write (alter). */
  mode: number;
  /** Current owner. */
  uid: number;
  gid: number;
  /** Creator. */
  cuid: number;
  cgid: number;
  /** Number of semaphores (sem_nsems). */
  count: number;
  /** sem_otime: the last semop; null before the first one (an uninitialised set, by Stevens' convention). */
  lastOperationTime: Date | null;
  /** sem_ctime: creation, or the last IPC_SET, SETVAL or SETALL. */
  lastChangeTime: Date;
  semaphores: SemaphoreState[];
}

export function secondsToDate(seconds: number): Date | null {
  return seconds === 0 ? null : new Date(seconds * 1000);
}

export function toSemaphoreSetStatus(id: number, ds: SemidDs, semaphores: SemaphoreState[]): SemaphoreSetStatus {
  return {
    id,
    key: ds.perm.key,
    keyHex: hexKey(ds.perm.key),
    mode: ds.perm.mode & 0o777,
    uid: ds.perm.uid,
    gid: ds.perm.gid,
    cuid: ds.perm.cuid,
    cgid: ds.perm.cgid,
    count: ds.nsems,
    lastOperationTime: secondsToDate(ds.otime),
    lastChangeTime: new Date(ds.ctime * 1000),
    semaphores,
  };
}
