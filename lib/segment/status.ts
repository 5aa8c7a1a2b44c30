// The friendly form of struct shmid_ds, shared by Segment.stat() and the system-wide list().
import type { ShmidDs } from '../abi/index.js';
import { SHM_DEST, SHM_LOCKED } from '../c/index.js';
import { hexKey } from '../common/format.js';

export interface SegmentStatus {
  id: number;
  /** The key as key_t holds it (signed 32-bit); 0 for IPC_PRIVATE and for segments marked for removal. */
  key: number;
  /** The key as ipcs prints it: 0x%08x. */
  keyHex: string;
  /** Size in bytes, as asked at creation (the memory is rounded up to pages). */
  size: number;
  /** Permission bits (0o777). */
  mode: number;
  /** Current owner. */
  uid: number;
  gid: number;
  /** Creator. */
  cuid: number;
  cgid: number;
  creatorPid: number;
  /** Pid of the last shmat/shmdt. */
  lastPid: number;
  /** Number of attachments, across all processes. */
  attached: number;
  lastAttachTime: Date | null;
  lastDetachTime: Date | null;
  lastChangeTime: Date | null;
  /** IPC_RMID was called while attached: destroyed at the last detach (SHM_DEST). */
  markedForRemoval: boolean;
  /** SHM_LOCK is in force (SHM_LOCKED). */
  locked: boolean;
  /** Slot sequence number the kernel uses to make ids. */
  seq: number;
  /** Resident and swapped bytes, where /proc/sysvipc/shm reports them (list() only). */
  rssBytes?: number;
  swapBytes?: number;
}

function date(seconds: number): Date | null {
  return seconds === 0 ? null : new Date(seconds * 1000);
}

export function toStatus(id: number, ds: ShmidDs): SegmentStatus {
  const mode = ds.perm.mode;
  return {
    id,
    key: ds.perm.key,
    keyHex: hexKey(ds.perm.key),
    size: ds.segsz,
    mode: mode & 0o777,
    uid: ds.perm.uid,
    gid: ds.perm.gid,
    cuid: ds.perm.cuid,
    cgid: ds.perm.cgid,
    creatorPid: ds.cpid,
    lastPid: ds.lpid,
    attached: Number(ds.nattch),
    lastAttachTime: date(ds.atime),
    lastDetachTime: date(ds.dtime),
    lastChangeTime: date(ds.ctime),
    markedForRemoval: (mode & SHM_DEST) !== 0,
    locked: (mode & SHM_LOCKED) !== 0,
    seq: ds.perm.seq,
  };
}
