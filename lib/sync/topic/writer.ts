// The publisher's part of the ring: where the next record goes, writing it with its sequence number, publishing
// the head and waking the subscribers.
//
//   'block': a record is written only where every joined subscriber has read (room counted from the slowest
//            cursor, re-read only when the cursors seen last leave no room); the publisher waits for room through
//            the Waiter, and checks its subscribers' liveness whenever a slice or the doorbell's watch expires.
//   'drop':  never waits. Before overwriting, it walks OLDEST past every record the new bytes will cover and
//            stores OLDEST and OLDEST_SEQ, then writes: a subscriber that re-reads them after its copy knows
//            whether the copy is intact.
//
// A record that does not fit before the end of the ring goes to offset 0 behind a wrap marker, as in a channel.
import { stateError } from '../../c/index.js';
import type { Header } from '../channel/header.js';
import { Waiter, type WaitingEnd } from '../channel/waiter.js';
import * as L from '../ring-layout.js';
import type { SpinPolicy } from '../spin-policy.js';
import * as T from './layout.js';
import type { Roster } from './roster.js';

const OLDEST = T.i32(T.OFF_OLDEST);
const OLDEST_SEQ = T.i32(T.OFF_OLDEST_SEQ);

export class Writer implements WaitingEnd {
  readonly #header: Header;
  readonly #roster: Roster;
  readonly #waiter: Waiter;
  readonly #drop: boolean;
  readonly #capacity: number;
  readonly #mask: number;
  /** The local head (published, except for a wrap marker written just before its record), the next sequence number. */
  #head = 0;
  #seq = 0;
  /** 'block': the slowest cursor seen last. 'drop': the oldest intact record and its sequence number. */
  #slowest = 0;
  #oldest = 0;
  #oldestSeq = 0;
  #wanted = 0;

  constructor(header: Header, roster: Roster, policy: SpinPolicy, drop: boolean) {
    this.#header = header;
    this.#roster = roster;
    this.#waiter = new Waiter(header, policy, this);
    this.#drop = drop;
    this.#capacity = header.capacity;
    this.#mask = header.capacity - 1;
  }

  /** Joins the subscribers that asked since the last look (one load when none did). */
  #joins(op: string): void {
    if (!this.#roster.changed()) return;
    this.#roster.scan(this.#head, this.#seq, op);
    this.#slowest = this.#roster.slowest(this.#head);
  }

  /** The ring offset where a record of `record` bytes goes now, or -1 ('block': no room behind the slowest subscriber). */
  tryAcquire(record: number, op: string): number {
    this.#joins(op);
    if (this.#drop) return this.#acquireDropping(record, op);
    const pos = this.#head & this.#mask;
    if (this.#capacity - pos >= record) return this.#room(record, op) ? pos : -1;
    const contiguous = this.#capacity - pos;
    if (this.#room(contiguous + record, op)) {
      this.#header.writeMarker(pos);
      this.#head = (this.#head + contiguous) | 0;
      return 0;
    }
    if (!this.#room(contiguous, op)) return -1;
    // The marker alone, published at once: the subscribers move past it while the record waits for room.
    this.#header.writeMarker(pos);
    this.#head = (this.#head + contiguous) | 0;
    this.publish(op);
    return this.#room(record, op) ? 0 : -1;
  }

  /** tryAcquire, else wait for room ('block' only; 'drop' never waits). ETIMEDOUT after `timeout` ms. */
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

  /** Writes the record of `data` (length, sequence number, payload) at ring offset `pos`; publish() makes it visible. */
  write(pos: number, data: Uint8Array): void {
    const header = this.#header;
    const n = data.length;
    header.writeRecordHeader(pos, n);
    header.ringU32[(pos >> 2) + 1] = this.#seq;
    if (n > 0) header.ring.set(data, pos + L.RECORD_HEADER);
    this.#head = (this.#head + L.recordSize(n)) | 0;
    this.#seq = (this.#seq + 1) | 0;
  }

  /** Publishes the head; wakes the subscribers that announced a sleep. */
  publish(op: string): void {
    this.#header.publishHead(this.#head);
    this.#roster.wake(op);
  }

  /** 'block': true when `bytes` more fit behind the slowest subscriber (re-reading the cursors if needed). */
  #room(bytes: number, op: string): boolean {
    const capacity = this.#capacity;
    if (((this.#head - this.#slowest) >>> 0) + bytes <= capacity) return true;
    this.#roster.refresh(this.#head, op);
    this.#slowest = this.#roster.slowest(this.#head);
    return ((this.#head - this.#slowest) >>> 0) + bytes <= capacity;
  }

  /** 'drop': makes room for `record` bytes at the head (a wrap marker first, published alone, if needed). */
  #acquireDropping(record: number, op: string): number {
    const pos = this.#head & this.#mask;
    if (this.#capacity - pos >= record) {
      this.#overwrite(record, op);
      return pos;
    }
    const contiguous = this.#capacity - pos;
    this.#overwrite(contiguous, op);
    this.#header.writeMarker(pos);
    this.#head = (this.#head + contiguous) | 0;
    this.#header.publishHead(this.#head);
    this.#overwrite(record, op);
    return 0;
  }

  /**
   * 'drop': before `bytes` are written at the head, moves OLDEST past every record they cover (walking the ring's
   * own records, each checked: another process may have written into them), and stores it.
   */
  #overwrite(bytes: number, op: string): void {
    const limit = (this.#head + bytes - this.#capacity) | 0;
    if (((limit - this.#oldest) | 0) <= 0) return;
    const header = this.#header;
    const words = header.ringU32;
    let oldest = this.#oldest;
    let seq = this.#oldestSeq;
    // Each step moves at least 8 bytes and never past the head: at most capacity / 8 steps.
    while (((limit - oldest) | 0) > 0) {
      const pos = oldest & this.#mask;
      const length = words[pos >> 2];
      if (length === L.WRAP_MARKER) {
        if (pos === 0) throw header.corrupt(op, `a wrap marker at ring offset 0 (the publisher's own records were overwritten)`);
        oldest = (oldest + this.#capacity - pos) | 0;
      } else {
        const recordSeq = words[(pos >> 2) + 1] | 0;
        if (length > this.#capacity - L.RECORD_HEADER - pos || recordSeq !== seq) {
          throw header.corrupt(
            op,
            `the record at ring offset ${pos} reads length ${length}, sequence ${recordSeq}, but the publisher wrote sequence ${seq} there`,
          );
        }
        oldest = (oldest + L.recordSize(length)) | 0;
        seq = (seq + 1) | 0;
      }
      if (((this.#head - oldest) | 0) < 0) throw header.corrupt(op, `the publisher's own records run past its head ${this.#head >>> 0}`);
    }
    this.#oldest = oldest;
    this.#oldestSeq = seq;
    // OLDEST first: a subscriber loads OLDEST_SEQ, then OLDEST, so a new OLDEST_SEQ comes with a new OLDEST. The
    // last one an exchange, not a store: a full barrier on every CPU, so that no byte written next is seen before it.
    Atomics.store(header.i32, OLDEST, oldest);
    Atomics.exchange(header.i32, OLDEST_SEQ, seq);
  }

  // WaitingEnd: what the Waiter calls while the publisher waits for room ('block').

  poll(op: string): number {
    return this.tryAcquire(this.#wanted, op);
  }

  beforeSleep(): number {
    // The head again (it has not changed): a head another process overwrote cannot make the subscribers wait.
    this.#header.publishHead(this.#head);
    return -1;
  }

  checkPeer(): void {
    // A subscriber that died (or closed) holds nothing back any more: its slot is freed, the next poll has room.
    if (this.#roster.reap()) this.#slowest = this.#roster.slowest(this.#head);
  }

  expired(op: string): number {
    const slowest = this.#roster.members.find((m) => m.cursor === this.#slowest);
    const who = slowest === undefined ? 'the slowest subscriber' : `the slowest subscriber (pid ${slowest.pid}, slot ${slowest.slot})`;
    throw stateError('ETIMEDOUT', op, `${op}: the ring stayed full until the timeout: ${who} is alive but not keeping up`, { shmid: this.#header.id });
  }

  /** The live subscribers: joins pending ones, frees the slots of the dead and closed. */
  subscribers(op: string): number {
    this.#roster.scan(this.#head, this.#seq, op);
    this.#roster.reap();
    if (!this.#drop) this.#slowest = this.#roster.slowest(this.#head);
    return this.#roster.members.length;
  }
}
