// The publisher's view of its subscribers: which slots are taken, joining them (placing their cursor at the head),
// the slowest cursor ('block'), waking them after a publish, and freeing the slots of subscribers that closed or
// died. Slots are rescanned only when JOINS changed (one load per publish) or when the publisher needs room.
//
// A member is identified by its slot's PID and EPOCH: whoever frees a slot bumps EPOCH before resetting its words,
// so a cursor read between two equal EPOCH loads is the member's own.
import type { Attachment } from '../../c/index.js';
import { Cell } from '../cell.js';
import type { Header } from '../channel/header.js';
import { isAliveRecently, validStart } from '../channel/liveness.js';
import { CELL_BELL, RECORD_ALIGN } from '../ring-layout.js';
import * as T from './layout.js';
import { freeSlot, slotWord } from './slots.js';

interface Member {
  readonly slot: number;
  readonly pid: number;
  readonly epoch: number;
  readonly start: number;
  /** The cursor seen last ('block'): it only moves forward, up to the head. */
  cursor: number;
  readonly cell: Cell;
}

const JOINS = T.i32(T.OFF_JOINS);

export class Roster {
  readonly #header: Header;
  readonly #slots: number;
  readonly #block: boolean;
  readonly #address: bigint;
  readonly #members: Array<Member | undefined>;
  /** The members, in slot order (what publish() wakes). */
  #list: Member[] = [];
  #joins: number;

  constructor(header: Header, attachment: Attachment, slots: number, block: boolean) {
    this.#header = header;
    this.#slots = slots;
    this.#block = block;
    this.#address = attachment.address;
    this.#members = new Array<Member | undefined>(slots).fill(undefined);
    this.#joins = Atomics.load(header.i32, JOINS);
  }

  /** True when a subscriber asked to join since the last scan. */
  changed(): boolean {
    return Atomics.load(this.#header.i32, JOINS) !== this.#joins;
  }

  get members(): readonly Member[] {
    return this.#list;
  }

  /**
   * Reads every slot: joins the joining ones at `head` (their first message is `seq`), forgets the freed ones. In
   * 'block' a joined slot not known yet must hold a cursor within `capacity` behind the head.
   */
  scan(head: number, seq: number, op: string): void {
    const i32 = this.#header.i32;
    this.#joins = Atomics.load(i32, JOINS);
    const list: Member[] = [];
    for (let k = 0; k < this.#slots; k++) {
      const pid = Atomics.load(i32, slotWord(k, T.SLOT_PID));
      let member = this.#members[k];
      if (pid <= 0) {
        this.#members[k] = undefined;
        continue;
      }
      const epoch = Atomics.load(i32, slotWord(k, T.SLOT_EPOCH));
      if (member !== undefined && (member.epoch !== epoch || member.pid !== pid)) member = undefined;
      const state = Atomics.load(i32, slotWord(k, T.SLOT_STATE));
      if (member === undefined) {
        if (state === T.STATE_JOINING) {
          // The cursor and first sequence number first; the subscriber loads STATE before it reads them.
          Atomics.store(i32, slotWord(k, T.SLOT_CURSOR), head);
          Atomics.store(i32, slotWord(k, T.SLOT_BASE_SEQ), seq);
          if (Atomics.compareExchange(i32, slotWord(k, T.SLOT_STATE), T.STATE_JOINING, T.STATE_JOINED) === T.STATE_JOINING) {
            member = this.#member(k, pid, epoch, head);
          }
        } else if (state === T.STATE_JOINED) {
          const cursor = Atomics.load(i32, slotWord(k, T.SLOT_CURSOR));
          if (this.#block && ((head - cursor) >>> 0 > this.#header.capacity || (cursor & (RECORD_ALIGN - 1)) !== 0)) {
            throw this.#header.corrupt(
              op,
              `subscriber slot ${k} is joined with cursor ${cursor >>> 0}, not a multiple of 8 within the capacity behind head ${head >>> 0}`,
            );
          }
          member = this.#member(k, pid, epoch, cursor);
        } else if (state !== T.STATE_CLAIMED) {
          throw this.#header.corrupt(op, `subscriber slot ${k} has state ${state} (0, 1 or 2)`);
        }
      }
      // Freed meanwhile: its words may be another subscriber's by now (that one's join bumps JOINS again).
      if (member === undefined || Atomics.load(i32, slotWord(k, T.SLOT_EPOCH)) !== epoch) {
        this.#members[k] = undefined;
        continue;
      }
      this.#members[k] = member;
      list.push(member);
    }
    this.#list = list;
  }

  #member(k: number, pid: number, epoch: number, cursor: number): Member {
    const { i32, f64 } = this.#header;
    const start = f64[T.slotOffset(k, T.SLOT_START) / 8];
    const cellOffset = T.slotOffset(k, T.SLOT_CELL);
    return {
      slot: k,
      pid,
      epoch,
      start: validStart(start) ? start : 0,
      cursor,
      cell: new Cell(i32, T.i32(cellOffset), this.#address + BigInt(cellOffset + CELL_BELL)),
    };
  }

  /** The cursor of the slowest member as seen last ('block'), or `head` when there is none. */
  slowest(head: number): number {
    let slowest = head;
    let lag = 0;
    for (const m of this.#list) {
      const behind = (head - m.cursor) >>> 0;
      if (behind > lag) {
        lag = behind;
        slowest = m.cursor;
      }
    }
    return slowest;
  }

  /**
   * Re-reads every member's cursor and closed flag ('block', when the cursors seen last leave no room): frees the
   * slots of members that closed, checks each cursor (forward only, up to `head`, a multiple of 8).
   */
  refresh(head: number, op: string): void {
    const { i32, f64 } = this.#header;
    let dropped = false;
    for (const m of this.#list) {
      const closed = Atomics.load(i32, slotWord(m.slot, T.SLOT_CLOSED));
      const cursor = Atomics.load(i32, slotWord(m.slot, T.SLOT_CURSOR));
      if (Atomics.load(i32, slotWord(m.slot, T.SLOT_EPOCH)) !== m.epoch) {
        this.#members[m.slot] = undefined; // freed by another process: what was read is not this member's
        dropped = true;
        continue;
      }
      if (closed === 1) {
        freeSlot(i32, f64, m.slot, m.pid, m.epoch);
        this.#members[m.slot] = undefined;
        dropped = true;
        continue;
      }
      if (closed !== 0) throw this.#header.corrupt(op, `the closed flag of subscriber slot ${m.slot} is ${closed} (0 or 1)`);
      if ((head - cursor) >>> 0 > (head - m.cursor) >>> 0 || (cursor & (RECORD_ALIGN - 1)) !== 0) {
        throw this.#header.corrupt(
          op,
          `the cursor of subscriber slot ${m.slot} is ${cursor >>> 0}; a subscriber's cursor only moves forward in multiples of ${RECORD_ALIGN}, from ${m.cursor >>> 0} (seen last) to at most ${head >>> 0} (the head)`,
        );
      }
      m.cursor = cursor;
    }
    if (dropped) this.#list = this.#list.filter((m) => this.#members[m.slot] === m);
  }

  /** Frees the slots of members whose process is gone (or that closed). True if any was freed. */
  reap(): boolean {
    const { i32, f64 } = this.#header;
    let dropped = false;
    for (const m of this.#list) {
      const closed = Atomics.load(i32, slotWord(m.slot, T.SLOT_CLOSED)) === 1;
      if (!closed && isAliveRecently(m.pid, m.start)) continue; // many members of one process: one look
      freeSlot(i32, f64, m.slot, m.pid, m.epoch);
      this.#members[m.slot] = undefined;
      dropped = true;
    }
    if (dropped) this.#list = this.#list.filter((m) => this.#members[m.slot] === m);
    return dropped;
  }

  /** After a publish: wakes the members that announced a sleep (one load each otherwise). */
  wake(op: string): void {
    for (const m of this.#list) m.cell.wake(op);
  }

  /** At close: wakes every taken slot's sleeper, joined or not (their next look sees the publisher closed). */
  wakeEverySlot(op: string): void {
    const i32 = this.#header.i32;
    for (let k = 0; k < this.#slots; k++) {
      if (Atomics.load(i32, slotWord(k, T.SLOT_PID)) === 0) continue;
      const cellOffset = T.slotOffset(k, T.SLOT_CELL);
      new Cell(i32, T.i32(cellOffset), this.#address + BigInt(cellOffset + CELL_BELL)).wakeAll(op);
    }
  }
}
