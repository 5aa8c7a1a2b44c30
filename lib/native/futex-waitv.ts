// futex_waitv(2) (Linux 5.16+) through libc's syscall(2), and the never-freed memory its callers hand it. C-shaped:
// results are the raw return value or -errno, no exceptions.
//
//   long futex_waitv(struct futex_waitv *waiters, unsigned int nr_futexes, unsigned int flags,
//                    struct __kernel_timespec *timeout, clockid_t clockid);
//
// It sleeps until one of up to FUTEX_WAITV_MAX words is woken (FUTEX_WAKE on it, from any process when the entry
// is shared) and returns that entry's index; -EAGAIN when an entry's word did not hold its `val` when the kernel
// compared it (before sleeping); -ETIMEDOUT at the absolute `timeout` on `clockid`; -EINTR on a signal. The
// syscall number, the struct layouts and the flags come from the generated ABI tables (lib/abi/targets).
//
// The prototype is fixed for the same reason as in syscall.ts (koffi refuses async calls to variadic functions):
// every argument is a full machine word, which is what syscall() reads back on every Linux ABI.
import { koffi } from './koffi.js';
import { libc, libcHandle, type Pointer } from './libc.js';
import type { SyscallResult } from './syscall.js';

export interface FutexWaitvSyscall {
  /** The syscall number, or undefined where the ABI table has none (every call then returns -ENOSYS). */
  readonly nr: number | undefined;
  /** sizeof(struct futex_waitv), and the offsets of its fields (val: u64, uaddr: u64, flags: u32). */
  readonly entrySize: number;
  /** sizeof(struct __kernel_timespec): 64-bit seconds and nanoseconds on every target. */
  readonly timespecSize: number;
  /** The most entries one call takes (FUTEX_WAITV_MAX). */
  readonly maxEntries: number;
  /** FUTEX_32: the size flag every entry needs. */
  readonly FUTEX_32: number;
  /** FUTEX2_PRIVATE (the same bit as FUTEX_PRIVATE_FLAG): an entry on memory no other process maps. */
  readonly FUTEX2_PRIVATE: number;
  /** futex_waitv(waiters, count, 0, timeout, clockid): the woken entry's index, or -errno. */
  call(waiters: Pointer, count: number, timeout: Pointer | null, clockid: number): SyscallResult;
  /**
   * The same on a koffi worker thread (libuv's pool). `done` gets the result or -errno (errno is read inside koffi's
   * completion callback, where koffi restores it). `waiters` and `timeout` must stay valid until `done` runs: pass
   * permanentMemory().
   */
  callAsync(waiters: Pointer, count: number, timeout: Pointer | null, clockid: number, done: (result: SyscallResult, failure?: Error) => void): void;
  /** Writes entry `i` of an array of struct futex_waitv: the 32-bit word at `uaddr` expected to hold `val`. */
  writeEntry(target: DataView, i: number, val: number, uaddr: Pointer, flags: number): void;
  /** Writes a struct __kernel_timespec of `ns` nanoseconds at `offset`. */
  writeTimespec(target: DataView, offset: number, ns: bigint): void;
}

let bound: FutexWaitvSyscall | undefined;

export function futexWaitvSyscall(): FutexWaitvSyscall {
  if (bound) return bound;
  const { abi } = libc();
  const nr = abi.syscalls.futex_waitv;
  const entry = abi.description.kernelStructs.futex_waitv;
  const ts = abi.description.kernelStructs.__kernel_timespec;
  const [valAt, uaddrAt, flagsAt] = [entry.fields.val.offset, entry.fields.uaddr.offset, entry.fields.flags.offset];
  const [secAt, nsecAt] = [ts.fields.tv_sec.offset, ts.fields.tv_nsec.offset];
  const little = abi.littleEndian;
  const ENOSYS = abi.errno.ENOSYS;
  const fn = libcHandle().func('long syscall(long nr, void *waiters, long nr_futexes, long flags, void *timeout, long clockid)');
  const toResult = (ret: number | bigint): number => {
    const r = Number(ret);
    return r === -1 ? -koffi().errno() : r;
  };
  bound = {
    nr,
    entrySize: entry.size,
    timespecSize: ts.size,
    maxEntries: abi.constants.FUTEX_WAITV_MAX,
    FUTEX_32: abi.constants.FUTEX_32,
    FUTEX2_PRIVATE: abi.constants.FUTEX_PRIVATE_FLAG,
    call(waiters, count, timeout, clockid) {
      if (nr === undefined) return -ENOSYS;
      return toResult(fn(nr, waiters, count, 0, timeout, clockid));
    },
    callAsync(waiters, count, timeout, clockid, done) {
      if (nr === undefined) {
        queueMicrotask(() => done(-ENOSYS));
        return;
      }
      fn.async(nr, waiters, count, 0, timeout, clockid, (err: unknown, ret: number | bigint) => {
        if (err) {
          // koffi could not make the call at all (e.g. too many async calls in flight).
          done(-1, err instanceof Error ? err : new Error(String(err)));
          return;
        }
        done(toResult(ret));
      });
    },
    writeEntry(target, i, val, uaddr, flags) {
      const at = i * entry.size;
      // The kernel compares the word with val as an unsigned 32-bit value in a u64: a sign-extended one is EINVAL.
      target.setBigUint64(at + valAt, BigInt(val >>> 0), little);
      target.setBigUint64(at + uaddrAt, uaddr, little);
      target.setUint32(at + flagsAt, flags, little);
      // __reserved (the rest of the entry) stays 0, as the kernel requires: permanentMemory() is zeroed.
    },
    writeTimespec(target, offset, ns) {
      target.setBigInt64(offset + secAt, ns / 1_000_000_000n, little);
      target.setBigInt64(offset + nsecAt, ns % 1_000_000_000n, little);
    },
  };
  return bound;
}

/**
 * `size` bytes of zeroed memory that is never freed (koffi.alloc, i.e. calloc): for what a call in flight on another
 * thread reads after the JavaScript that issued it has moved on (a futex word, an argument array), so that no call
 * ever touches freed memory. Returns its address and an ArrayBuffer over it. Meant for a few small blocks per thread.
 */
export function permanentMemory(size: number): { address: Pointer; buffer: ArrayBuffer } {
  const ffi = koffi();
  libc(); // the platform check
  const pointer: unknown = ffi.alloc('uint8_t', size);
  const address = ffi.address(pointer);
  return { address, buffer: ffi.view(address, size) };
}
