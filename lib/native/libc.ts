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
