// How an end of a channel waits for its peer, whichever end it is: spin on the condition, then sleep on a futex
// "bell" after announcing it in a WAITING word; the peer calls FUTEX_WAKE only when it finds WAITING set (see
// Header.wakePeer). At steady state with a spinning peer a message therefore costs no FFI call at all.
//
//   bell = load(BELL); store(WAITING, 1)
//   if the condition now holds: store(WAITING, 0); done
//   futex_wait(&BELL, bell, min(time left, SLICE_MS)); store(WAITING, 0); check the peer if the slice expired; repeat
//
// Sleeps are sliced (SLICE_MS) so that a peer killed by SIGKILL is noticed through its pid, and the peer is checked
// at least once per slice of waiting whatever the futex returned (a process that keeps ringing the bell must not
// hide a dead peer). What the end waits for, and what it checks, is the end's (WaitingEnd); the loop is this one.
import { futexWaitAt, futexWaitAtAsync, type WaitResult } from '../futex.js';
import { SPIN_CHECK_EVERY, type SpinPolicy } from '../spin-policy.js';
import type { Header } from './header.js';

/** Longest single sleep: the peer's liveness is checked whenever one expires. */
export const SLICE_MS = 50;

/** What a waiting end provides: the condition, and what it checks around each sleep. */
export interface WaitingEnd {
  /** The condition: a value >= 0 ends the wait with that value (a ring offset, a length); -1 goes on waiting. */
  poll(op: string): number;
  /**
   * Called with WAITING announced and the condition still false, before each sleep: throws EPIPE when the peer
   * closed (EPROTO for a forged flag), and publishes this end's counter again (it has not changed: if another
   * process overwrote it, both ends could wait for each other).
   */
  beforeSleep(op: string): void;
  /** Throws EPIPE when the peer's process is gone (EPROTO when its identity in the header changed). */
  checkPeer(op: string): void;
  /** At the deadline, after checkPeer: throws ETIMEDOUT, or returns the value that means "timed out". */
  expired(op: string): number;
}

export class Waiter {
  readonly #header: Header;
  readonly #policy: SpinPolicy;
  readonly #end: WaitingEnd;

  constructor(header: Header, policy: SpinPolicy, end: WaitingEnd) {
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
    const header = this.#header;
    const started = performance.now();
    const deadline = timeout === Infinity ? Infinity : started + timeout;
    let checkAt = started + SLICE_MS;
    for (let slept = false; ; slept = true) {
      const bell = header.announce();
      const value = end.poll(op);
      if (value >= 0) {
        header.withdraw();
        if (slept) policy.slept(spun, started, performance.now() - started);
        return value;
      }
      const left = this.#beforeSleep(op, deadline);
      if (left <= 0) return end.expired(op);
      const result = futexWaitAt(header.selfBell, bell, Math.min(left, SLICE_MS), op);
      header.withdraw();
      checkAt = this.#afterSleep(op, result, checkAt);
    }
  }

  /**
   * wait() without blocking the event loop: no spin (it would block the loop), the sleeps on a libuv worker
   * thread. Ends with ERR_CHANNEL_CLOSED when this end is closed meanwhile.
   */
  async waitAsync(op: string, deadline: number): Promise<number> {
    const end = this.#end;
    const header = this.#header;
    let checkAt = performance.now() + SLICE_MS;
    for (;;) {
      const bell = header.announce();
      const value = end.poll(op);
      if (value >= 0) {
        header.withdraw();
        return value;
      }
      const left = this.#beforeSleep(op, deadline);
      if (left <= 0) return end.expired(op);
      const result = await futexWaitAtAsync(header.selfBell, bell, Math.min(left, SLICE_MS), op);
      header.assertUsable(op);
      header.withdraw();
      checkAt = this.#afterSleep(op, result, checkAt);
    }
  }

  /** The end's checks before a sleep; returns the ms left (<= 0: the deadline passed, WAITING withdrawn, peer checked). */
  #beforeSleep(op: string, deadline: number): number {
    try {
      this.#end.beforeSleep(op);
    } catch (error) {
      this.#header.withdraw();
      throw error;
    }
    const left = deadline === Infinity ? Infinity : deadline - performance.now();
    if (left <= 0) {
      this.#header.withdraw();
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
