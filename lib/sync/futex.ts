// Wait and notify on a 32-bit word of a shared-memory segment, across processes: Atomics.wait/notify for memory
// that is not a SharedArrayBuffer, built on Linux futexes.
//
// The futex ops used are the shared ones (FUTEX_WAIT / FUTEX_WAKE without FUTEX_PRIVATE_FLAG): the kernel then
// keys the wait queue on the segment's page, so a waiter in one process is woken by a notify in another process
// that maps the same segment at another address.
import { ShmError, attachmentOf, futexSyscall, runPendingTerminationListeners, stateError } from '../c/index.js';
import { getAbi, type Abi } from '../abi/index.js';
import { INT32_MAX, checkInteger, checkSpin, checkTimeoutMs } from '../common/arguments.js';

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
   * waitAsync sleeps on a libuv worker thread in slices of at most this many ms (default ASYNC_SLICE_MS: 500),
   * checking between slices that the segment is still attached: a detach is noticed within one slice. A number > 0.
   */
  sliceMs?: number;
}

/** Re-reads of the word before wait() and waitAsync() sleep, unless `options.spin` says otherwise. */
export const WAIT_SPIN = 100;
/** The longest slice of a waitAsync sleep, unless `options.sliceMs` says otherwise. */
export const ASYNC_SLICE_MS = 500;

/** Counters of the futex syscalls this process made (for measurements and tests: "how many FFI calls?"). */
const counters = { wait: 0, wake: 0 };

/** How many futex wait and wake syscalls this process has made so far. */
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

/** futexWaitAt on a koffi worker thread: the event loop keeps running. One syscall per call (plus EINTR retries). */
export function futexWaitAtAsync(address: bigint, expected: number, timeoutMs: number, operation: string): Promise<WaitResult> {
  const o = futexOps();
  const sys = futexSyscall();
  const deadline = timeoutMs === Infinity ? Infinity : now() + timeoutMs;
  return new Promise<WaitResult>((resolve, reject) => {
    const attempt = (remaining: number) => {
      // Held by this closure until the call completes: the worker thread reads it while this thread goes on.
      const ts = timespec(remaining);
      counters.wait++;
      sys.callAsync(address, o.wait, expected | 0, ts, (r, failure) => {
        void ts;
        if (failure) return reject(failure);
        if (r >= 0) return resolve('ok');
        const errnoValue = -r;
        if (errnoValue === o.EAGAIN) return resolve('not-equal');
        if (errnoValue === o.ETIMEDOUT) return resolve('timed-out');
        if (errnoValue !== o.EINTR) return reject(futexError(operation, errnoValue, address));
        const left = deadline === Infinity ? Infinity : deadline - now();
        if (left <= 0) return resolve('timed-out');
        attempt(left);
      });
    };
    try {
      attempt(timeoutMs);
    } catch (error) {
      reject(error);
    }
  });
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

/**
 * What wait() and waitAsync() do before sleeping: checks every argument (before any syscall), then the word and
 * the spin. Returns the outcome when no sleep is needed, else what the sleep needs.
 */
function prepareWait(
  fn: string,
  view: Int32Array,
  index: number,
  expected: number,
  timeoutMs: number | undefined,
  spinOption: unknown,
): WaitResult | { address: bigint; value: number; timeout: number } {
  const address = wordAddress(fn, view, index);
  const value = checkExpected(fn, expected);
  const timeout = checkTimeoutMs(fn, timeoutMs);
  const spin = checkSpin(fn, spinOption, WAIT_SPIN);
  if (Atomics.load(view, index) !== value) return 'not-equal';
  if (spinUntilChanged(view, index, value, spin)) return 'not-equal';
  if (timeout === 0) return 'timed-out';
  return { address, value, timeout };
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
  const w = prepareWait('wait', view, index, expected, timeoutMs, options?.spin);
  if (typeof w === 'string') return w;
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

/** `options.sliceMs`: a number of ms > 0 (Infinity: one slice), else the default. */
function checkSliceMs(fn: string, value: unknown): number {
  if (value === undefined) return ASYNC_SLICE_MS;
  if (typeof value !== 'number') throw new TypeError(`${fn}: sliceMs must be a number of milliseconds, got ${typeof value}`);
  if (!(value > 0)) throw new RangeError(`${fn}: sliceMs must be > 0, got ${value}`);
  return value;
}

/**
 * wait() without blocking the event loop: the sleep happens on a libuv worker thread (koffi async call), in slices
 * of `options.sliceMs` (default ASYNC_SLICE_MS). Each pending waitAsync occupies one thread of libuv's pool
 * (UV_THREADPOOL_SIZE, default 4) while it sleeps. A notify that lands between two slices is not seen, exactly as a
 * notify with no waiter is lost for Atomics.wait: change the word before notifying and the next slice returns
 * 'not-equal'.
 */
export async function waitAsync(view: Int32Array, index: number, expected: number, timeoutMs?: number, options?: WaitAsyncOptions): Promise<WaitResult> {
  const sliceMs = checkSliceMs('waitAsync', options?.sliceMs); // checked even when no sleep follows
  const w = prepareWait('waitAsync', view, index, expected, timeoutMs, options?.spin);
  if (typeof w === 'string') return w;
  const { address, value, timeout } = w;
  const deadline = timeout === Infinity ? Infinity : now() + timeout;
  for (;;) {
    const left = deadline === Infinity ? Infinity : deadline - now();
    if (left <= 0) return 'timed-out';
    const slice = Math.min(left, sliceMs);
    const result = await futexWaitAtAsync(address, value, slice, 'waitAsync');
    if (result !== 'timed-out' || slice === left) return result;
    // Between slices: the segment must still be attached (a detach turns the word into private memory).
    wordAddress('waitAsync', view, index);
  }
}
