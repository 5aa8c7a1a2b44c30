// Shared layout between the engine (main thread) and its waiter workers: constants only (no koffi).
// Syscall numbers (kernel headers: asm/unistd_64.h, asm-generic/unistd.h). futex_waitv is 449 on every
// architecture since 5.16 (x86-64, arm64, ia32, arm, riscv, ...); futex differs.
export const SYS = {
  x64: { futex: 202, futex_waitv: 449 },
  arm64: { futex: 98, futex_waitv: 449 },
}[process.arch];
if (!SYS) throw new Error(`spike: no syscall table for ${process.arch}`);

export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const FUTEX_PRIVATE_FLAG = 128;
export const FUTEX_32 = 2; // futex2 size flag
export const FUTEX2_PRIVATE = 128;
export const FUTEX_WAITV_MAX = 128;
export const EAGAIN = 11;
export const EINTR = 4;
export const EFAULT = 14;
export const EINVAL = 22;
export const ENOSYS = 38;
export const EPERM = 1;
export const ETIMEDOUT = 110;

// Control words of a shard (Int32Array over a SharedArrayBuffer).
export const CTL = {
  GEN: 0, // seqlock + futex word: odd while main writes slots; the worker sleeps on it (entry 0 of the waitv array)
  SLEEPING: 1, // 1 while the worker is (about to be) in the syscall: main calls FUTEX_WAKE only then
  QUIT: 2, // 1: the worker returns from its loop (set at exit)
  DIRTY: 3, // 1: the worker wrote FIRED entries main has not looked at yet
  STATUS: 4, // 0 starting, 1 futex_waitv, 2 polling fallback, 3 ended after QUIT, < 0: -errno of a fatal error (notified)
  RETURNS: 5, // statistics: syscall returns
  REPORTS: 6, // statistics: reports sent
  SNAPSHOTS: 7, // statistics: times the worker re-read the slot table
  LENGTH: 16,
};

// A slot (8 int32 words): one watched word with its expected value.
export const SLOT = { STATE: 0, SEQ: 1, EXPECTED: 2, ADDR_LO: 3, ADDR_HI: 4, FIRED: 5, WORDS: 8 };

