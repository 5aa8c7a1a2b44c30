// Wait and notify on a 32-bit word of a shared-memory segment, across processes: Atomics.wait/notify for memory
// that is not a SharedArrayBuffer, built on Linux futexes.
//
// The futex ops used are the shared ones (FUTEX_WAIT / FUTEX_WAKE without FUTEX_PRIVATE_FLAG): the kernel then
// keys the wait queue on the segment's page, so a waiter in one process is woken by a notify in another process
// that maps the same segment at another address.
import { ShmError, attachmentOf, futexSyscall, runPendingTerminationListeners, stateError } from '../c/index.js';
import { getAbi, type Abi } from '../abi/index.js';
import { INT32_MAX, checkInteger, checkSpin, checkTimeoutMs } from '../common/arguments.js';
import { abortError, checkSignal } from '../common/abort.js';
import { watchWord } from './word-watcher.js';

export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

export interface WaitOptions {
  /**
   * How many times to re-read the word before sleeping in the kernel (default WAIT_SPIN: 100). Spinning avoids a
   * syscall when the value is about to change; 0 sleeps at once.
   */
  spin?: number;
}

export interface WaitAsyncOptions extends WaitOptions {
  /**
   * @deprecated Ignored: waitAsync no longer sleeps in slices (it is one entry of the thread's word watcher, see
   * waitAsync). Still checked as before (a number > 0, else a TypeError or RangeError) so that old callers keep
   * working; it will be removed in a major version.
   */
  sliceMs?: number;
  /**
   * Cancels the wait: an AbortError (name 'AbortError', code 'ABORT_ERR', cause: signal.reason) rejects the promise,
   * at once when the signal is already aborted (after the arguments are checked, before the word is read).
   */
  signal?: AbortSignal;
}

/** Re-reads of the word before wait() and waitAsync() sleep, unless `options.spin` says otherwise. */
export const WAIT_SPIN = 100;
/** @deprecated The default of the ignored `options.sliceMs` of waitAsync (it used to be the longest slice of its sleep). */
export const ASYNC_SLICE_MS = 500;

/** Counters of the futex syscalls this process made (for measurements and tests: "how many FFI calls?"). */
const counters = { wait: 0, wake: 0 };

/**
 * How many futex wait and wake syscalls this thread has made so far through wait(), notify() and the channel;
 * waitAsync's shared futex_waitv calls are counted apart (wordWatcherStats in lib/internal.ts).
 */
export function futexCallCounts(): { wait: number; wake: number } {
  return { wait: counters.wait, wake: counters.wake };
}

interface Ops {
  wait: number;
  wake: number;
  EINTR: number;
  EAGAIN: number;
  ETIMEDOUT: number;
  EFAULT: number;
}
let ops: Ops | undefined;

let cachedAbi: Abi | undefined;

/** The running platform's ABI (getAbi() finds the target anew on each call: this keeps it). */
function hostAbi(): Abi {
  cachedAbi ??= getAbi();
  return cachedAbi;
}

function futexOps(): Ops {
  if (ops) return ops;
  const abi = hostAbi();
  const k = abi.constants;
  const e = abi.errno;
  // Shared futexes: no FUTEX_PRIVATE_FLAG.
  ops = { wait: k.FUTEX_WAIT, wake: k.FUTEX_WAKE, EINTR: e.EINTR, EAGAIN: e.EAGAIN, ETIMEDOUT: e.ETIMEDOUT, EFAULT: e.EFAULT };
  return ops;
}

// The last few encoded timeouts: sliced waits ask for the same slice again and again. The buffers are never
// written after encoding, so one may be shared by a synchronous call and calls in flight on worker threads.
const timespecCache = new Map<number, Uint8Array>();

function timespec(ms: number): Uint8Array | null {
  if (ms === Infinity) return null;
  let ts = timespecCache.get(ms);
  if (ts === undefined) {
    ts = hostAbi().encodeTimespec(ms);
    if (timespecCache.size >= 8) timespecCache.clear();
    timespecCache.set(ms, ts);
  }
  return ts;
}

function now(): number {
  return performance.now();
}

/** A futex call that failed with an errno other than the expected ones (EFAULT: the word is no longer mapped). */
function futexError(operation: string, errnoValue: number, address: bigint): ShmError {
  const code = hostAbi().errnoName(errnoValue) ?? `E${errnoValue}`;
  const where = `futex(0x${address.toString(16)})`;
  const message =
    code === 'EFAULT'
      ? `${code}: ${operation}: ${where}: the futex word is no longer mapped (its segment was detached)`
      : `${code}: ${operation}: ${where} failed with ${code}`;
  return new ShmError(message, { code, errno: errnoValue, syscall: 'futex', operation });
}

// ---------------------------------------------------------------------------------------------------------------
// Address-level primitives (no validation): used by the channel, which owns its attachment and its addresses.
// ---------------------------------------------------------------------------------------------------------------

/**
 * The longest single sleep of a synchronous wait. With a timeout the kernel ends the sleep with EINTR when a signal
 * comes to this thread; between sleeps the wait runs the listeners of a termination signal that came (see
 * native/signals.ts), and V8 gets to act on a pending termination (the REPL's Ctrl-C).
 */
const SLEEP_SLICE_MS = 50;

/**
 * FUTEX_WAIT on the word at `address` while it holds `expected`, for at most `timeoutMs` (Infinity: no limit), in
 * slices of SLEEP_SLICE_MS. EAGAIN is 'not-equal'; ETIMEDOUT at the deadline is 'timed-out'; a slice that ends
 * (EINTR, or its own timeout) sleeps again with the time left. `operation` names the API call in an error.
 */
export function futexWaitAt(address: bigint, expected: number, timeoutMs: number, operation: string): WaitResult {
  const o = futexOps();
  const sys = futexSyscall();
  const deadline = timeoutMs === Infinity ? Infinity : now() + timeoutMs;
  let remaining = timeoutMs;
  for (;;) {
    counters.wait++;
    const slice = Math.min(remaining, SLEEP_SLICE_MS);
    const r = sys.call(address, o.wait, expected | 0, timespec(slice));
    if (r >= 0) return 'ok';
    const errnoValue = -r;
    if (errnoValue === o.EAGAIN) return 'not-equal';
    if (errnoValue !== o.ETIMEDOUT && errnoValue !== o.EINTR) throw futexError(operation, errnoValue, address);
    runPendingTerminationListeners();
    if (deadline !== Infinity) {
      remaining = deadline - now();
      if (remaining <= 0) return 'timed-out';
    }
  }
}

/** FUTEX_WAKE: wakes up to `count` waiters on the word at `address`; returns how many woke. */
export function futexWakeAt(address: bigint, count: number, operation: string): number {
  counters.wake++;
  const r = futexSyscall().call(address, futexOps().wake, count, null);
  if (r < 0) throw futexError(operation, -r, address);
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// The public, validated API: views over segment buffers.
// ---------------------------------------------------------------------------------------------------------------

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** Validates (view, index) and returns the address of view[index]. Throws before any syscall. */
function wordAddress(fn: string, view: unknown, index: unknown): bigint {
  if (!(view instanceof Int32Array)) {
    throw new TypeError(`${fn}: expected an Int32Array over a shared-memory segment's buffer, got ${describe(view)}`);
  }
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw new TypeError(`${fn}: index must be an integer, got ${typeof index === 'number' ? index : typeof index}`);
  }
  if (index < 0 || index >= view.length) {
    throw new RangeError(`${fn}: index ${index} is out of range for an Int32Array of length ${view.length}`);
  }
  const owner = attachmentOf(view.buffer);
  if (!owner) {
    throw new TypeError(
      `${fn}: the Int32Array is not over a shared-memory segment (its buffer must be attachment.buffer from shmat()); ` +
        'futexes on ordinary memory would never see another process',
    );
  }
  const attachment = owner.attachment;
  if (attachment.detached) {
    throw stateError(
      'ERR_SHM_DETACHED',
      fn,
      `${fn}: segment ${attachment.shmid} was detached from this process; its buffer now covers placeholder memory that no other process sees`,
      { shmid: attachment.shmid },
    );
  }
  const byteOffset = owner.offset + view.byteOffset + index * 4;
  if (byteOffset + 4 > attachment.size) {
    throw new RangeError(`${fn}: byte offset ${byteOffset} is beyond the segment's ${attachment.size} bytes`);
  }
  const address = attachment.address + BigInt(byteOffset);
  if ((address & 3n) !== 0n) throw new RangeError(`${fn}: the word at 0x${address.toString(16)} is not 4-byte aligned`);
  return address;
}

function checkExpected(fn: string, expected: unknown): number {
  if (typeof expected !== 'number' || !Number.isInteger(expected)) {
    throw new TypeError(`${fn}: expected must be an integer, got ${typeof expected === 'number' ? expected : typeof expected}`);
  }
  if (expected < -0x80000000 || expected > 0xffffffff) {
    throw new RangeError(`${fn}: expected ${expected} does not fit a 32-bit word`);
  }
  return expected | 0;
}

/** Re-reads view[index] up to `spin` times; true when it stopped holding `expected`. */
function spinUntilChanged(view: Int32Array, index: number, expected: number, spin: number): boolean {
  for (let i = 0; i < spin; i++) if (Atomics.load(view, index) !== expected) return true;
  return false;
}

/** Checks every argument of wait() and waitAsync(), before any syscall. */
function checkWait(
  fn: string,
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number | undefined,
  spinOption: unknown,
): { address: bigint; value: number; timeout: number; spin: number } {
  const address = wordAddress(fn, view, index);
  const value = checkExpected(fn, expected);
  const timeout = checkTimeoutMs(fn, timeoutMs);
  const spin = checkSpin(fn, spinOption, WAIT_SPIN);
  return { address, value, timeout, spin };
}

/** The word and the spin, before a sleep: the outcome when no sleep is needed, else undefined. */
function checkWord(view: Int32Array, index: number, value: number, timeout: number, spin: number): WaitResult | undefined {
  if (Atomics.load(view, index) !== value) return 'not-equal';
  if (spinUntilChanged(view, index, value, spin)) return 'not-equal';
  if (timeout === 0) return 'timed-out';
  return undefined;
}

/**
 * Like Atomics.wait for a word in a shared-memory segment: sleeps while `view[index] === expected`, until
 * notify() or `timeoutMs` (default: no limit). Spins `options.spin` reads first.
 *
 * Returns 'not-equal' when the word did not hold `expected` (at the call, during the spin, or when the kernel
 * compared it), 'ok' when woken by a notify (or spuriously: re-check your condition), 'timed-out' otherwise.
 * Blocks the thread: use waitAsync on the main thread of a server.
 */
export function wait(view: Int32Array, index: number, expected: number, timeoutMs?: number, options?: WaitOptions): WaitResult {
  const w = checkWait('wait', view, index, expected, timeoutMs, options?.spin);
  const outcome = checkWord(view, index, w.value, w.timeout, w.spin);
  if (outcome !== undefined) return outcome;
  return futexWaitAt(w.address, w.value, w.timeout, 'wait');
}

/** Like Atomics.notify: wakes up to `count` (default: all) waiters on view[index], in any process; returns how many woke. */
export function notify(view: Int32Array, index: number, count?: number): number {
  const address = wordAddress('notify', view, index);
  // Every waiter when no count is given (or Infinity); the kernel takes at most INT32_MAX.
  const n = count === undefined || count === Infinity ? INT32_MAX : Math.min(checkInteger('notify', 'count', count), INT32_MAX);
  if (n === 0) return 0;
  return futexWakeAt(address, n, 'notify');
}

/** The deprecated `options.sliceMs`: still checked as it was (a number of ms > 0, Infinity included), then ignored. */
function checkSliceMs(fn: string, value: unknown): number {
  if (value === undefined) return ASYNC_SLICE_MS;
  if (typeof value !== 'number') throw new TypeError(`${fn}: sliceMs must be a number of milliseconds, got ${typeof value}`);
  if (!(value > 0)) throw new RangeError(`${fn}: sliceMs must be > 0, got ${value}`);
  return value;
}

/**
 * wait() without blocking the event loop. Resolves 'ok' when a FUTEX_WAKE on the word (notify() or C or Python, from
 * any process) woke it, or when the word changed after the wait had slept; 'not-equal' when the word did not hold
 * `expected` (at the call, during the spin, or when the kernel first compared it); 'timed-out' after `timeoutMs`
 * (an unref'd timer). `options.signal` cancels it with an AbortError. Arguments are checked first: misuse rejects
 * with a TypeError or RangeError before anything else.
 *
 * How it sleeps (each thread, the main one or a worker, has its own watcher): every pending waitAsync of the thread
 * is an entry of one futex_waitv(2) call (Linux 5.16+) that a thread of libuv's pool makes for up to 127 distinct
 * words (pending waits on the same word and value share an entry); each further 127 words take one more pool
 * thread. Cost: one pool thread whatever the number of pending waits on those words; no CPU while nothing happens
 * but the call's return every 500 ms (100 ms in a worker thread) to look for a detached segment; one control-word
 * wake per tick in which waits start or end. At most half of libuv's pool (UV_THREADPOOL_SIZE, default 4: so 2
 * calls, 254 words; none of a pool of 1) is used, so that fs, dns and crypto keep theirs: the words beyond are
 * polled by the main thread (every 1 ms after a change, slowing to every 100 ms while nothing changes) until a call
 * has room for them. A polled word sees a change of its value, not a FUTEX_WAKE that leaves it as it was.
 *
 * Where futex_waitv is missing (ENOSYS: kernels before 5.16, qemu-user) or refused (EPERM: seccomp), the fallback
 * is one pool-thread FUTEX_WAIT per distinct word, in slices of 100 ms, with the same cap (2 words in the kernel by
 * default, the others polled as above).
 *
 * Differences from Atomics.waitAsync, and from waitAsync before the watcher:
 * - A pending wait keeps the process alive (the call in flight is a libuv request), as it always did here
 *   (Atomics.waitAsync does not). Once nothing is pending, nothing is left to hold the event loop.
 * - One FUTEX_WAKE resolves every pending waitAsync of the thread on that word and value, whatever notify's
 *   `count` (extra 'ok's are spurious wake-ups: re-check your condition); notify() counts the watcher as one waiter.
 * - A FUTEX_WAKE that leaves the word as it was may be missed: while the watcher re-arms its call (after each
 *   return, some microseconds), when two words of one call are woken at the same instant, or on a polled word.
 *   Change the word before notifying (the futex protocol): a change is always seen.
 * - 'not-equal' only when the word changed before the watcher first watched it hold `expected`; a change after
 *   that is 'ok', as a notify that came with it would be.
 * - A segment detached while a wait is pending ends it with ERR_SHM_DETACHED at the watcher's next periodic look
 *   (every 500 ms, 100 ms in a worker thread: at most 1.5 times that).
 * - A pending wait can be aborted (options.signal); one listener per signal, removed once its waits settled.
 * - At process exit ('exit' event), calls in flight are woken: exit is not delayed (fallback: by one slice, 100 ms
 *   at most). A worker thread ended by terminate() waits for its call's timeout (100 ms at most).
 *
 * `options.sliceMs` is deprecated and ignored (still checked: a number > 0).
 */
export async function waitAsync(view: Int32Array, index: number, expected: number, timeoutMs?: number, options?: WaitAsyncOptions): Promise<WaitResult> {
  checkSliceMs('waitAsync', options?.sliceMs); // checked even when no sleep follows; otherwise ignored
  const w = checkWait('waitAsync', view, index, expected, timeoutMs, options?.spin);
  const signal = checkSignal('waitAsync', options?.signal);
  if (signal?.aborted) throw abortError('waitAsync', signal);
  const outcome = checkWord(view, index, w.value, w.timeout, w.spin);
  if (outcome !== undefined) return outcome;
  return watchWord({
    view,
    index,
    address: w.address,
    expected: w.value,
    timeoutMs: w.timeout,
    signal,
    operation: 'waitAsync',
    detached: () => detachedError('waitAsync', view, index),
  });
}

/** The ERR_SHM_DETACHED error of view[index] once its segment was detached, else undefined. */
function detachedError(fn: string, view: Int32Array, index: number): Error | undefined {
  try {
    wordAddress(fn, view, index);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
