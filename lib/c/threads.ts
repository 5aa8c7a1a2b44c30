// Attachments of worker threads, detached when the worker ends.
//
// Why: a worker's attachments live in the process's one address space, but its JavaScript (this library's ledger,
// its FinalizationRegistry) dies with the worker, and `worker.terminate()` runs none of the worker's code. So
// every thread records its live attachments in one table that all threads share, and the thread that created a
// worker (it gets the Worker object through the 'worker_threads' diagnostics channel) detaches what the worker
// left when it ends.
//
// The table is a growable SharedArrayBuffer handed to every worker through worker_threads' environment data
// (cloned into each new worker, and a clone of a SharedArrayBuffer is the same memory), made when the library is
// first imported. Workers started before any thread imported the library, or by a thread that never did, are not
// watched (docs/api.md, "Worker threads").
//
// Detaching for a dead worker: a range over which the worker made an ArrayBuffer gets a placeholder (such a buffer
// may have been moved to another thread with ArrayBuffer.prototype.transfer), any other range a plain shmdt.
import diagnostics from 'node:diagnostics_channel';
import { getEnvironmentData, setEnvironmentData, threadId, type Worker } from 'node:worker_threads';
import { libc } from '../native/libc.js';
import { placeholderOver } from './address-space.js';

const KEY = 'sysv-shm: attachments of every thread';
/** Int32 words per slot: state, thread id, shmid, flags; then two BigInt64 words: address and end. */
const SLOT_INT32 = 8;
const SLOT_BYTES = SLOT_INT32 * 4;
const FREE = 0;
const CLAIMED = 1; // being written by its thread
const LIVE = 2;
const TAINTED = 1;

const INITIAL_SLOTS = 256;
const MAX_SLOTS = 1 << 20;

function table(): SharedArrayBuffer {
  const inherited = getEnvironmentData(KEY);
  if (inherited instanceof SharedArrayBuffer) return inherited;
  const created = new SharedArrayBuffer(INITIAL_SLOTS * SLOT_BYTES, { maxByteLength: MAX_SLOTS * SLOT_BYTES });
  setEnvironmentData(KEY, created); // every worker started from now on gets the same memory
  return created;
}

const shared = table();
const words = new Int32Array(shared); // length-tracking: sees the table grow, whichever thread grows it
const addresses = new BigInt64Array(shared);
/** Where this thread looks for a free slot next. */
let cursor = 0;
/** Slots this thread freed, taken again first: finding a free one never scans the live ones. */
const freedHere: number[] = [];

/** Ends a worker's attachments when it exits; registered in every thread that loaded the library. */
diagnostics.subscribe('worker_threads', (message) => {
  const worker = (message as { worker?: Worker }).worker;
  if (!worker) return;
  const tid = worker.threadId; // read now: it is -1 once the worker has stopped
  worker.once('exit', () => reap(tid));
});

/** A handle of an attachment's slot: its index, or -1 when the table is full (then the worker is not watched). */
export type Slot = number;

function slots(): number {
  return words.length / SLOT_INT32;
}

/** Records a live attachment of this thread. */
export function record(shmid: number, address: bigint, end: bigint): Slot {
  while (freedHere.length > 0) {
    const slot = freedHere.pop()!;
    if (Atomics.compareExchange(words, slot * SLOT_INT32, FREE, CLAIMED) === FREE) return fill(slot, shmid, address, end);
  }
  for (;;) {
    const count = slots();
    for (let n = 0; n < count; n++) {
      const slot = (cursor + n) % count;
      const base = slot * SLOT_INT32;
      if (Atomics.load(words, base) !== FREE || Atomics.compareExchange(words, base, FREE, CLAIMED) !== FREE) continue;
      cursor = slot + 1;
      return fill(slot, shmid, address, end);
    }
    if (count >= MAX_SLOTS) return -1;
    try {
      shared.grow(Math.min(count * 2, MAX_SLOTS) * SLOT_BYTES);
    } catch {
      // another thread grew it meanwhile (or the memory is not there): look again
      if (slots() === count) return -1;
    }
  }
}

/** Writes a claimed slot and publishes it. */
function fill(slot: number, shmid: number, address: bigint, end: bigint): Slot {
  const base = slot * SLOT_INT32;
  words[base + 1] = threadId;
  words[base + 2] = shmid;
  words[base + 3] = 0;
  addresses[slot * (SLOT_INT32 / 2) + 2] = BigInt.asIntN(64, address);
  addresses[slot * (SLOT_INT32 / 2) + 3] = BigInt.asIntN(64, end);
  Atomics.store(words, base, LIVE);
  return slot;
}

/** An ArrayBuffer was made over the attachment: if its worker dies, the range gets a placeholder. */
export function markTainted(slot: Slot): void {
  if (slot >= 0) Atomics.or(words, slot * SLOT_INT32 + 3, TAINTED);
}

/** The attachment was detached by its own thread. */
export function forgetSlot(slot: Slot): void {
  if (slot < 0) return;
  Atomics.store(words, slot * SLOT_INT32, FREE);
  freedHere.push(slot);
}

/** Detaches what the thread `tid` (ended) left attached. */
function reap(tid: number): void {
  const c = libc();
  for (let slot = 0; slot < slots(); slot++) {
    const base = slot * SLOT_INT32;
    if (Atomics.load(words, base) !== LIVE || words[base + 1] !== tid) continue;
    const address = BigInt.asUintN(64, addresses[slot * (SLOT_INT32 / 2) + 2]);
    const end = BigInt.asUintN(64, addresses[slot * (SLOT_INT32 / 2) + 3]);
    if (words[base + 3] & TAINTED) placeholderOver(address, end);
    else c.shmdt(address);
    Atomics.store(words, base, FREE);
  }
}
