// Checks of what a caller passes to a channel end, and the errors for misuse (docs/api.md, "Errors"): a TypeError
// or RangeError thrown before anything happens. Sequencing mistakes (commit() without reserve(), ...) are
// TypeErrors that carry a `code` ('ERR_CHANNEL_*'), so that they can be told apart.
import { stateError, type ShmError } from '../../c/index.js';
import { MAX_TIMEOUT_MS, checkInteger, checkTimeoutMs } from '../../common/arguments.js';
import { abortError, checkSignal } from '../../common/abort.js';

export interface TimeoutOptions {
  /** Give up after this many ms (default: no limit). 0 never blocks. */
  timeoutMs?: number;
}

export interface AsyncOptions extends TimeoutOptions {
  /**
   * Cancels the call: it rejects with an AbortError (code 'ABORT_ERR', cause: the signal's reason), at once if the
   * signal is already aborted. The channel stays consistent: an aborted receive took no message, an aborted send
   * wrote nothing.
   */
  signal?: AbortSignal;
}

/** A TypeError for a call made out of order, with a `code` that names the mistake. */
export type SequenceError = TypeError & { code: string };

export function sequenceError(code: string, message: string): SequenceError {
  return Object.assign(new TypeError(message), { code });
}

/** An async operation of this end is pending: synchronous calls wait their turn by being refused. */
export function busyError(op: string): SequenceError {
  return sequenceError('ERR_CHANNEL_BUSY', `${op}: an async operation on this end is still pending; await it first (or use the async variant, which queues)`);
}

export function reservedError(op: string): SequenceError {
  return sequenceError('ERR_CHANNEL_RESERVED', `${op}: a reserve()d view is not committed yet; commit() it first`);
}

export function peekedError(op: string): SequenceError {
  return sequenceError('ERR_CHANNEL_PEEKED', `${op}: a peek()ed message is not released yet; release() it first`);
}

// The checks below run on every message: each tests the usual case first and leaves the rest (and the building of
// error messages) to a function of its own, so that what V8 inlines into send and receive stays small.

/** `options.timeoutMs` as common/arguments.ts checks it (Infinity: no limit). */
export function checkTimeout(op: string, options: TimeoutOptions | undefined): number {
  const timeout = options?.timeoutMs;
  if (timeout === undefined) return Infinity;
  if (typeof timeout === 'number' && timeout >= 0 && timeout <= MAX_TIMEOUT_MS) return timeout;
  return checkTimeoutMs(op, timeout);
}

/** The bytes of a message: a Uint8Array as is, another view or an ArrayBuffer as a Uint8Array over the same memory. */
export function asBytes(op: string, bytes: unknown): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : otherBytes(op, bytes);
}

function otherBytes(op: string, bytes: unknown): Uint8Array {
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError(`${op}: expected a Uint8Array, another ArrayBufferView or an ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`);
}

/** A byte count: an integer >= 0 (the usual case is tested first, the error is built out of line). */
export function checkLength(op: string, length: unknown): number {
  if (typeof length === 'number' && Number.isInteger(length) && length >= 0 && length <= Number.MAX_SAFE_INTEGER) return length;
  return checkInteger(op, 'length', length);
}

/** EMSGSIZE: a message that this channel can never hold (a ShmError: the size is legal, this channel is too small). */
export function tooLarge(op: string, n: number, max: number, shmid: number, kind = 'channel'): ShmError {
  return stateError(
    'EMSGSIZE',
    op,
    `${op}: a message of ${n} bytes does not fit this ${kind} (at most ${max} bytes, the ring capacity minus an 8-byte record header); ` +
      `nothing was written. Create the ${kind} with a larger capacity, or split the message yourself`,
    { shmid },
  );
}

/**
 * The async operations of one end run one after another (each waits for the previous one); `pending` counts them,
 * so that synchronous calls can be refused meanwhile (busyError). An operation whose signal aborts while it waits
 * for its turn leaves the queue at once (AbortError); the ones behind it keep their order.
 */
export class AsyncQueue {
  #pending = 0;
  #chain: Promise<void> = Promise.resolve();

  get pending(): number {
    return this.#pending;
  }

  async run<T>(op: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
    this.#pending++;
    const previous = this.#chain;
    let done!: () => void;
    this.#chain = new Promise<void>((resolve) => (done = resolve));
    try {
      if (signal === undefined) await previous;
      else await turnOrAbort(op, previous, signal);
      return await body();
    } finally {
      this.#pending--;
      // The next operation starts only when the previous one has finished too (an aborted one left early).
      void previous.then(done);
    }
  }
}

/** Resolves when `turn` does, or rejects with an AbortError when `signal` aborts first. */
function turnOrAbort(op: string, turn: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(op, signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortError(op, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void turn.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** What an end that receives provides to receiveInTurn. */
export interface ReceivingEnd {
  /** The checks before a receive (this end usable, no peeked message; sync calls: nothing pending). */
  ready(op: string, asyncCall: boolean): void;
  /** The next message's length now, or -1. */
  tryNext(op: string): number;
  /** Waits for one on the doorbell until `deadline` (performance.now() time; -1 then) or `signal`. */
  nextAsync(deadline: number, op: string, signal: AbortSignal | undefined): Promise<number>;
  /** Throws after a close() (which detached the ring). */
  assertUsable(op: string): void;
}

/**
 * An async receive of an end: the checks, the message at once if there is one and nothing is queued, else a turn in
 * the end's `queue` and a doorbell wait; `take` takes the checked next message of `length` bytes.
 */
export async function receiveInTurn<T>(
  queue: AsyncQueue,
  end: ReceivingEnd,
  op: string,
  options: AsyncOptions | undefined,
  take: (length: number, op: string) => T,
): Promise<T | null> {
  const timeout = checkTimeout(op, options);
  const signal = checkSignal(op, options?.signal);
  end.ready(op, true);
  if (signal?.aborted) throw abortError(op, signal);
  if (queue.pending === 0) {
    const length = end.tryNext(op);
    if (length >= 0) return take(length, op);
  }
  const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
  return queue.run(op, signal, async () => {
    end.ready(op, true);
    const length = await end.nextAsync(deadline, op, signal);
    // The wait settled a microtask ago: an abort since then has no effect (the message is taken, not lost), but a
    // close() since then detached the ring.
    end.assertUsable(op);
    return length < 0 ? null : take(length, op);
  });
}
