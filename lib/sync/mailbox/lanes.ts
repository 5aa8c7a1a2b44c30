// The receiving end's part of a mailbox: which lanes have a sender (adopted when CONNECTS changes, and at every
// liveness check), the next message in round-robin order, and freeing the lane of a sender that closed or died
// once everything it published was delivered. It is the WaitingEnd of the receiver's Waiter: the receiver sleeps
// on one cell for all lanes, and every sender wakes it after publishing.
//
// Fairness: one message per lane in turn, so between two messages of one sender, every other sender with a message
// waiting gets one delivered. A sender can fill only its own lane: a fast or stuck sender never blocks another.
import { Header } from '../channel/header.js';
import { Liveness, isAlive, validStart } from '../channel/liveness.js';
import { Receiver } from '../channel/receiver.js';
import { SLICE_MS, type WaitingEnd } from '../channel/waiter.js';
import * as L from '../ring-layout.js';
import type { SpinPolicy } from '../spin-policy.js';
import * as M from './layout.js';
import type { ReceiverSite } from './site.js';

/** One connected sender, as the receiver sees it: its lane's ring part and identity, read once at adoption. */
export interface Lane {
  readonly index: number;
  readonly header: Header;
  readonly receiver: Receiver;
  readonly liveness: Liveness;
  /** The sender id and pid its connect() wrote. */
  readonly sender: number;
  readonly pid: number;
  /** Set once the sender was found closed or dead: the lane is freed when it is drained. */
  leaving: boolean;
}

export class Lanes implements WaitingEnd {
  readonly #site: ReceiverSite;
  readonly #capacity: number;
  readonly #policy: SpinPolicy;
  readonly #byIndex: Array<Lane | undefined>;
  /** The lanes with a sender, in round-robin order, and where the next look starts. */
  #active: Lane[] = [];
  #next = 0;
  #connectsSeen: number;
  /** When the senders' liveness is looked at next from tryNext (a receiver that never sleeps checks it too). */
  #checkAt = 0;
  #calls = 0;
  /** The lane of the message poll() found last (its length is what poll returned). */
  current: Lane | undefined;

  constructor(site: ReceiverSite, capacity: number, policy: SpinPolicy) {
    this.#site = site;
    this.#capacity = capacity;
    this.#policy = policy;
    this.#byIndex = new Array<Lane | undefined>(site.lanes).fill(undefined);
    this.#connectsSeen = Atomics.load(site.i32, L.i32(M.OFF_CONNECTS)) - 1; // the first look scans
  }

  /** The connected senders (sender id, pid), including ones that closed or died with messages still to receive. */
  senders(op: string): Array<{ sender: number; pid: number }> {
    try {
      this.#adoptIfConnected(op);
      // Senders that closed and whose messages were all received are gone: their lanes are freed now.
      for (const lane of [...this.#active]) {
        if ((lane.leaving || lane.header.peerClosed(op)) && lane.receiver.tryNext(op) < 0) this.#free(lane);
      }
    } catch (error) {
      this.#site.noteCorruption(error);
      throw error;
    }
    return this.#active.map((lane) => ({ sender: lane.sender, pid: lane.pid }));
  }

  /**
   * The length of the next message in round-robin order (its lane in `current`), or -1 when every lane is empty.
   * A lane whose sender closed and that is drained is freed on the way. An EPROTO raised by a lane's Header makes
   * the whole receiving end unusable.
   */
  tryNext(op: string): number {
    try {
      return this.#tryNext(op);
    } catch (error) {
      this.#site.noteCorruption(error);
      throw error;
    }
  }

  #tryNext(op: string): number {
    this.#adoptIfConnected(op);
    // A receiver kept busy by other senders never waits a slice, where the Waiter checks liveness: so the clock
    // is looked at every 16 calls here, and a dead sender's lane is freed within a slice of it dying.
    if ((++this.#calls & 15) === 0 && performance.now() >= this.#checkAt) {
      this.#checkAt = performance.now() + SLICE_MS;
      this.checkPeer(op);
    }
    for (;;) {
      const active = this.#active;
      const n = active.length;
      let freed = false;
      for (let i = 0; i < n; i++) {
        const at = (this.#next + i) % n;
        const lane = active[at];
        let length = lane.receiver.tryNext(op);
        // Looked at again after the flag: a sender that published its last message, then closed.
        if (length < 0 && (lane.leaving || lane.header.peerClosed(op))) {
          length = lane.receiver.tryNext(op);
          if (length < 0) {
            this.#free(lane);
            freed = true; // the list changed: look again (at most one round per lane freed)
            break;
          }
        }
        if (length >= 0) {
          this.current = lane;
          this.#next = (at + 1) % n;
          return length;
        }
      }
      if (!freed) return -1;
    }
  }

  /** Adopts the lanes of senders that connected since the last look (CONNECTS changed). */
  #adoptIfConnected(op: string): void {
    const connects = Atomics.load(this.#site.i32, L.i32(M.OFF_CONNECTS));
    if (connects === this.#connectsSeen) return;
    this.#connectsSeen = connects;
    this.#adopt(op);
  }

  /** Looks at every lane not adopted yet: a READY one is adopted; a claim whose process died is given back. */
  #adopt(op: string): void {
    const i32 = this.#site.i32;
    const f64 = this.#site.f64;
    for (let k = 0; k < this.#site.lanes; k++) {
      if (this.#byIndex[k] !== undefined) continue;
      const base = M.laneOffset(k);
      const pid = Atomics.load(i32, L.i32(base + M.LANE_PID));
      if (pid === 0) continue;
      let ready = Atomics.load(i32, L.i32(base + M.LANE_READY));
      if (ready === 0) {
        // A connect in progress, or one killed halfway. Only a dead claimant's lane is given back, and READY is read
        // again once it is known dead (it may have become ready, even sent, just before dying: then it is adopted,
        // drained and freed like any sender that died).
        if (pid < 0 || isAlive(pid, 0)) continue;
        ready = Atomics.load(i32, L.i32(base + M.LANE_READY));
        if (ready === 0) {
          Atomics.store(i32, L.i32(base + M.LANE_SENDER_ID), 0);
          f64[(base + M.LANE_START) / 8] = 0;
          Atomics.compareExchange(i32, L.i32(base + M.LANE_PID), pid, 0);
          continue;
        }
      }
      if (ready !== 1) throw this.#site.corrupt(op, `lane ${k}'s ready flag is ${ready} (0 or 1)`);
      const start = f64[(base + M.LANE_START) / 8];
      const sender = Atomics.load(i32, L.i32(base + M.LANE_SENDER_ID)) >>> 0;
      if (pid < 0) throw this.#site.corrupt(op, `lane ${k}'s sender pid is ${pid}`);
      if (!validStart(start)) throw this.#site.corrupt(op, `lane ${k}'s sender start time is ${start}`);
      if (sender === 0) throw this.#site.corrupt(op, `lane ${k}'s sender id is 0 (ids start at 1)`);
      const header = new Header(this.#site.attachment, M.lanePlacement(k, this.#site.lanes, this.#capacity), M.RECEIVER, M.senderSide(k));
      const liveness = new Liveness(header, pid, start);
      const lane: Lane = { index: k, header, receiver: new Receiver(header, liveness, this.#policy, 0, 0), liveness, sender, pid, leaving: false };
      this.#byIndex[k] = lane;
      this.#active.push(lane);
    }
  }

  /**
   * Gives a drained lane of a sender that closed or died back: its words reset, the claim (PID) last, so that a
   * connecting sender finds it clean. Anything the sender had written but not published is discarded with it.
   */
  #free(lane: Lane): void {
    const i32 = this.#site.i32;
    const base = M.laneOffset(lane.index);
    Atomics.store(i32, L.i32(base + M.LANE_HEAD), 0);
    Atomics.store(i32, L.i32(base + M.LANE_TAIL), 0);
    Atomics.store(i32, L.i32(base + M.LANE_CLOSED), 0);
    Atomics.store(i32, L.i32(base + M.LANE_SENDER_ID), 0);
    this.#site.f64[(base + M.LANE_START) / 8] = 0;
    for (let w = 0; w < L.CELL_SIZE / 4; w++) Atomics.store(i32, L.i32(base + M.LANE_CELL) + w, 0);
    Atomics.store(i32, L.i32(base + M.LANE_READY), 0);
    Atomics.store(i32, L.i32(base + M.LANE_PID), 0);
    this.#byIndex[lane.index] = undefined;
    const at = this.#active.indexOf(lane);
    this.#active.splice(at, 1);
    if (this.#next > at) this.#next--;
    if (this.#next >= this.#active.length) this.#next = 0;
  }

  // WaitingEnd: what the Waiter calls while the receiver waits for a message.

  poll(op: string): number {
    return this.tryNext(op);
  }

  beforeSleep(): number {
    return -1; // a mailbox has no single peer whose close ends the wait: senders come and go
  }

  /** The senders' liveness: a dead sender's lane is marked leaving (freed once drained); lanes are rescanned. */
  checkPeer(op: string): void {
    try {
      this.#adopt(op);
      for (const lane of this.#active) if (!lane.leaving && lane.liveness.deadPeer(op, true) !== 0) lane.leaving = true;
    } catch (error) {
      this.#site.noteCorruption(error);
      throw error;
    }
  }

  expired(): number {
    return -1;
  }
}
