// A single-producer single-consumer ring of fixed-size slots in a SharedArrayBuffer, for the worker_threads
// reference: the same idea as the shm channel (counters on their own cache lines, copy in, copy out, spin then
// Atomics.wait), without any FFI.
import { capacityFor } from './capacity.js';
import type { Rx, Tx, WaitStrategy } from './types.js';

const HEAD = 0; // messages published (producer)
const TAIL = 32; // messages consumed (consumer)
const CONSUMER_WAITING = 64;
const PRODUCER_WAITING = 96;
const HEADER_BYTES = 512;

/** Index of the "peer failed" word in the session's state buffer. */
export const DEAD = 0;

export interface RingBuffers {
  sab: SharedArrayBuffer;
  slotSize: number;
  slots: number;
}

export function createRing(size: number): RingBuffers {
  const slotSize = (4 + size + 7) & ~7;
  const slots = Math.max(2, Math.floor(capacityFor(size) / slotSize));
  return { sab: new SharedArrayBuffer(HEADER_BYTES + slots * slotSize), slotSize, slots };
}

export function spinCount(wait: WaitStrategy): number {
  return wait === 'spin' ? Number.MAX_SAFE_INTEGER : wait === 'futex' ? 0 : 4000;
}

/** Waits until i32[index] !== seen: spin `spin` times, then Atomics.wait in 50 ms slices, checking the dead word. */
function waitChange(i32: Int32Array, index: number, seen: number, waitingIndex: number, spin: number, state: Int32Array): void {
  for (let i = 0; i < spin; i++) {
    if (Atomics.load(i32, index) !== seen) return;
    if ((i & 0xffff) === 0xffff && Atomics.load(state, DEAD) !== 0) throw new Error('worker: the other thread failed');
  }
  for (;;) {
    Atomics.store(i32, waitingIndex, 1);
    if (Atomics.load(i32, index) !== seen) break;
    Atomics.wait(i32, index, seen, 50);
    if (Atomics.load(i32, index) !== seen) break;
    if (Atomics.load(state, DEAD) !== 0) throw new Error('worker: the other thread failed');
  }
  Atomics.store(i32, waitingIndex, 0);
}

/** What both ends hold: views of the ring and their own counter (head for the producer, tail for the consumer). */
abstract class RingEnd {
  protected i32!: Int32Array;
  protected u8!: Uint8Array;
  protected dv!: DataView;
  protected slotSize = 0;
  protected slots = 0;
  /** This end's counter, read back from the header at attach. */
  protected count = 0;
  constructor(
    ring: RingBuffers,
    protected readonly spin: number,
    protected readonly state: Int32Array,
    private readonly counterIndex: number,
  ) {
    this.attach(ring);
  }
  attach(ring: RingBuffers): void {
    this.i32 = new Int32Array(ring.sab, 0, HEADER_BYTES / 4);
    this.u8 = new Uint8Array(ring.sab, HEADER_BYTES);
    this.dv = new DataView(ring.sab, HEADER_BYTES);
    this.slotSize = ring.slotSize;
    this.slots = ring.slots;
    this.count = Atomics.load(this.i32, this.counterIndex);
  }
}

export class RingTx extends RingEnd implements Tx {
  constructor(ring: RingBuffers, spin: number, state: Int32Array) {
    super(ring, spin, state, HEAD);
  }
  send(bytes: Uint8Array): void {
    const i32 = this.i32;
    let tail = Atomics.load(i32, TAIL);
    while (this.count - tail >= this.slots) {
      waitChange(i32, TAIL, tail, PRODUCER_WAITING, this.spin, this.state);
      tail = Atomics.load(i32, TAIL);
    }
    const at = (this.count % this.slots) * this.slotSize;
    this.dv.setUint32(at, bytes.length, true);
    this.u8.set(bytes, at + 4);
    this.count++;
    Atomics.store(i32, HEAD, this.count);
    if (Atomics.load(i32, CONSUMER_WAITING) !== 0) Atomics.notify(i32, HEAD);
  }
}

export class RingRx extends RingEnd implements Rx {
  #target = new Uint8Array(0);
  constructor(ring: RingBuffers, spin: number, state: Int32Array) {
    super(ring, spin, state, TAIL);
  }
  receive(size: number): Uint8Array {
    const i32 = this.i32;
    let head = Atomics.load(i32, HEAD);
    while (head === this.count) {
      waitChange(i32, HEAD, head, CONSUMER_WAITING, this.spin, this.state);
      head = Atomics.load(i32, HEAD);
    }
    const at = (this.count % this.slots) * this.slotSize;
    const n = this.dv.getUint32(at, true);
    if (this.#target.length < size) this.#target = new Uint8Array(size);
    this.#target.set(this.u8.subarray(at + 4, at + 4 + n));
    this.count++;
    Atomics.store(i32, TAIL, this.count);
    if (Atomics.load(i32, PRODUCER_WAITING) !== 0) Atomics.notify(i32, TAIL);
    return this.#target.subarray(0, n);
  }
  release(): void {}
}
