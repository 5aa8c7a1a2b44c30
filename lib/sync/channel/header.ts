// One end's view of a channel's shared words: typed accessors over the layout of ring-layout.ts, and the one place
// where shared words are read and checked.
//
// Any process that can attach the segment (the same user, root, a buggy peer) can write any word at any moment.
// So every accessor that feeds a decision reads its word once, checks it, and returns the checked copy; callers
// use that copy and never read the word again. An inconsistency is EPROTO (corrupt()), after which this end only
// closes: every later call repeats the EPROTO (assertUsable()).
import { shmdt, stateError, type Attachment, type ShmError } from '../../c/index.js';
import { Cell } from '../cell.js';
import * as L from '../ring-layout.js';

/** The words of one end in the header: Int32 indices (start: a Float64 index) and the byte offset of its wake-up cell. */
export interface Side {
  /** What messages call this end: 'producer', 'consumer' (a channel), 'sender', 'receiver' (a mailbox), ... */
  readonly name: string;
  /** True for the end that writes records (its peer reads them). */
  readonly writes: boolean;
  readonly pid: number;
  readonly start: number;
  readonly closed: number;
  readonly cellOffset: number;
}

export const PRODUCER: Side = {
  name: 'producer',
  writes: true,
  pid: L.i32(L.OFF_PRODUCER_PID),
  start: L.OFF_PRODUCER_START / 8,
  closed: L.i32(L.OFF_PRODUCER_CLOSED),
  cellOffset: L.OFF_PRODUCER_CELL,
};

export const CONSUMER: Side = {
  name: 'consumer',
  writes: false,
  pid: L.i32(L.OFF_CONSUMER_PID),
  start: L.OFF_CONSUMER_START / 8,
  closed: L.i32(L.OFF_CONSUMER_CLOSED),
  cellOffset: L.OFF_CONSUMER_CELL,
};

/**
 * Where one ring and its counters lie in a segment. A channel has one ring (channelPlacement); a mailbox has a ring
 * per sender lane and a topic one ring read through a cursor per subscriber, each end seeing its ring through a
 * Header of its own.
 */
export interface RingPlacement {
  /** What the segment is, for messages: 'channel', 'mailbox', 'topic'. */
  readonly kind: string;
  /** Ring size in bytes (a power of two), as created or as checked at open. */
  readonly capacity: number;
  /** Byte offset of the ring in the segment. */
  readonly dataOffset: number;
  /** Bytes of shared words at the start of the segment (the i32 and f64 views cover them). */
  readonly controlSize: number;
  /** Int32 indices of the producer's head and of the consumer's tail. */
  readonly head: number;
  readonly tail: number;
}

/** The placement of a channel's ring (ring-layout.ts). */
export function channelPlacement(capacity: number): RingPlacement {
  return { kind: 'channel', capacity, dataOffset: L.DATA_OFFSET, controlSize: L.DATA_OFFSET, head: L.i32(L.OFF_HEAD), tail: L.i32(L.OFF_TAIL) };
}

/** What readRecord returns for a wrap marker. */
export const MARKER = -1;

/** The header and ring of a channel segment as seen by one end (`self`), whose other end is `peer`. */
export class Header {
  /** The segment's shmid. */
  readonly id: number;
  /** 'channel', 'mailbox' or 'topic': what errors call the segment. */
  readonly kind: string;
  /** Ring size in bytes (a power of two), as created or as checked at open: never read from the segment again. */
  readonly capacity: number;
  readonly mask: number;
  readonly self: Side;
  readonly peer: Side;
  /** The header as 32-bit words, and the start times (float64). */
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** The ring (index 0 = ring offset 0) as bytes, as 32-bit words for lengths, as Int32 for word copies. */
  readonly ring: Uint8Array;
  readonly ringU32: Uint32Array;
  readonly ringI32: Int32Array;
  /** This end's wake-up cell (where it announces its sleeps) and the peer's (which this end wakes). */
  readonly selfCell: Cell;
  readonly peerCell: Cell;
  readonly #attachment: Attachment;
  // The Int32 index of a word read on every message, as a number of its own (one load less than via a Side).
  readonly #peerClosed: number;
  readonly #head: number;
  readonly #tail: number;
  /** Set by close() and by an EPROTO: one test on the fast path for both. */
  #unusable = false;
  #closed = false;
  /** What was found inconsistent (the first EPROTO of this end); every later call repeats it. */
  #corruption: string | undefined;
  /** Called by close(): this end's pending async wait, which then ends with ERR_CHANNEL_CLOSED. */
  readonly #closeListeners = new Set<() => void>();

  constructor(attachment: Attachment, placement: RingPlacement, self: Side, peer: Side) {
    const buffer = attachment.buffer;
    const { capacity, dataOffset, controlSize } = placement;
    this.id = attachment.shmid;
    this.kind = placement.kind;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.self = self;
    this.peer = peer;
    this.i32 = new Int32Array(buffer, 0, controlSize / 4);
    this.f64 = new Float64Array(buffer, 0, controlSize / 8);
    this.ring = new Uint8Array(buffer, dataOffset, capacity);
    this.ringU32 = new Uint32Array(buffer, dataOffset, capacity / 4);
    this.ringI32 = new Int32Array(buffer, dataOffset, capacity / 4);
    this.selfCell = new Cell(this.i32, L.i32(self.cellOffset), attachment.address + BigInt(self.cellOffset + L.CELL_BELL));
    this.peerCell = new Cell(this.i32, L.i32(peer.cellOffset), attachment.address + BigInt(peer.cellOffset + L.CELL_BELL));
    this.#attachment = attachment;
    this.#peerClosed = peer.closed;
    this.#head = placement.head;
    this.#tail = placement.tail;
  }

  // --------------------------------------------------------------------------------------------------------------
  // This end's state
  // --------------------------------------------------------------------------------------------------------------

  get closed(): boolean {
    return this.#closed;
  }

  // The hot accessors keep their error paths out of line (in methods of their own): what a hot path inlines
  // stays small, and V8 inlines more of it.

  /** Throws ERR_CHANNEL_CLOSED after close(), EPROTO again after an EPROTO. */
  assertUsable(op: string): void {
    if (this.#unusable) throw this.#unusableError(op);
  }

  #unusableError(op: string): ShmError {
    if (this.#closed) return stateError('ERR_CHANNEL_CLOSED', op, `${op}: this ${this.self.name} end of ${this.kind} ${this.id} is closed`, { shmid: this.id });
    return stateError(
      'EPROTO',
      op,
      `${op}: ${this.kind} ${this.id} was found corrupted earlier (${this.#corruption}); this ${this.self.name} end can only be closed now`,
      {
        shmid: this.id,
      },
    );
  }

  /**
   * EPROTO: the shared memory is inconsistent, so a buggy or hostile process wrote into it. Final for this end:
   * every later call repeats it (nothing it reads can be trusted any more); close() still works.
   */
  corrupt(op: string, what: string): ShmError {
    if (this.#corruption === undefined) this.#corruption = what;
    this.#unusable = true;
    return stateError(
      'EPROTO',
      op,
      `${op}: ${this.kind} ${this.id} is corrupted: ${what}. Another process wrote into the ${this.kind}'s shared memory (a buggy peer, or any process of this user); this ${this.self.name} end can only be closed now`,
      { shmid: this.id },
    );
  }

  /** EPIPE: the peer closed or died (`why`), and the ring cannot make progress any more. */
  peerGone(op: string, why: string): ShmError {
    const what = this.self.writes ? 'be received from' : 'arrive on';
    return stateError('EPIPE', op, `${op}: ${why}; nothing more can ${what} ${this.kind} ${this.id}`, { shmid: this.id });
  }

  /**
   * Marks this end closed in the header, wakes every sleeper of both cells, ends this end's own pending async wait
   * (ERR_CHANNEL_CLOSED), and detaches. Idempotent.
   */
  close(op: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unusable = true;
    Atomics.store(this.i32, this.self.closed, 1);
    this.peerCell.wakeAll(op);
    // This end's own wait (an async one: a synchronous one cannot be in progress while its thread runs close())
    // ends through its listener; nothing to wake in its own cell.
    for (const listener of [...this.#closeListeners]) listener();
    shmdt(this.#attachment);
  }

  /** `listener` runs when this end closes (until removed). */
  onClose(listener: () => void): void {
    this.#closeListeners.add(listener);
  }

  offClose(listener: () => void): void {
    this.#closeListeners.delete(listener);
  }

  // --------------------------------------------------------------------------------------------------------------
  // The counters: each written by one end only, read once and checked by the other
  // --------------------------------------------------------------------------------------------------------------

  /** The producer's head, read once: within `capacity` bytes ahead of the consumer's `tail`, whole records. */
  readHead(tail: number, op: string): number {
    const head = Atomics.load(this.i32, this.#head);
    if ((head - tail) >>> 0 > this.capacity || (head & (L.RECORD_ALIGN - 1)) !== 0) throw this.#badHead(op, head, tail);
    return head;
  }

  #badHead(op: string, head: number, tail: number): ShmError {
    return this.corrupt(
      op,
      `head is ${head >>> 0}, not a multiple of ${L.RECORD_ALIGN} within ${this.capacity} bytes (the capacity) ahead of tail ${tail >>> 0}`,
    );
  }

  /**
   * The consumer's tail, read once: the consumer only moves it forward, in whole records, never past what was
   * written. So it lies between `tailSeen` (the tail seen last) and the producer's `head`, and is a multiple of 8.
   */
  readTail(head: number, tailSeen: number, op: string): number {
    const tail = Atomics.load(this.i32, this.#tail);
    if ((head - tail) >>> 0 > (head - tailSeen) >>> 0 || (tail & (L.RECORD_ALIGN - 1)) !== 0) throw this.#badTail(op, tail, head, tailSeen);
    return tail;
  }

  #badTail(op: string, tail: number, head: number, tailSeen: number): ShmError {
    return this.corrupt(
      op,
      `tail is ${tail >>> 0}; the ${this.peer.name}'s tail only moves forward in multiples of ${L.RECORD_ALIGN}, from ${tailSeen >>> 0} (seen last) to at most ${head >>> 0} (the head)`,
    );
  }

  /** Stores this end's counter (the head for the producer, the tail for the consumer). */
  publishHead(head: number): void {
    Atomics.store(this.i32, this.#head, head);
  }

  publishTail(tail: number): void {
    Atomics.store(this.i32, this.#tail, tail);
  }

  // --------------------------------------------------------------------------------------------------------------
  // Records
  // --------------------------------------------------------------------------------------------------------------

  /**
   * The length word of the record at `tail`, read once and checked against the ring and the published `head`:
   * a length (the record lies within the ring and within head - tail), or MARKER for a wrap marker (not at ring
   * offset 0, its padding within head - tail). `markerAt` is the ring offset of a marker just skipped (-1: none):
   * a second marker in a row is EPROTO.
   */
  readRecord(tail: number, head: number, op: string, markerAt: number): number {
    const pos = tail & this.mask;
    const length = this.ringU32[pos >> 2];
    const published = (head - tail) >>> 0;
    if (length === L.WRAP_MARKER) {
      // The marker pads to the end of the ring, and the producer counts that padding as published with it. After
      // a marker the record starts at offset 0, where a marker can never be: at most one is skipped per look.
      if (markerAt >= 0 || pos === 0 || this.capacity - pos > published) throw this.#badMarker(op, tail, head, markerAt);
      return MARKER;
    }
    // The first test bounds the length (so that recordSize cannot overflow): a record never crosses the end of the ring.
    if (length > this.capacity - L.RECORD_HEADER - pos || L.recordSize(length) > published) throw this.#badRecord(op, tail, head, length);
    return length;
  }

  #badMarker(op: string, tail: number, head: number, markerAt: number): ShmError {
    const pos = tail & this.mask;
    const skip = this.capacity - pos;
    if (markerAt >= 0) return this.corrupt(op, `two wrap markers in a row (ring offsets ${markerAt} and ${pos})`);
    if (pos === 0) return this.corrupt(op, `a wrap marker at ring offset 0 (tail ${tail >>> 0}): a record always fits there`);
    return this.corrupt(
      op,
      `a wrap marker at ring offset ${pos} skips ${skip} bytes, but only ${(head - tail) >>> 0} are published (tail ${tail >>> 0}, head ${head >>> 0})`,
    );
  }

  #badRecord(op: string, tail: number, head: number, length: number): ShmError {
    const pos = tail & this.mask;
    if (length > this.capacity - L.RECORD_HEADER - pos) {
      return this.corrupt(op, `a record of ${length} bytes at ring offset ${pos} does not fit before the end of the ring (capacity ${this.capacity})`);
    }
    return this.corrupt(
      op,
      `a record of ${length} bytes (${L.recordSize(length)} with header and padding) at ring offset ${pos}, but only ${(head - tail) >>> 0} bytes are published (tail ${tail >>> 0}, head ${head >>> 0})`,
    );
  }

  /** Writes a record's header (length, reserved 0) at ring offset `pos`. */
  writeRecordHeader(pos: number, length: number): void {
    this.ringU32[pos >> 2] = length;
    this.ringU32[(pos >> 2) + 1] = 0;
  }

  writeMarker(pos: number): void {
    this.ringU32[pos >> 2] = L.WRAP_MARKER;
  }

  // --------------------------------------------------------------------------------------------------------------
  // The peer's words
  // --------------------------------------------------------------------------------------------------------------

  /** Whether the peer closed its end: its flag read once, 0 or 1 (anything else is EPROTO). */
  peerClosed(op: string): boolean {
    const closed = Atomics.load(this.i32, this.#peerClosed);
    if (closed === 0) return false;
    if (closed !== 1) throw this.#badClosed(op, closed);
    return true;
  }

  #badClosed(op: string, closed: number): ShmError {
    return this.corrupt(op, `the ${this.peer.name}-closed flag in the header is ${closed} (0 or 1)`);
  }

  /** The peer's pid and start time as the header holds them now (checked by liveness.ts against what was seen). */
  peerPid(): number {
    return Atomics.load(this.i32, this.peer.pid);
  }

  peerStart(): number {
    return this.f64[this.peer.start];
  }

  // --------------------------------------------------------------------------------------------------------------
  // Sleeping and waking (the protocol is in waiter.ts and docs/channel.md)
  // --------------------------------------------------------------------------------------------------------------

  /** After publishing a counter: wakes the peer only if it announced a sleep (no syscall otherwise). */
  wakePeer(op: string): void {
    this.peerCell.wake(op);
  }
}
