// A wake-up cell (ring-layout.ts): how a waiting end announces where it sleeps (a futex, or its thread's doorbell),
// and how its peer wakes it after publishing. Both sides are sequentially consistent: either the waiter's re-check
// after its announcement sees the publish, or the waker's load sees the announcement.
import type { Doorbell } from './doorbell/doorbell.js';
import { ringDoorbell } from './doorbell/waker.js';
import { futexWakeAt } from './futex.js';
import * as L from './ring-layout.js';

const BELL = L.CELL_BELL >> 2;
const STATE = L.CELL_STATE >> 2;
const KIND = L.CELL_KIND >> 2;
const PID = L.CELL_PID >> 2;
const NONCE_A = L.CELL_NONCE_A >> 2;
const NONCE_B = L.CELL_NONCE_B >> 2;
const TOKEN = L.CELL_TOKEN >> 2;

/** A cell at Int32 index `base` of `i32`, whose BELL word is at `bellAddress` (for futex calls). */
export class Cell {
  readonly #i32: Int32Array;
  readonly #bell: number;
  readonly #state: number;
  readonly #base: number;
  readonly bellAddress: bigint;

  constructor(i32: Int32Array, base: number, bellAddress: bigint) {
    this.#i32 = i32;
    this.#base = base;
    this.#bell = base + BELL;
    this.#state = base + STATE;
    this.bellAddress = bellAddress;
  }

  // The waiting end's side.

  /** A synchronous sleep follows: returns the bell's value to FUTEX_WAIT on, after setting STATE. */
  announceFutex(): number {
    const bell = Atomics.load(this.#i32, this.#bell);
    Atomics.store(this.#i32, this.#state, L.CELL_FUTEX);
    return bell;
  }

  /** An asynchronous sleep follows: the doorbell's identity and the wait's token, then STATE. */
  announceDoorbell(doorbell: Doorbell, token: number): void {
    const i32 = this.#i32;
    const base = this.#base;
    // The identity rarely changes: written only when it differs (the line stays clean in the peer's cache).
    if (
      i32[base + PID] !== doorbell.pid ||
      i32[base + NONCE_A] !== doorbell.nonceA ||
      i32[base + NONCE_B] !== doorbell.nonceB ||
      i32[base + KIND] !== doorbell.kind
    ) {
      i32[base + KIND] = doorbell.kind;
      i32[base + PID] = doorbell.pid;
      i32[base + NONCE_A] = doorbell.nonceA;
      i32[base + NONCE_B] = doorbell.nonceB;
    }
    i32[base + TOKEN] = token;
    Atomics.store(i32, this.#state, L.CELL_DOORBELL); // orders the plain stores above before it
  }

  withdraw(): void {
    Atomics.store(this.#i32, this.#state, L.CELL_IDLE);
  }

  // The waker's side.

  /** After publishing: wakes whoever announced a sleep in this cell; nothing at all (no syscall) when nobody did. */
  wake(op: string): void {
    if (Atomics.load(this.#i32, this.#state) !== L.CELL_IDLE) this.#wakeSleeper(op);
  }

  #wakeSleeper(op: string): void {
    const i32 = this.#i32;
    const state = Atomics.exchange(i32, this.#state, L.CELL_IDLE);
    if (state === L.CELL_IDLE) return;
    Atomics.add(i32, this.#bell, 1);
    if (state === L.CELL_FUTEX) {
      futexWakeAt(this.bellAddress, 1, op);
      return;
    }
    if (state !== L.CELL_DOORBELL) return; // a value no end writes (a forged cell): nobody to wake
    const base = this.#base;
    ringDoorbell(
      Atomics.load(i32, base + KIND),
      Atomics.load(i32, base + PID),
      Atomics.load(i32, base + NONCE_A),
      Atomics.load(i32, base + NONCE_B),
      Atomics.load(i32, base + TOKEN),
    );
  }

  /** close(): bumps the bell, wakes every futex sleeper, and rings a doorbell sleeper. */
  wakeAll(op: string): void {
    Atomics.add(this.#i32, this.#bell, 1);
    futexWakeAt(this.bellAddress, 0x7fffffff, op);
    this.wake(op);
  }
}
