// The producer's part of the ring: where the next record goes (room between the local head and the consumer's
// tail, a wrap marker when a record does not fit before the end of the ring), writing it, publishing the head,
// and waiting for room (through the Waiter).
//
// The head is kept locally (it may run ahead of the published one by an unpublished wrap marker); the consumer's
// tail is re-read only when the last one seen says "full", so that a stream does not bounce its cache line.
import { stateError } from '../../c/index.js';
import * as L from '../ring-layout.js';
import type { SpinPolicy } from '../spin-policy.js';
import type { Header } from './header.js';
import type { Liveness } from './liveness.js';
import { Waiter, type WaitingEnd } from './waiter.js';

export class Sender implements WaitingEnd {
  readonly #header: Header;
  readonly #liveness: Liveness;
  readonly #waiter: Waiter;
  readonly #capacity: number;
  readonly #mask: number;
  /** The local write counter, and the last tail seen. */
  #head: number;
  #tailSeen: number;
  /** The record size the current wait is for (one wait at a time: an end's async calls queue, sync ones are refused meanwhile). */
  #wanted = 0;

  constructor(header: Header, liveness: Liveness, policy: SpinPolicy, head: number) {
    this.#header = header;
    this.#liveness = liveness;
    this.#waiter = new Waiter(header, policy, this);
    this.#capacity = header.capacity;
    this.#mask = header.capacity - 1;
    this.#head = head;
    this.#tailSeen = 0;
  }

  /** The consumer's pid (0 until it opened), checked against what was seen before. */
  peerPid(op: string): number {
    return this.#liveness.peerPid(op, this.#tailSeen !== 0);
  }

  /** The largest message that fits now without waiting, or -1 (free space counted with the wrap padding it would need). */
  available(op: string): number {
    this.#loadTail(op);
    const capacity = this.#capacity;
    const free = capacity - ((this.#head - this.#tailSeen) >>> 0);
    const contiguous = capacity - (this.#head & this.#mask);
    const best = free <= contiguous ? free : Math.max(contiguous, free - contiguous);
    return best >= L.RECORD_HEADER ? Math.min(best - L.RECORD_HEADER, capacity - L.RECORD_HEADER) : -1;
  }

  /** Throws EPIPE when the consumer closed its end (EPROTO for a forged flag): nothing sent now would be read. */
  assertPeerOpen(op: string): void {
    if (this.#header.peerClosed(op)) throw this.#header.peerGone(op, `the ${this.#header.peer.name} closed the ${this.#header.kind}`);
  }

  /**
   * The ring offset where a record of `record` bytes can be written now, or -1. When the record does not fit
   * before the end of the ring, a wrap marker pads to the end and the record goes to offset 0; a marker that
   * fits alone is published at once so that the consumer can move past it.
   */
  tryAcquire(record: number, op: string): number {
    const pos = this.#head & this.#mask;
    if (this.#capacity - pos >= record) return this.#room(record, op) ? pos : -1;
    return this.#tryWrap(pos, record, op);
  }

  /** tryAcquire for a record that does not fit between `pos` and the end of the ring. */
  #tryWrap(pos: number, record: number, op: string): number {
    const header = this.#header;
    const contiguous = this.#capacity - pos;
    if (this.#room(contiguous + record, op)) {
      header.writeMarker(pos);
      this.#head = (this.#head + contiguous) | 0;
      return 0;
    }
    if (!this.#room(contiguous, op)) return -1;
    header.writeMarker(pos);
    this.#head = (this.#head + contiguous) | 0;
    this.publish(op);
    return this.#room(record, op) ? 0 : -1;
  }

  /** tryAcquire, else wait for room: spin, then sliced futex sleeps. Throws ETIMEDOUT after `timeout` ms, EPIPE. */
  acquire(record: number, timeout: number, op: string): number {
    const pos = this.tryAcquire(record, op);
    if (pos >= 0) return pos;
    this.#wanted = record;
    return this.#waiter.wait(op, timeout);
  }

  /** Waits for room without blocking the event loop, until `deadline` (performance.now() time) or `signal`. */
  acquireAsync(record: number, deadline: number, op: string, signal: AbortSignal | undefined): Promise<number> {
    this.#wanted = record;
    return this.#waiter.waitAsync(op, deadline, signal);
  }

  /** Writes a record of `data` at ring offset `pos` (from tryAcquire) and counts it; publish() makes it visible. */
  write(pos: number, data: Uint8Array): void {
    const n = data.length;
    this.#header.writeRecordHeader(pos, n);
    if (n > 0) this.#header.ring.set(data, pos + L.RECORD_HEADER);
    this.#head = (this.#head + L.recordSize(n)) | 0;
  }

  /** A writable view of `length` bytes for the record at `pos` (zero-copy). */
  view(pos: number, length: number): Uint8Array {
    const start = pos + L.RECORD_HEADER;
    return this.#header.ring.subarray(start, start + length);
  }

  /** Counts the record at `pos` (written in place) as `length` bytes; publish() makes it visible. */
  commit(pos: number, length: number): void {
    this.#header.writeRecordHeader(pos, length);
    this.#head = (this.#head + L.recordSize(length)) | 0;
  }

  /** Publishes the local head; rings the consumer's bell only if it announced that it sleeps. */
  publish(op: string): void {
    this.#header.publishHead(this.#head);
    this.#header.wakePeer(op);
  }

  /** True when `bytes` more fit between the local head and the consumer's tail (re-reading the tail if needed). */
  #room(bytes: number, op: string): boolean {
    const capacity = this.#capacity;
    if (((this.#head - this.#tailSeen) >>> 0) + bytes <= capacity) return true;
    return ((this.#head - this.#loadTail(op)) >>> 0) + bytes <= capacity;
  }

  #loadTail(op: string): number {
    const tail = this.#header.readTail(this.#head, this.#tailSeen, op);
    this.#tailSeen = tail;
    return tail;
  }

  // WaitingEnd: what the Waiter calls while this end waits for room.

  poll(op: string): number {
    return this.tryAcquire(this.#wanted, op);
  }

  beforeSleep(op: string): number {
    this.assertPeerOpen(op);
    this.#header.publishHead(this.#head);
    return -1;
  }

  checkPeer(op: string): void {
    const pid = this.#liveness.deadPeer(op, this.#tailSeen !== 0);
    if (pid !== 0) throw this.#header.peerGone(op, `the ${this.#header.peer.name} (pid ${pid}) exited without closing the ${this.#header.kind}`);
  }

  expired(op: string): number {
    throw stateError('ETIMEDOUT', op, `${op}: the ring stayed full until the timeout (the ${this.#header.peer.name} is alive but not keeping up)`, {
      shmid: this.#header.id,
    });
  }
}
