// libc's syscall(2), bound for futex(2). C-shaped: results are the raw return value or -errno, no exceptions.
//
// Why a fixed prototype for a variadic function: koffi refuses .async calls to variadic functions, and futex
// waits must be able to run on a worker thread. The prototype below passes every argument as a full machine word
// (long or pointer), which is exactly what glibc's and musl's syscall() read back with va_arg(long):
//  - x86-64 (SysV ABI): named and variadic integer arguments use the same registers (rdi, rsi, rdx, rcx, r8, r9,
//    then the stack for the 7th). A variadic call also sets %al to the number of vector registers used; a
//    fixed-prototype caller leaves %al unspecified. glibc's syscall() is assembly (syscall.S) that never reads
//    %al, and a C implementation would only use it to decide whether to spill xmm registers. Safe.
//  - arm64 on Linux (AAPCS64): variadic arguments are passed exactly like named ones, in x0-x7 (only Apple's
//    arm64 ABI puts them on the stack, and this library is Linux-only). Safe.
//  - ia32, arm32 (EABI), riscv64, mips64 n64, s390x, ppc64 ELFv2: integer and pointer arguments go to the same
//    registers/stack slots whether named or variadic; on ppc64 the callee-allocated parameter save area is never
//    touched by libc's assembly syscall(). Safe.
// Declaring the int parameters as `long` matters: with `int`, the upper half of a 64-bit register would be
// unspecified while syscall() reads a long.
import { koffi } from './koffi.js';
import { libc, libcHandle, type Pointer } from './libc.js';

/** Result of a raw syscall: the return value (>= 0), or -errno. */
export type SyscallResult = number;

export interface FutexSyscall {
  /** The syscall number used (futex, or futex_time64 on 32-bit targets with 64-bit time). */
  readonly nr: number;
  /** Size in bytes of the timespec the syscall takes. */
  readonly timespecSize: number;
  /** futex(uaddr, op, val, timeout, NULL, 0); returns the result or -errno. */
  call(uaddr: Pointer, op: number, val: number, timeout: Uint8Array | null): SyscallResult;
  /**
   * Same on a koffi worker thread. `done` gets the result or -errno. koffi saves errno on the worker thread and
   * restores it on the main thread only while its completion callback runs (not in later microtasks), so errno
   * is read inside that callback here and handed over as a plain number.
   */
  callAsync(uaddr: Pointer, op: number, val: number, timeout: Uint8Array | null, done: (result: SyscallResult, failure?: Error) => void): void;
}

let bound: FutexSyscall | undefined;

export function futexSyscall(): FutexSyscall {
  if (bound) return bound;
  const { abi } = libc();
  const time64Nr = abi.syscalls.futex_time64;
  // On 32-bit targets built with 64-bit time_t the timespec layout is 64-bit and needs futex_time64; on 64-bit
  // targets plain futex already takes a 64-bit timespec (and futex_time64 does not exist).
  const nr = abi.pointerSize === 4 && abi.time64 && time64Nr !== undefined ? time64Nr : abi.syscalls.futex;
  if (nr === undefined) throw new Error(`the ABI table of ${abi.target} has no futex syscall number`);
  const fn = libcHandle().func('long syscall(long nr, void *uaddr, long op, long val, void *timeout, void *uaddr2, long val3)');
  const toResult = (ret: number | bigint): number => {
    const r = Number(ret);
    return r === -1 ? -koffi().errno() : r;
  };
  bound = {
    nr,
    timespecSize: abi.sizeof.timespec,
    call(uaddr, op, val, timeout) {
      return toResult(fn(nr, uaddr, op, val, timeout, null, 0));
    },
    callAsync(uaddr, op, val, timeout, done) {
      fn.async(nr, uaddr, op, val, timeout, null, 0, (err: unknown, ret: number | bigint) => {
        if (err) {
          // koffi could not make the call at all (e.g. too many async calls in flight).
          done(-1, err instanceof Error ? err : new Error(String(err)));
          return;
        }
        done(toResult(ret));
      });
    },
  };
  return bound;
}
