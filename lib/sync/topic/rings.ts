// A subscriber's part of the ring once it has joined, for each policy:
//
//   BlockRing  the channel's Receiver (the publisher never overwrites what a joined subscriber has not read),
//              plus the sequence-number check of every record.
//   DropRing   reads records the publisher may overwrite meanwhile: every word is read once and checked, and a
//              record is delivered only when OLDEST_SEQ and OLDEST, re-read after the copy, show that the publisher
//              did not reach it; a subscriber that was overtaken skips to OLDEST and counts what it missed.
import type { Header } from '../channel/header.js';
import type { Receiver } from '../channel/receiver.js';
import { WordCopier } from '../small-copy.js';
import * as L from '../ring-layout.js';
import * as T from './layout.js';

/** What a subscriber does with the ring; lengths are checked by tryNext(), which returns -1 when there is nothing. */
export interface SubscriberRing {
  /** Messages lost to the 'drop' policy (0 in 'block'). */
  readonly lost: number;
  tryNext(op: string): number;
  /** The message tryNext() found, copied out; null when the publisher overwrote it meanwhile ('drop'). */
  take(length: number, op: string): Uint8Array | null;
  /** The same into `target`; false when overwritten meanwhile ('drop'; `target` then holds garbage). */
  takeInto(target: Uint8Array, length: number, op: string): boolean;
  /** A view of the message tryNext() found, in the ring. */
  view(length: number): Uint8Array;
  /** Moves past that message; false when the publisher overwrote it while it was viewed ('drop'). */
  release(length: number, op: string): boolean;
  /** Before a sleep: stores this subscriber's cursor again ('block'; nothing in 'drop'). */
  beforeSleep(): void;
}

function copyOut(ring: Uint8Array, start: number, length: number): Uint8Array {
  if (length < 4096) return ring.slice(start, start + length);
  const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  out.set(ring.subarray(start, start + length));
  return out;
}

export class BlockRing implements SubscriberRing {
  readonly lost = 0;
  readonly #header: Header;
  readonly #receiver: Receiver;
  readonly #mask: number;
  /** The sequence number the next record must carry. */
  #seq: number;

  constructor(header: Header, receiver: Receiver, seq: number) {
    this.#header = header;
    this.#receiver = receiver;
    this.#mask = header.capacity - 1;
    this.#seq = seq;
  }

  tryNext(op: string): number {
    const length = this.#receiver.tryNext(op);
    if (length < 0) return length;
    const pos = this.#receiver.position & this.#mask;
    const seq = this.#header.ringU32[(pos >> 2) + 1] | 0;
    if (seq !== this.#seq) {
      throw this.#header.corrupt(op, `the record at ring offset ${pos} carries sequence number ${seq >>> 0}, expected ${this.#seq >>> 0}`);
    }
    return length;
  }

  take(length: number, op: string): Uint8Array {
    this.#seq = (this.#seq + 1) | 0;
    return this.#receiver.take(length, op);
  }

  takeInto(target: Uint8Array, length: number, op: string): boolean {
    this.#seq = (this.#seq + 1) | 0;
    this.#receiver.takeInto(target, length, op);
    return true;
  }

  view(length: number): Uint8Array {
    return this.#receiver.view(length);
  }

  release(length: number, op: string): boolean {
    this.#seq = (this.#seq + 1) | 0;
    this.#receiver.release(length, op);
    return true;
  }

  beforeSleep(): void {
    this.#header.publishTail(this.#receiver.position);
  }
}

const OLDEST = T.i32(T.OFF_OLDEST);
const OLDEST_SEQ = T.i32(T.OFF_OLDEST_SEQ);
const HEAD = T.i32(T.OFF_HEAD);
/** Looks per tryNext(): each one after the first follows an overwrite by the publisher (its progress, not ours). */
const DROP_LOOKS = 16;

export class DropRing implements SubscriberRing {
  readonly #header: Header;
  readonly #capacity: number;
  readonly #mask: number;
  readonly #copier = new WordCopier();
  #cursor: number;
  /** The sequence number of the next message; after a skip (#resync) the next record's own number is taken. */
  #seq: number;
  #resync = false;
  /**
   * After a skip: OLDEST_SEQ as loaded with the OLDEST the cursor moved to. While it is unchanged the record at the
   * cursor has not been overwritten; once it moved, it may have been (sequence numbers decide: a byte position
   * compares only within 2 GiB, and a stalled subscriber can fall further behind than that).
   */
  #resyncSeq = 0;
  /** The sequence number of the record tryNext() found. */
  #found = 0;
  #lost = 0;

  constructor(header: Header, cursor: number, seq: number) {
    this.#header = header;
    this.#capacity = header.capacity;
    this.#mask = header.capacity - 1;
    this.#cursor = cursor;
    this.#seq = seq;
  }

  get lost(): number {
    return this.#lost;
  }

  /** True when the record at the cursor may be overwritten already: OLDEST_SEQ, OLDEST read once each. */
  #overtaken(): boolean {
    const i32 = this.#header.i32;
    const oldestSeq = Atomics.load(i32, OLDEST_SEQ);
    const oldest = Atomics.load(i32, OLDEST);
    return this.#behind(oldest, oldestSeq);
  }

  /** Whether the cursor is behind OLDEST: by sequence numbers, and by bytes (both are checked). */
  #behind(oldest: number, oldestSeq: number): boolean {
    const expected = this.#resync ? this.#resyncSeq : this.#seq;
    return ((this.#cursor - oldest) | 0) < 0 || ((oldestSeq - expected) | 0) > 0;
  }

  tryNext(op: string): number {
    const header = this.#header;
    const i32 = header.i32;
    const words = header.ringU32;
    const capacity = this.#capacity;
    for (let look = 0; look < DROP_LOOKS; look++) {
      // The publisher moves OLDEST (never past HEAD) before the head of the record it makes room for: at every
      // instant HEAD - capacity <= OLDEST <= HEAD. Read between two equal loads of HEAD, the three words are one
      // such instant; if HEAD moved meanwhile, look again (the publisher's progress).
      const head = Atomics.load(i32, HEAD);
      const oldestSeq = Atomics.load(i32, OLDEST_SEQ);
      const oldest = Atomics.load(i32, OLDEST);
      if (Atomics.load(i32, HEAD) !== head) continue;
      if ((head - oldest) >>> 0 > capacity || ((head | oldest) & (L.RECORD_ALIGN - 1)) !== 0) {
        throw header.corrupt(
          op,
          `head ${head >>> 0} and oldest ${oldest >>> 0} are not multiples of 8 with oldest at most ${capacity} bytes (the capacity) behind head`,
        );
      }
      if (this.#behind(oldest, oldestSeq)) {
        // Overtaken: the oldest intact record is the next one; what was missed is counted when it is delivered.
        this.#cursor = oldest;
        this.#resync = true;
        this.#resyncSeq = oldestSeq;
      }
      const cursor = this.#cursor;
      const published = (head - cursor) | 0;
      if (published === 0) return -1;
      if (published < 0) throw header.corrupt(op, `head ${head >>> 0} is behind this subscriber's cursor ${cursor >>> 0}`);
      const pos = cursor & this.#mask;
      const length = words[pos >> 2];
      const seq = words[(pos >> 2) + 1] | 0;
      if (length === L.WRAP_MARKER) {
        const skip = capacity - pos;
        if (this.#overtaken()) continue; // the marker's word may be the publisher's newer bytes
        if (pos === 0 || skip > published) throw header.corrupt(op, `a wrap marker at ring offset ${pos} skips ${skip} bytes, but ${published} are published`);
        this.#cursor = (cursor + skip) | 0;
        continue;
      }
      const fits = length <= capacity - L.RECORD_HEADER - pos && L.recordSize(length) <= published;
      const inOrder = this.#resync ? ((seq - this.#seq) | 0) >= 0 : seq === this.#seq;
      if (!fits || !inOrder) {
        if (this.#overtaken()) continue; // read while the publisher overwrote it: not a forgery
        if (!fits)
          throw header.corrupt(
            op,
            `a record of ${length} bytes at ring offset ${pos}, but only ${published} bytes are published before the end of the ring or the head`,
          );
        throw header.corrupt(
          op,
          `the record at ring offset ${pos} carries sequence number ${seq >>> 0}, expected ${this.#resync ? 'at least ' : ''}${this.#seq >>> 0}`,
        );
      }
      this.#found = seq;
      return length;
    }
    return -1;
  }

  take(length: number, op: string): Uint8Array | null {
    const out = copyOut(this.#header.ring, (this.#cursor & this.#mask) + L.RECORD_HEADER, length);
    return this.release(length, op) ? out : null;
  }

  takeInto(target: Uint8Array, length: number, op: string): boolean {
    const header = this.#header;
    this.#copier.copyOut(header.ringI32, header.ring, (this.#cursor & this.#mask) + L.RECORD_HEADER, target, length);
    return this.release(length, op);
  }

  view(length: number): Uint8Array {
    const start = (this.#cursor & this.#mask) + L.RECORD_HEADER;
    return this.#header.ring.subarray(start, start + length);
  }

  /**
   * Moves past the record tryNext() found if it was intact all along: OLDEST_SEQ and OLDEST re-read now (after the
   * copy) show the publisher has not reached it. Otherwise the next tryNext() skips to OLDEST.
   */
  release(length: number, op: string): boolean {
    const i32 = this.#header.i32;
    const oldestSeq = Atomics.load(i32, OLDEST_SEQ);
    const oldest = Atomics.load(i32, OLDEST);
    const head = Atomics.load(i32, HEAD);
    // Overwritten while it was read: OLDEST moved past the record.
    if (((this.#cursor - oldest) | 0) < 0) return false;
    if (((oldestSeq - this.#found) | 0) > 0) {
      // OLDEST_SEQ is stored after OLDEST and loaded before it: past this record's number, OLDEST is past the record
      // too, unless the cursor is so far behind (a stopped subscriber) that byte positions no longer compare: then
      // it was overwritten. Within the ring's reach of the head, it is a forged word.
      if ((head - this.#cursor) >>> 0 > this.#capacity) return false;
      throw this.#header.corrupt(
        op,
        `oldest sequence number ${oldestSeq >>> 0} is past the record at ${this.#cursor >>> 0} (number ${this.#found >>> 0}), which oldest ${oldest >>> 0} still covers`,
      );
    }
    this.#lost += (this.#found - this.#seq) >>> 0;
    this.#seq = (this.#found + 1) | 0;
    this.#resync = false;
    this.#cursor = (this.#cursor + L.recordSize(length)) | 0;
    return true;
  }

  beforeSleep(): void {}
}
