// The receiving end's own words: where it sleeps (one wake-up cell that every sender rings), whether it is closed
// or found corrupted, and closing (which wakes every sender). The Waiter sleeps on it (a WaitSite), as a channel
// end sleeps on its Header.
import { shmdt, stateError, type Attachment, type ShmError } from '../../c/index.js';
import { Cell } from '../cell.js';
import * as L from '../ring-layout.js';
import type { WaitSite } from '../channel/waiter.js';
import * as M from './layout.js';

export class ReceiverSite implements WaitSite {
  readonly id: number;
  readonly selfCell: Cell;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly attachment: Attachment;
  readonly lanes: number;
  #closed = false;
  #unusable = false;
  /** The first EPROTO (found here or by a lane's Header): every later call repeats it. */
  #corruption: string | undefined;
  readonly #closeListeners = new Set<() => void>();

  constructor(attachment: Attachment, lanes: number) {
    this.id = attachment.shmid;
    this.attachment = attachment;
    this.lanes = lanes;
    this.i32 = new Int32Array(attachment.buffer, 0, M.ringsOffset(lanes) / 4);
    this.f64 = new Float64Array(attachment.buffer, 0, M.ringsOffset(lanes) / 8);
    this.selfCell = this.#cell(M.OFF_RECEIVER_CELL);
  }

  #cell(offset: number): Cell {
    return new Cell(this.i32, L.i32(offset), this.attachment.address + BigInt(offset + L.CELL_BELL));
  }

  get closed(): boolean {
    return this.#closed;
  }

  assertUsable(op: string): void {
    if (this.#unusable) throw this.#unusableError(op);
  }

  #unusableError(op: string): ShmError {
    if (this.#closed) return stateError('ERR_CHANNEL_CLOSED', op, `${op}: mailbox ${this.id} is closed`, { shmid: this.id });
    return stateError('EPROTO', op, `${op}: mailbox ${this.id} was found corrupted earlier (${this.#corruption}); it can only be closed now`, {
      shmid: this.id,
    });
  }

  /** EPROTO, final for this end (the lanes' Headers report theirs through noteCorruption). */
  corrupt(op: string, what: string): ShmError {
    this.#corruption ??= what;
    this.#unusable = true;
    return stateError(
      'EPROTO',
      op,
      `${op}: mailbox ${this.id} is corrupted: ${what}. Another process wrote into the mailbox's shared memory (a buggy sender, or any process of this user); it can only be closed now`,
      { shmid: this.id },
    );
  }

  /** An EPROTO raised by a lane's Header makes the whole receiving end unusable too. */
  noteCorruption(error: unknown): void {
    if ((error as ShmError)?.code !== 'EPROTO') return;
    this.#corruption ??= (error as ShmError).message;
    this.#unusable = true;
  }

  /** Marks the receiver closed, wakes every sender (their next wait ends with EPIPE), settles this end's async wait, detaches. */
  close(op: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unusable = true;
    Atomics.store(this.i32, M.RECEIVER.closed, 1);
    for (let k = 0; k < this.lanes; k++) {
      if (Atomics.load(this.i32, L.i32(M.laneOffset(k) + M.LANE_PID)) !== 0) this.#cell(M.laneOffset(k) + M.LANE_CELL).wakeAll(op);
    }
    for (const listener of [...this.#closeListeners]) listener();
    shmdt(this.attachment);
  }

  onClose(listener: () => void): void {
    this.#closeListeners.add(listener);
  }

  offClose(listener: () => void): void {
    this.#closeListeners.delete(listener);
  }
}
