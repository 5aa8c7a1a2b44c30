// A subscriber's waiting and joining: until the publisher has placed its cursor (STATE_JOINED) there is nothing to
// read; then the ring part of its policy (rings.ts) does the reading. What a subscriber waits for, and what it
// checks while it waits (the publisher's closed flag and liveness, its own slot), is here; the loops are the
// channel's Waiter.
import type { Header } from '../channel/header.js';
import type { Liveness } from '../channel/liveness.js';
import { Receiver } from '../channel/receiver.js';
import { Waiter, type WaitingEnd } from '../channel/waiter.js';
import { RECORD_ALIGN } from '../ring-layout.js';
import type { SpinPolicy } from '../spin-policy.js';
import * as T from './layout.js';
import { BlockRing, DropRing, type SubscriberRing } from './rings.js';
import { slotWord } from './slots.js';

/** What subscribe() hands to a new subscriber. */
export interface SubscriberParts {
  readonly header: Header;
  readonly liveness: Liveness;
  readonly policy: SpinPolicy;
  readonly drop: boolean;
  readonly slot: number;
  /** The slot's EPOCH when it was claimed: a different one later means another process freed the slot. */
  readonly epoch: number;
}

export class Reader implements WaitingEnd {
  readonly #parts: SubscriberParts;
  readonly #header: Header;
  readonly #waiter: Waiter;
  #ring: SubscriberRing | undefined;

  constructor(parts: SubscriberParts) {
    this.#parts = parts;
    this.#header = parts.header;
    this.#waiter = new Waiter(parts.header, parts.policy, this);
  }

  get lost(): number {
    return this.#ring?.lost ?? 0;
  }

  get ring(): SubscriberRing | undefined {
    return this.#ring;
  }

  /** The publisher's pid, checked against what subscribe() saw. */
  peerPid(op: string): number {
    return this.#parts.liveness.peerPid(op, true);
  }

  /** The length of the next message, or -1 (not joined yet, or nothing new). */
  tryNext(op: string): number {
    const ring = this.#ring ?? this.#join(op);
    return ring === undefined ? -1 : ring.tryNext(op);
  }

  /** tryNext, else wait: spin, then sliced futex sleeps. -1 after `timeout` ms; EPIPE once the publisher is gone. */
  next(timeout: number, op: string): number {
    const length = this.tryNext(op);
    return length >= 0 ? length : this.#waiter.wait(op, timeout);
  }

  /** Waits for a message without blocking the event loop, until `deadline` (performance.now() time; -1 then) or `signal`. */
  nextAsync(deadline: number, op: string, signal: AbortSignal | undefined): Promise<number> {
    return this.#waiter.waitAsync(op, deadline, signal);
  }

  /** Whether the publisher closed the topic (EPROTO for a forged flag). */
  peerClosed(op: string): boolean {
    return this.#header.peerClosed(op);
  }

  /**
   * The ring part, once the publisher has joined this subscriber (STATE_JOINED, then its cursor and first sequence
   * number, each read once and checked); undefined while it is still joining.
   */
  #join(op: string): SubscriberRing | undefined {
    const { header, slot, drop } = this.#parts;
    const i32 = header.i32;
    const state = Atomics.load(i32, slotWord(slot, T.SLOT_STATE));
    if (state === T.STATE_JOINING) return undefined;
    if (state !== T.STATE_JOINED) throw header.corrupt(op, `this subscriber's slot ${slot} has state ${state} while it waits to be joined (1 or 2)`);
    const cursor = Atomics.load(i32, slotWord(slot, T.SLOT_CURSOR));
    const seq = Atomics.load(i32, slotWord(slot, T.SLOT_BASE_SEQ));
    if ((cursor & (RECORD_ALIGN - 1)) !== 0) throw header.corrupt(op, `the publisher placed this subscriber's cursor at ${cursor >>> 0}, not a multiple of 8`);
    if (drop) {
      this.#ring = new DropRing(header, cursor, seq);
    } else {
      // The publisher never writes where a joined subscriber has not read: its head is within the capacity.
      const head = header.readHead(cursor, op);
      this.#ring = new BlockRing(header, new Receiver(header, this.#parts.liveness, this.#parts.policy, head, cursor), seq);
    }
    return this.#ring;
  }

  /** Throws EPROTO when this subscriber's slot is no longer its own (another process freed or reset it). */
  #assertSlot(op: string): void {
    const { header, slot, epoch } = this.#parts;
    const pid = Atomics.load(header.i32, slotWord(slot, T.SLOT_PID));
    const now = Atomics.load(header.i32, slotWord(slot, T.SLOT_EPOCH));
    if (pid !== process.pid || now !== epoch) {
      throw header.corrupt(op, `this subscriber's slot ${slot} now holds pid ${pid}, epoch ${now} (it was ${process.pid}, ${epoch}): another process freed it`);
    }
  }

  // WaitingEnd: what the Waiter calls while this subscriber waits for a message.

  poll(op: string): number {
    return this.tryNext(op);
  }

  beforeSleep(op: string): number {
    this.#ring?.beforeSleep();
    if (!this.#header.peerClosed(op)) return -1;
    // The publisher may have published its last message and closed since the poll: deliver it before the EPIPE.
    const length = this.tryNext(op);
    if (length >= 0) return length;
    throw this.#header.peerGone(op, 'the publisher closed the topic');
  }

  checkPeer(op: string): void {
    this.#assertSlot(op);
    const pid = this.#parts.liveness.deadPeer(op, true);
    // Everything the publisher published before it died is still delivered.
    if (pid !== 0 && this.tryNext(op) < 0) throw this.#header.peerGone(op, `the publisher (pid ${pid}) exited without closing the topic`);
  }

  expired(): number {
    return -1;
  }
}
