/**
 * Public decoded shapes of the SysV shared-memory, semaphore and message-queue structures, and the shape of
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

/** struct semid_ds (semctl IPC_STAT / SEM_STAT / SEM_STAT_ANY). */
export interface SemidDs {
  perm: IpcPerm;
  /** Last semop, seconds since the epoch; 0 = never. */
  otime: number;
  /** Last change (creation, IPC_SET, SETVAL/SETALL), seconds since the epoch. */
  ctime: number;
  /** Number of semaphores in the set. */
  nsems: number;
}

/** struct msqid_ds (msgctl IPC_STAT / MSG_STAT / MSG_STAT_ANY). */
export interface MsqidDs {
  perm: IpcPerm;
  /** Last msgsnd / msgrcv / change, seconds since the epoch; 0 = never. */
  stime: number;
  rtime: number;
  ctime: number;
  /** Bytes now in the queue (unsigned long; decode throws a RangeError above Number.MAX_SAFE_INTEGER). */
  cbytes: number;
  /** Messages now in the queue. */
  qnum: number;
  /** Most bytes the queue may hold. */
  qbytes: number;
  /** Pid of the last msgsnd / msgrcv. */
  lspid: number;
  lrpid: number;
}

/** struct seminfo (semctl IPC_INFO / SEM_INFO): every field is int. */
export interface Seminfo {
  semmap: number;
  semmni: number;
  semmns: number;
  semmnu: number;
  semmsl: number;
  semopm: number;
  semume: number;
  semusz: number;
  semvmx: number;
  semaem: number;
}

/** struct msginfo (msgctl IPC_INFO / MSG_INFO): seven ints and an unsigned short msgseg. */
export interface Msginfo {
  msgpool: number;
  msgmap: number;
  msgmax: number;
  msgmnb: number;
  msgmni: number;
  msgssz: number;
  msgtql: number;
  msgseg: number;
}

/** What semctl IPC_SET may change; the kernel reads uid, gid and mode only. */
export interface SemidDsPatch {
  perm: { uid?: number; gid?: number; mode?: number };
}

/**
 * What msgctl IPC_SET writes. Complete on purpose: the kernel reads all four (uid, gid, mode and
 * msg_qbytes), so a missing one would become 0.
 */
export interface MsqidDsPatch {
  perm: { uid: number; gid: number; mode: number };
  qbytes: number;
}

/** One struct sembuf of semop(2) / semtimedop(2). */
export interface Sembuf {
  /** unsigned short: 0..65535 */
  sem_num: number;
  /** short: -32768..32767 */
  sem_op: number;
  /** short: IPC_NOWAIT | SEM_UNDO; -32768..32767, or 0..65535 as the short's bits. */
  sem_flg: number;
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
  /** _Alignof, recorded where it matters (union semun, passed by value). */
  align?: number;
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
  symbols: Readonly<{
    shmget: string;
    shmat: string;
    shmdt: string;
    shmctl: string;
    semget: string;
    semop: string;
    semtimedop: string;
    semctl: string;
    msgget: string;
    msgsnd: string;
    msgrcv: string;
    msgctl: string;
  }>;
  /** Layouts as the libc headers declare them (logical field names, see probe.c). */
  structs: Readonly<{
    ipc_perm: StructLayout;
    shmid_ds: StructLayout;
    shminfo: StructLayout;
    shm_info: StructLayout;
    timespec: StructLayout;
    /** sun_family (sa_family_t) and sun_path (a char array: `size` is its length, `signed` null). */
    sockaddr_un: StructLayout;
    /**
     * `*_time_high` words: a time's high half where the time is 4 bytes (legacy 32-bit glibc); elsewhere
     * (x86-64, mips64 glibc spell reserved words so) ignored.
     */
    semid_ds: StructLayout;
    msqid_ds: StructLayout;
    seminfo: StructLayout;
    msginfo: StructLayout;
    sembuf: StructLayout;
    /** The caller's `union semun { int val; void *buf; unsigned short *array; }` (no libc defines it). */
    semun: StructLayout;
  }>;
  /**
   * The kernel's own structs from the uapi headers: ipc64_perm, shmid64_ds, semid64_ds, msqid64_ds and sockaddr_un to cross-check the
   * libc ones; futex_waitv (val, uaddr, flags; <linux/futex.h>) and its timeout, __kernel_timespec (64-bit on
   * every target), which no libc header declares, for futex_waitv(2).
   */
  kernelStructs: Readonly<{
    ipc64_perm: StructLayout;
    shmid64_ds: StructLayout;
    /** <asm/sembuf.h>, <asm/msgbuf.h>: cross-checked with semid_ds / msqid_ds on 64-bit targets. */
    semid64_ds: StructLayout;
    msqid64_ds: StructLayout;
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
