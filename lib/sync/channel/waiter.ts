// How an end of a channel waits for its peer, whichever end it is, through its wake-up cell (ring-layout.ts):
//
//   synchronous:  spin on the condition; then bell = announce a futex sleep; re-check; futex_wait(&BELL, bell,
//                 min(time left, SLICE_MS)); withdraw; check the peer if the slice expired; repeat
//   asynchronous: announce a doorbell sleep (this thread's doorbell, a token); re-check; return to the event loop.
//                 A ring (the token), a scan or the doorbell's watch timer re-checks: re-announce, re-check, and
//                 the watch also checks the peer's liveness. The deadline is a timer; an AbortSignal ends it.
//
// The peer wakes the cell only when it finds a sleep announced (Cell.wake), so at steady state with a spinning
// peer a message costs no syscall at all. Sync sleeps are sliced (SLICE_MS) so that a peer killed by SIGKILL is
// noticed through its pid, and the peer is checked at least once per slice whatever the futex returned (a process
// that keeps ringing must not hide a dead peer). What the end waits for, and what it checks, is the end's
// (WaitingEnd); the loops are these.
import { futexWaitAt, type WaitResult } from '../futex.js';
import { SPIN_CHECK_EVERY, type SpinPolicy } from '../spin-policy.js';
import { abortError } from '../../common/abort.js';
import { DeadlineTimer } from '../../common/timers.js';
import { threadDoorbell, type Doorbell, type Ringable } from '../doorbell/doorbell.js';
import type { Cell } from '../cell.js';

/** Longest single synchronous sleep: the peer's liveness is checked whenever one expires. */
export const SLICE_MS = 50;

/** What a waiting end provides: the condition, and what it checks around each sleep. */
export interface WaitingEnd {
  /** The condition: a value >= 0 ends the wait with that value (a ring offset, a length); -1 goes on waiting. */
  poll(op: string): number;
  /**
   * Called with the sleep announced and the condition still false, before each sleep: publishes this end's counter
   * again (it has not changed: if another process overwrote it, both ends could wait for each other), and throws
   * EPIPE when the peer closed (EPROTO for a forged flag). Returns -1 to sleep, or the condition's value when it
   * turned true meanwhile (a peer that published, then closed, between the poll and this check).
   */
  beforeSleep(op: string): number;
  /** Throws EPIPE when the peer's process is gone (EPROTO when its identity in the header changed). */
  checkPeer(op: string): void;
  /** At the deadline, after checkPeer: throws ETIMEDOUT, or returns the value that means "timed out". */
  expired(op: string): number;
}

/**
 * Where a waiting end sleeps: its wake-up cell, and its own state. A channel end's Header; a mailbox's receiver,
 * which sleeps on one cell for all its senders' lanes.
 */
export interface WaitSite {
  readonly selfCell: Cell;
  /** True once this end called close(): the cell may be detached memory by then. */
  readonly closed: boolean;
  /** Throws after close() (ERR_CHANNEL_CLOSED) or an EPROTO. */
  assertUsable(op: string): void;
  /** `listener` runs when this end closes (until removed): a pending async wait settles then. */
  onClose(listener: () => void): void;
  offClose(listener: () => void): void;
}

export class Waiter {
  readonly #header: WaitSite;
  readonly #policy: SpinPolicy;
  readonly #end: WaitingEnd;

  constructor(header: WaitSite, policy: SpinPolicy, end: WaitingEnd) {
    this.#header = header;
    this.#policy = policy;
    this.#end = end;
  }

  /** Waits until poll() returns >= 0 (its value) or `timeout` ms pass (expired()): spin, then sliced futex sleeps. */
  wait(op: string, timeout: number): number {
    const end = this.#end;
    const policy = this.#policy;
    const spun = timeout > 0 ? policy.next() : 0;
    for (let i = spun; i > 0; i--) {
      const value = end.poll(op);
      if (value >= 0) {
        policy.spun();
        return value;
      }
      if ((i & (SPIN_CHECK_EVERY - 1)) === 0 && !policy.keepSpinning()) break;
    }
    const cell = this.#header.selfCell;
    const started = performance.now();
    const deadline = timeout === Infinity ? Infinity : started + timeout;
    let checkAt = started + SLICE_MS;
    for (let slept = false; ; slept = true) {
      const bell = cell.announceFutex();
      const value = end.poll(op);
      if (value >= 0) {
        cell.withdraw();
        if (slept) policy.slept(spun, started, performance.now() - started);
        return value;
      }
      const ready = this.#beforeSleep(op);
      if (ready >= 0) return ready;
      const left = this.#timeLeft(op, deadline);
      if (left <= 0) return end.expired(op);
      const result = futexWaitAt(cell.bellAddress, bell, Math.min(left, SLICE_MS), op);
      cell.withdraw();
      checkAt = this.#afterSleep(op, result, checkAt);
    }
  }

  /**
   * wait() without blocking the event loop and without a thread: no spin (it would block the loop), the sleep on
   * this thread's doorbell. Resolves with poll()'s value, or expired()'s at `deadline` (performance.now() time);
   * rejects with an AbortError when `signal` aborts first, with ERR_CHANNEL_CLOSED when this end is closed meanwhile.
   */
  waitAsync(op: string, deadline: number, signal: AbortSignal | undefined): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      new AsyncWait(this.#header, this.#end, op, deadline, signal, resolve, reject).start();
    });
  }

  /** The end's checks before a sleep: -1 to sleep, or the condition's value (the sleep withdrawn then, and on a throw). */
  #beforeSleep(op: string): number {
    const cell = this.#header.selfCell;
    let ready: number;
    try {
      ready = this.#end.beforeSleep(op);
    } catch (error) {
      cell.withdraw();
      throw error;
    }
    if (ready >= 0) cell.withdraw();
    return ready;
  }

  /** The ms left until `deadline` (<= 0: the deadline passed; the sleep is withdrawn and the peer checked). */
  #timeLeft(op: string, deadline: number): number {
    const left = deadline === Infinity ? Infinity : deadline - performance.now();
    if (left <= 0) {
      this.#header.selfCell.withdraw();
      this.#end.checkPeer(op);
    }
    return left;
  }

  /** Checks the peer after a slice that expired, and at least once per slice of waiting. Returns when to check next. */
  #afterSleep(op: string, result: WaitResult, checkAt: number): number {
    if (result !== 'timed-out' && performance.now() < checkAt) return checkAt;
    this.#end.checkPeer(op);
    return performance.now() + SLICE_MS;
  }
}

/**
 * One pending asynchronous wait: armed in the cell and in the doorbell until it settles, exactly once, by a ring
 * (wake), the doorbell's watch, the deadline timer, the signal, or this end's close().
 */
class AsyncWait implements Ringable {
  readonly #header: WaitSite;
  readonly #end: WaitingEnd;
  readonly #op: string;
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;
  readonly #resolve: (value: number) => void;
  readonly #reject: (error: unknown) => void;
  #doorbell: Doorbell | undefined;
  #token = -1;
  #timer: DeadlineTimer | undefined;
  #settled = false;
  readonly #onClose = () => this.wake(); // re-checks: ERR_CHANNEL_CLOSED
  readonly #onAbort = () => {
    if (this.#signal !== undefined) this.#settle(-1, abortError(this.#op, this.#signal));
  };

  constructor(
    header: WaitSite,
    end: WaitingEnd,
    op: string,
    deadline: number,
    signal: AbortSignal | undefined,
    resolve: (value: number) => void,
    reject: (error: unknown) => void,
  ) {
    this.#header = header;
    this.#end = end;
    this.#op = op;
    this.#deadline = deadline;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const signal = this.#signal;
    if (signal?.aborted) {
      this.#settle(-1, abortError(this.#op, signal));
      return;
    }
    const doorbell = threadDoorbell();
    this.#doorbell = doorbell;
    // The token is announced before the wait is added: no ring can arrive in between (rings come through the
    // event loop, and a ring of this thread's own doorbell through a microtask).
    this.#token = doorbell.nextToken();
    if (!this.#check()) return;
    const token = doorbell.add(this);
    if (token !== this.#token) throw new Error('sysv-shm: doorbell token mismatch'); // cannot happen: same job
    // Unref'd: the doorbell keeps the loop alive while waits are pending.
    if (this.#deadline !== Infinity) this.#timer = new DeadlineTimer(this.#deadline, () => this.#expire());
    if (this.#settled) return; // the deadline had passed already
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#header.onClose(this.#onClose);
  }

  /** A ring, a scan: re-check the condition (re-arming the cell), or settle. */
  wake(): void {
    if (!this.#settled) this.#check();
  }

  /** The doorbell's watch timer (and a waker's connection closing): the peer's liveness first, then the condition. */
  watch(): void {
    if (this.#settled) return;
    try {
      this.#header.assertUsable(this.#op);
      this.#end.checkPeer(this.#op);
    } catch (error) {
      this.#settle(-1, error);
      return;
    }
    this.#check();
  }

  /** Announces the sleep and re-checks the condition: true while the wait goes on, false once settled. */
  #check(): boolean {
    const header = this.#header;
    const end = this.#end;
    const op = this.#op;
    try {
      header.assertUsable(op); // after close(): ERR_CHANNEL_CLOSED (the cell may be detached memory by now)
      header.selfCell.announceDoorbell(this.#doorbell as Doorbell, this.#token);
      let value = end.poll(op);
      if (value < 0) value = end.beforeSleep(op);
      if (value >= 0) {
        this.#settle(value, undefined);
        return false;
      }
    } catch (error) {
      this.#settle(-1, error);
      return false;
    }
    if (this.#deadline !== Infinity && performance.now() >= this.#deadline) {
      this.#expire();
      return false;
    }
    return true;
  }

  #expire(): void {
    if (this.#settled) return;
    let value: number;
    try {
      this.#header.selfCell.withdraw();
      this.#header.assertUsable(this.#op);
      this.#end.checkPeer(this.#op);
      // One last look: what arrived with the deadline is delivered rather than reported as a timeout.
      value = this.#end.poll(this.#op);
      if (value < 0) value = this.#end.expired(this.#op);
    } catch (error) {
      this.#settle(-1, error);
      return;
    }
    this.#settle(value, undefined);
  }

  #settle(value: number, error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    if (!this.#header.closed) this.#header.selfCell.withdraw();
    this.#doorbell?.delete(this.#token, this);
    this.#timer?.cancel();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#header.offClose(this.#onClose);
    if (error !== undefined) this.#reject(error);
    else this.#resolve(value);
  }
}
