// The one place that talks to libc through koffi. Everything here is C-shaped: raw return values and errno,
// no validation and no exceptions beyond "this platform is not supported". Callers in lib/c/ turn -1 into ShmError.
import type { LibraryHandle } from 'koffi';
import { koffi } from './koffi.js';
import { getAbi, type Abi } from '../abi/index.js';

export type Pointer = bigint;

export interface Libc {
  abi: Abi;
  ftok(path: string, projId: number): number;
  shmget(key: number, size: number, shmflg: number): number;
  shmat(shmid: number, shmaddr: Pointer | null, shmflg: number): Pointer;
  shmdt(shmaddr: Pointer): number;
  shmctl(shmid: number, cmd: number, buf: Uint8Array | null): number;
  semget(key: number, nsems: number, semflg: number): number;
  /** semop(2): `sops` is encodeSembufs' bytes; `nsops` their count. */
  semop(semid: number, sops: Uint8Array, nsops: number): number;
  /** semtimedop(2); `timeout` is encodeTimespec's bytes, or null for none. */
  semtimedop(semid: number, sops: Uint8Array, nsops: number, timeout: Uint8Array | null): number;
  /**
   * semctl(2) with a pointer-sized integer as its fourth argument (the union semun by value): `arg` is what
   * abi.semunValue gives for SETVAL, 0 for the commands that take none.
   */
  semctlValue(semid: number, semnum: number, cmd: number, arg: number | bigint): number;
  /** semctl(2) with a buffer as its fourth argument (semun.buf / semun.array / semun.__buf). */
  semctlBuffer(semid: number, semnum: number, cmd: number, buf: Uint8Array | null): number;
  msgget(key: number, msgflg: number): number;
  /** msgsnd(2): `msgp` holds mtype (a C long) then the text; `msgsz` is the text's length. */
  msgsnd(msqid: number, msgp: Uint8Array, msgsz: number, msgflg: number): number;
  /** msgrcv(2): ssize_t, the text's length, or -1. `msgp` must hold sizeof(long) + `msgsz` bytes. */
  msgrcv(msqid: number, msgp: Uint8Array, msgsz: number, msgtyp: number | bigint, msgflg: number): number;
  msgctl(msqid: number, cmd: number, buf: Uint8Array | null): number;
  mmap(addr: Pointer | null, length: number, prot: number, flags: number, fd: number, offset: number): Pointer;
  munmap(addr: Pointer, length: number): number;
  madvise(addr: Pointer, length: number, advice: number): number;
  memcpyFrom(dst: Uint8Array, src: Pointer, n: number): void;
  strerror(errnum: number): string;
  sysconf(name: number): number;
  /** errno of the last call made on this thread (koffi saves it right after each call). */
  errno(): number;
  /** (void *) -1 as koffi returns it: an unsigned BigInt of pointer width. */
  MAP_FAILED: Pointer;
  pageSize: number;
}

let loaded: Libc | undefined;
let handle: LibraryHandle | undefined;

/** The loaded C library, for modules that bind further functions of their own (e.g. syscall for futexes). */
export function libcHandle(): LibraryHandle {
  libc();
  return handle!;
}

function openLibrary(abi: Abi): LibraryHandle {
  if (abi.libc === 'glibc') return koffi().load('libc.so.6');
  // musl: its libc is the dynamic loader itself; the process's own symbols include it.
  return koffi().load(null);
}

/** Loads libc on first use, so that importing the library costs nothing and fails nowhere. */
export function libc(): Libc {
  if (loaded) return loaded;
  if (process.platform !== 'linux') {
    throw new Error(
      `sysv-shm supports Linux only (glibc or musl); this is ${process.platform}/${process.arch}. ` +
        'System V shared memory on other systems is not bound by this library.',
    );
  }
  const abi = getAbi();
  const ffi = koffi();
  const lib = openLibrary(abi);
  handle = lib;
  const ptrBits = BigInt(abi.pointerSize * 8);
  const MAP_FAILED = (1n << ptrBits) - 1n;
  const shmctlSymbol = abi.symbols.shmctl;

  const ftok = lib.func('int ftok(const char *path, int proj_id)');
  const shmget = lib.func('int shmget(int key, size_t size, int shmflg)');
  const shmat = lib.func('void *shmat(int shmid, void *shmaddr, int shmflg)');
  const shmdt = lib.func('int shmdt(void *shmaddr)');
  const shmctl = lib.func(shmctlSymbol, 'int', ['int', 'int', 'void *']);
  const mmap = lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
  const munmap = lib.func('int munmap(void *addr, size_t length)');
  const madvise = lib.func('int madvise(void *addr, size_t length, int advice)');
  // System V semaphores and message queues, bound on first use (a table without their symbols then fails only
  // there), under their real linker names (on 32-bit glibc with 64-bit time: __semctl64, __semtimedop64,
  // __msgctl64, which take the libc structs with 64-bit times).
  let ipc: ReturnType<typeof bindSysvIpc> | undefined;
  const sysv = () => (ipc ??= bindSysvIpc(lib, abi));
  const memcpy = lib.func('void *memcpy(void *dst, void *src, size_t n)');
  const strerror = lib.func('const char *strerror(int errnum)');
  const sysconf = lib.func('long sysconf(int name)');

  const pageSize = Number(sysconf(abi.constants._SC_PAGESIZE));

  loaded = {
    abi,
    ftok: (path, projId) => ftok(path, projId),
    shmget: (key, size, shmflg) => shmget(key, size, shmflg),
    shmat: (shmid, shmaddr, shmflg) => shmat(shmid, shmaddr, shmflg) ?? 0n,
    shmdt: (shmaddr) => shmdt(shmaddr),
    shmctl: (shmid, cmd, buf) => shmctl(shmid, cmd, buf),
    semget: (key, nsems, semflg) => sysv().semget(key, nsems, semflg),
    semop: (semid, sops, nsops) => sysv().semop(semid, sops, nsops),
    semtimedop: (semid, sops, nsops, timeout) => sysv().semtimedop(semid, sops, nsops, timeout),
    semctlValue: (semid, semnum, cmd, arg) => sysv().semctlValue(semid, semnum, cmd, arg),
    semctlBuffer: (semid, semnum, cmd, buf) => sysv().semctlBuffer(semid, semnum, cmd, buf),
    msgget: (key, msgflg) => sysv().msgget(key, msgflg),
    msgsnd: (msqid, msgp, msgsz, msgflg) => sysv().msgsnd(msqid, msgp, msgsz, msgflg),
    msgrcv: (msqid, msgp, msgsz, msgtyp, msgflg) => Number(sysv().msgrcv(msqid, msgp, msgsz, msgtyp, msgflg)),
    msgctl: (msqid, cmd, buf) => sysv().msgctl(msqid, cmd, buf),
    mmap: (addr, length, prot, flags, fd, offset) => mmap(addr, length, prot, flags, fd, offset) ?? 0n,
    munmap: (addr, length) => munmap(addr, length),
    madvise: (addr, length, advice) => madvise(addr, length, advice),
    memcpyFrom: (dst, src, n) => void memcpy(dst, src, n),
    strerror: (errnum) => strerror(errnum) ?? `errno ${errnum}`,
    sysconf: (name) => Number(sysconf(name)),
    errno: () => ffi.errno(),
    MAP_FAILED,
    pageSize,
  };
  return loaded;
}

/** The semaphore and message queue functions of libc (see libc()). */
function bindSysvIpc(lib: LibraryHandle, abi: Abi) {
  const symbols = abi.symbols as Partial<Record<string, string>>;
  const sym = (name: string): string => {
    const real = symbols[name];
    if (real === undefined) {
      throw new Error(`the ABI table of ${abi.target} has no linker name for ${name}: regenerate it (scripts/abi/generate.ts)`);
    }
    return real;
  };
  return {
    semget: lib.func(sym('semget'), 'int', ['int', 'int', 'int']),
    semop: lib.func(sym('semop'), 'int', ['int', 'void *', 'size_t']),
    semtimedop: lib.func(sym('semtimedop'), 'int', ['int', 'void *', 'size_t', 'void *']),
    // semctl is variadic; its fourth argument, a union semun, is pointer-sized and travels like a long on every
    // target ABI (docs/design/semaphores-and-queues.md, section 2), so two fixed prototypes bind it: one passes an
    // integer (SETVAL's val, placed by abi.semunValue; 0 for commands without an argument), one a buffer.
    semctlValue: lib.func(sym('semctl'), 'int', ['int', 'int', 'int', 'intptr_t']),
    semctlBuffer: lib.func(sym('semctl'), 'int', ['int', 'int', 'int', 'void *']),
    msgget: lib.func(sym('msgget'), 'int', ['int', 'int']),
    msgsnd: lib.func(sym('msgsnd'), 'int', ['int', 'void *', 'size_t', 'int']),
    msgrcv: lib.func(sym('msgrcv'), 'intptr_t', ['int', 'void *', 'size_t', 'long', 'int']),
    msgctl: lib.func(sym('msgctl'), 'int', ['int', 'int', 'void *']),
  };
}
