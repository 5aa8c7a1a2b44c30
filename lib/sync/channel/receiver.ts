// The consumer's part of the ring: finding the next record (its length read once and checked by the header, at
// most one wrap marker skipped per look), copying or viewing it, releasing it (publishing the tail), and waiting
// for one (through the Waiter).
//
// The tail is kept locally; the producer's head is re-read only when the last one seen says "empty".
import * as L from '../ring-layout.js';
import { WordCopier } from '../small-copy.js';
import type { SpinPolicy } from '../spin-policy.js';
import { MARKER, type Header } from './header.js';
import type { Liveness } from './liveness.js';
import { Waiter, type WaitingEnd } from './waiter.js';

export class Receiver implements WaitingEnd {
  readonly #header: Header;
  readonly #liveness: Liveness;
  readonly #waiter: Waiter;
  readonly #copier = new WordCopier();
  readonly #mask: number;
  /** The local read counter, and the last head seen. */
  #tail: number;
  #headSeen: number;

  /** `head`: the head as validated at open; `tail`: where this end starts reading (a topic's late subscriber: not 0). */
  constructor(header: Header, liveness: Liveness, policy: SpinPolicy, head: number, tail = 0) {
    this.#header = header;
    this.#liveness = liveness;
    this.#waiter = new Waiter(header, policy, this);
    this.#mask = header.capacity - 1;
    this.#tail = tail;
    this.#headSeen = head;
  }

  /** The producer's pid, checked against what open() saw. */
  peerPid(op: string): number {
    return this.#liveness.peerPid(op, true);
  }

  /** Whether the producer closed its end (EPROTO for a forged flag). */
  peerClosed(op: string): boolean {
    return this.#header.peerClosed(op);
  }

  /**
   * The length of the next record, or -1 when the ring is empty. The record starts at ring offset
   * `tail & mask` (start()). Its length was read once and checked; that copy is what the caller copies, views and
   * releases: a peer that changes the word afterwards changes nothing. Skips at most one wrap marker: the record
   * after a marker starts at offset 0, where no marker can be.
   */
  tryNext(op: string): number {
    const header = this.#header;
    if (this.#tail === this.#headSeen && !this.#refreshHead(op)) return -1;
    const length = header.readRecord(this.#tail, this.#headSeen, op, -1);
    if (length !== MARKER) return length;
    const markerAt = this.#tail & this.#mask;
    this.#tail = (this.#tail + header.capacity - markerAt) | 0;
    this.#publishTail(op);
    if (this.#tail === this.#headSeen && !this.#refreshHead(op)) return -1;
    return header.readRecord(this.#tail, this.#headSeen, op, markerAt);
  }

  /** tryNext, else wait for a record: spin, then sliced futex sleeps. -1 after `timeout` ms; throws EPIPE. */
  next(timeout: number, op: string): number {
    const length = this.tryNext(op);
    return length >= 0 ? length : this.#waiter.wait(op, timeout);
  }

  /** Waits for a record without blocking the event loop, until `deadline` (performance.now() time; -1 then) or `signal`. */
  nextAsync(deadline: number, op: string, signal: AbortSignal | undefined): Promise<number> {
    return this.#waiter.waitAsync(op, deadline, signal);
  }

  /** Copies out the record at the tail, whose length tryNext checked, and releases it. */
  take(length: number, op: string): Uint8Array {
    const start = this.#start();
    const ring = this.#header.ring;
    let out: Uint8Array;
    if (length < 4096) {
      out = ring.slice(start, start + length);
    } else {
      // Large copies go into memory that is not zero-filled first.
      out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
      out.set(ring.subarray(start, start + length));
    }
    this.release(length, op);
    return out;
  }

  /** Copies the record at the tail into `target` (which has room for `length` bytes) and releases it. */
  takeInto(target: Uint8Array, length: number, op: string): void {
    const header = this.#header;
    this.#copier.copyOut(header.ringI32, header.ring, this.#start(), target, length);
    this.release(length, op);
  }

  /** A view of the record at the tail, valid until release(length). */
  view(length: number): Uint8Array {
    const start = this.#start();
    return this.#header.ring.subarray(start, start + length);
  }

  /** Releases the record at the tail, of `length` bytes (as tryNext checked it). */
  release(length: number, op: string): void {
    this.#tail = (this.#tail + L.recordSize(length)) | 0;
    this.#publishTail(op);
  }

  /** The local read counter: where the record tryNext() found starts (a topic checks its sequence number there). */
  get position(): number {
    return this.#tail;
  }

  /** Ring offset of the payload of the record at the tail. */
  #start(): number {
    return (this.#tail & this.#mask) + L.RECORD_HEADER;
  }

  /** Reads the producer's head (once, checked); false when it equals the local tail (nothing new). */
  #refreshHead(op: string): boolean {
    const head = this.#header.readHead(this.#tail, op);
    if (head === this.#tail) return false;
    this.#headSeen = head;
    return true;
  }

  /** Publishes the local tail; rings the producer's bell only if it announced that it sleeps. */
  #publishTail(op: string): void {
    this.#header.publishTail(this.#tail);
    this.#header.wakePeer(op);
  }

  // WaitingEnd: what the Waiter calls while this end waits for a record.

  poll(op: string): number {
    return this.tryNext(op);
  }

  beforeSleep(op: string): number {
    this.#header.publishTail(this.#tail);
    if (!this.#header.peerClosed(op)) return -1;
    // The producer may have published its last message and closed since the poll: deliver it before the EPIPE.
    const length = this.tryNext(op);
    if (length >= 0) return length;
    throw this.#header.peerGone(op, 'the producer closed the channel');
  }

  checkPeer(op: string): void {
    const pid = this.#liveness.deadPeer(op, true);
    // Everything the producer published before it died is still delivered.
    if (pid !== 0 && this.tryNext(op) < 0) throw this.#header.peerGone(op, `the producer (pid ${pid}) exited without closing the channel`);
  }

  expired(): number {
    return -1;
  }
}
