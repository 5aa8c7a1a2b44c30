/**
 * Public decoded shapes of the SysV shared-memory structures, and the shape of
 * the generated per-target ABI tables (lib/abi/targets/*.ts).
 *
 * TS types are the same on every target: a field whose C type can exceed 2^53
 * on some target (unsigned long on 64-bit) is always a bigint.
 */

/** struct ipc_perm */
export interface IpcPerm {
  /** key_t as the kernel keeps it: a signed 32-bit integer (IPC_PRIVATE = 0). */
  key: number;
  /** Unsigned 32-bit ids. */
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  /** Permission bits plus SHM_DEST / SHM_LOCKED. */
  mode: number;
  seq: number;
}

/** struct shmid_ds (IPC_STAT / SHM_STAT). */
export interface ShmidDs {
  perm: IpcPerm;
  /** size_t; decode throws a RangeError above Number.MAX_SAFE_INTEGER. */
  segsz: number;
  /** Seconds since the epoch, 0 = never. */
  atime: number;
  dtime: number;
  ctime: number;
  cpid: number;
  lpid: number;
  /** Attach count; decode throws a RangeError above Number.MAX_SAFE_INTEGER. */
  nattch: number;
}

/** struct shminfo (IPC_INFO): every field is unsigned long. */
export interface Shminfo {
  shmmax: bigint;
  shmmin: bigint;
  shmmni: bigint;
  shmseg: bigint;
  shmall: bigint;
}

/** struct shm_info (SHM_INFO). */
export interface ShmInfo {
  /** int */
  usedIds: number;
  /** unsigned long: pages */
  shmTot: bigint;
  shmRss: bigint;
  shmSwp: bigint;
  swapAttempts: bigint;
  swapSuccesses: bigint;
}

/** One entry of futex_waitv(2)'s array (struct futex_waitv). */
export interface FutexWaiter {
  /** Address of the word (a pointer, as koffi gives it). */
  uaddr: bigint;
  /**
   * The value the word must hold for the wait to start, unsigned: with FUTEX_32 the kernel wants the word's
   * 32-bit pattern (`x >>> 0`) and rejects higher bits with EINVAL.
   */
  val: number | bigint;
  /** FUTEX_32, optionally | FUTEX_PRIVATE_FLAG. */
  flags: number;
}

/** What IPC_SET may change; the kernel reads uid, gid and mode only. */
export interface ShmidDsPatch {
  perm: { uid?: number; gid?: number; mode?: number };
}

// ---------------------------------------------------------------------------
// Generated table shapes
// ---------------------------------------------------------------------------

export interface FieldLayout {
  offset: number;
  size: number;
  /** null for aggregate members (shmid_ds.shm_perm). */
  signed: boolean | null;
}

export interface StructLayout {
  size: number;
  fields: Readonly<Record<string, FieldLayout>>;
}

export interface AbiDescription {
  target: string;
  arch: string;
  libc: 'glibc' | 'musl';
  littleEndian: boolean;
  pointerSize: 4 | 8;
  sizeofLong: number;
  sizeofTimeT: number;
  /** time_t is 64-bit (always true on 64-bit targets). */
  time64: boolean;
  /** Real linker names of the libc entry points, after header redirection. */
  symbols: Readonly<{ shmget: string; shmat: string; shmdt: string; shmctl: string }>;
  /** Layouts as the libc headers declare them (logical field names, see probe.c). */
  structs: Readonly<{
    ipc_perm: StructLayout;
    shmid_ds: StructLayout;
    shminfo: StructLayout;
    shm_info: StructLayout;
    timespec: StructLayout;
    /** sun_family (sa_family_t) and sun_path (a char array: `size` is its length, `signed` null). */
    sockaddr_un: StructLayout;
  }>;
  /**
   * The kernel's own structs from the uapi headers: ipc64_perm, shmid64_ds and sockaddr_un to cross-check the
   * libc ones; futex_waitv (val, uaddr, flags; <linux/futex.h>) and its timeout, __kernel_timespec (64-bit on
   * every target), which no libc header declares, for futex_waitv(2).
   */
  kernelStructs: Readonly<{
    ipc64_perm: StructLayout;
    shmid64_ds: StructLayout;
    sockaddr_un: StructLayout;
    futex_waitv: StructLayout;
    __kernel_timespec: StructLayout;
  }>;
  constants: Readonly<Record<string, number>>;
  errno: Readonly<Record<string, number>>;
  syscalls: Readonly<Record<string, number>>;
  /** Names that the libc headers lack and that were taken from the kernel uapi headers. */
  fromKernelHeaders: Readonly<{ constants: readonly string[]; errno: readonly string[]; syscalls: readonly string[] }>;
  /** Decisions the generator made, with their reasons. */
  notes: readonly string[];
  /** Where the table came from; not compared by `generate.ts --check`. */
  provenance: Readonly<{
    compiler: string;
    flags: readonly string[];
    libcHeaders: string;
    kernelHeaders: string;
  }>;
}
