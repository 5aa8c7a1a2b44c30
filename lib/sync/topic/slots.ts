// The shared words of a topic as the channel's parts see them (Sides, a RingPlacement per subscriber), and the one
// way a subscriber slot is freed, whoever frees it (the publisher, or a process that wants the slot).
import { CELL_SIZE } from '../ring-layout.js';
import type { RingPlacement, Side } from '../channel/header.js';
import { isAlive, validStart } from '../channel/liveness.js';
import * as T from './layout.js';

export const PUBLISHER: Side = {
  name: 'publisher',
  writes: true,
  pid: T.i32(T.OFF_PUBLISHER_PID),
  start: T.OFF_PUBLISHER_START / 8,
  closed: T.i32(T.OFF_PUBLISHER_CLOSED),
  cellOffset: T.OFF_PUBLISHER_CELL,
};

/** The words of subscriber slot `k`, as a Side of the channel's Header. */
export function subscriberSide(k: number): Side {
  return {
    name: 'subscriber',
    writes: false,
    pid: T.i32(T.slotOffset(k, T.SLOT_PID)),
    start: T.slotOffset(k, T.SLOT_START) / 8,
    closed: T.i32(T.slotOffset(k, T.SLOT_CLOSED)),
    cellOffset: T.slotOffset(k, T.SLOT_CELL),
  };
}

/** The ring as slot `k`'s subscriber reads it: HEAD is the producer's counter, the slot's CURSOR its tail. */
export function topicPlacement(capacity: number, slots: number, k: number): RingPlacement {
  const offset = T.dataOffset(slots);
  return { kind: 'topic', capacity, dataOffset: offset, controlSize: offset, head: T.i32(T.OFF_HEAD), tail: T.i32(T.slotOffset(k, T.SLOT_CURSOR)) };
}

/** Int32 index of slot `k`'s word at `field`. */
export function slotWord(k: number, field: number): number {
  return T.i32(T.slotOffset(k, field));
}

/**
 * Whether slot `k`, whose PID word was read as `pid` (not 0), may be freed by someone else: its subscriber closed,
 * or its process is gone, or it is a reset (PID < 0) whose process died halfway.
 */
export function reclaimable(i32: Int32Array, f64: Float64Array, k: number, pid: number): boolean {
  if (pid < 0) return pid !== -process.pid && !isAlive(-pid, 0);
  if (Atomics.load(i32, slotWord(k, T.SLOT_CLOSED)) === 1) return true;
  const start = f64[T.slotOffset(k, T.SLOT_START) / 8];
  return !isAlive(pid, validStart(start) ? start : 0);
}

/**
 * Frees slot `k` if its PID word still holds `pid`: PID -> -(own pid) (compare-exchange: one freer wins), EPOCH + 1
 * (so that a reader of the slot's words sees that they change now), every other word reset, PID = 0 last. A freer
 * killed halfway leaves a negative PID, which the next claimer frees again (reclaimable). False if another process
 * changed the slot first, or when its EPOCH is no longer `epoch` (undefined: a dead freer's mark, not an occupant).
 */
export function freeSlot(i32: Int32Array, f64: Float64Array, k: number, pid: number, epoch: number | undefined): boolean {
  const pidWord = slotWord(k, T.SLOT_PID);
  if (Atomics.compareExchange(i32, pidWord, pid, -process.pid) !== pid) return false;
  // The same pid may hold the slot again (its process closed a subscriber and subscribed anew): EPOCH, read with
  // the pid that was judged, tells the occupants apart. Another occupant's slot is given back untouched.
  if (epoch !== undefined && Atomics.load(i32, slotWord(k, T.SLOT_EPOCH)) !== epoch) {
    Atomics.compareExchange(i32, pidWord, -process.pid, pid);
    return false;
  }
  Atomics.add(i32, slotWord(k, T.SLOT_EPOCH), 1);
  Atomics.store(i32, slotWord(k, T.SLOT_STATE), T.STATE_CLAIMED);
  Atomics.store(i32, slotWord(k, T.SLOT_CLOSED), 0);
  Atomics.store(i32, slotWord(k, T.SLOT_BASE_SEQ), 0);
  Atomics.store(i32, slotWord(k, T.SLOT_CURSOR), 0);
  f64[T.slotOffset(k, T.SLOT_START) / 8] = 0;
  const cell = slotWord(k, T.SLOT_CELL);
  for (let w = 0; w < CELL_SIZE / 4; w++) Atomics.store(i32, cell + w, 0);
  Atomics.store(i32, pidWord, 0);
  return true;
}
