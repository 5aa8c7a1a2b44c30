// The receiving end of a mailbox (what Mailbox.create returns), and Mailbox.connect for the senders: receive,
// tryReceive, receiveInto, receiveAsync, receiveIntoAsync, peek + release, for await. The checks of each call are
// here; finding the next message is the Lanes part's, waiting the channel's Waiter's.
import {
  AsyncQueue,
  busyError,
  checkTimeout,
  peekedError,
  receiveInTurn,
  sequenceError,
  type AsyncOptions,
  type ReceivingEnd,
  type TimeoutOptions,
} from '../channel/arguments.js';
import { Waiter } from '../channel/waiter.js';
import { receiveIterator } from '../channel/iteration.js';
import { checkSpin } from '../../common/arguments.js';
import { DEFAULT_SPIN } from '../channel/end.js';
import * as L from '../ring-layout.js';
import { Lanes, type Lane } from './lanes.js';
import { connectMailbox, createMailbox, type MailboxConnectOptions, type MailboxCreateOptions, type ReceiverParts } from './open.js';
import { MailboxSender } from './sender.js';
import { ReceiverSite } from './site.js';

/** A message and who sent it. */
export interface MailboxMessage {
  /** The payload: a copy (receive), or a view into the lane (peek, valid until release()). */
  readonly data: Uint8Array;
  /** The sender's id (MailboxSender.sender): unique for the mailbox's lifetime, unlike a pid. */
  readonly sender: number;
  /** The sender's process id. */
  readonly pid: number;
}

/** What receiveInto reports: the message's length in the target, and who sent it. */
export interface MailboxReceipt {
  readonly length: number;
  readonly sender: number;
  readonly pid: number;
}

function targetTooSmall(op: string, length: number, room: number): RangeError {
  return new RangeError(`${op}: the next message has ${length} bytes; target has room for ${room} (the message stays in the mailbox)`);
}

/**
 * The receiving end of a mailbox: many senders, one receiver, a lane per sender in one segment. Every message is
 * delivered once, whole, in each sender's order, with its sender's id and pid; senders are served round robin.
 * Senders come and go: a receive never fails because none is connected (it waits, up to its timeout).
 */
export class Mailbox {
  /** The shmid to hand to the senders' processes (Mailbox.connect(id)). */
  readonly id: number;
  /** Each lane's ring size in bytes (a power of two). */
  readonly capacity: number;
  /** Largest message: capacity - 8. */
  readonly maxMessageSize: number;
  /** The most senders connected at once (the lanes). */
  readonly maxSenders: number;
  readonly #site: ReceiverSite;
  readonly #lanes: Lanes;
  readonly #waiter: Waiter;
  readonly #policy: ReceiverParts['policy'];
  readonly #queue = new AsyncQueue();
  /** The lane and length of a peek()ed message not released yet. */
  #peeked: Lane | undefined;
  #peekedLength = -1;
  /** This end as receiveInTurn sees it. */
  readonly #receiving: ReceivingEnd = {
    ready: (op, asyncCall) => this.#ready(op, asyncCall),
    tryNext: (op) => this.#lanes.tryNext(op),
    nextAsync: (deadline, op, signal) => this.#waiter.waitAsync(op, deadline, signal),
    assertUsable: (op) => this.#site.assertUsable(op),
  };

  /** Creates the segment and returns the receiving end; hand `mailbox.id` to the senders. */
  static create(options: MailboxCreateOptions = {}): Mailbox {
    return new Mailbox(createMailbox(options));
  }

  /**
   * Connects a sender to mailbox `id` (made by Mailbox.create in another process or this one): claims a free lane.
   * EAGAIN when all `senders` lanes are taken; EPIPE when the receiver closed or died.
   */
  static connect(id: number, options: MailboxConnectOptions = {}): MailboxSender {
    return new MailboxSender(connectMailbox(id, options));
  }

  /** @internal Use Mailbox.create. */
  private constructor(parts: ReceiverParts) {
    this.#site = new ReceiverSite(parts.attachment, parts.lanes);
    this.#policy = parts.policy;
    this.#lanes = new Lanes(this.#site, parts.capacity, parts.policy);
    this.#waiter = new Waiter(this.#site, parts.policy, this.#lanes);
    this.id = this.#site.id;
    this.capacity = parts.capacity;
    this.maxMessageSize = parts.capacity - L.RECORD_HEADER;
    this.maxSenders = parts.lanes;
  }

  /** Spin iterations before sleeping (0: sleep at once); adapted as for a channel end. */
  get spin(): number {
    return this.#policy.base;
  }
  set spin(value: number) {
    this.#policy.base = checkSpin('Mailbox.spin', value, DEFAULT_SPIN);
  }

  get closed(): boolean {
    return this.#site.closed;
  }

  /** The senders connected now (sender id, pid), with ones that left but whose messages are not all received yet. */
  get senders(): Array<{ sender: number; pid: number }> {
    const op = 'Mailbox.senders';
    this.#site.assertUsable(op);
    return this.#lanes.senders(op);
  }

  /** The next message, copied out, with its sender. Waits (spin, then futex) while every lane is empty; null after `timeoutMs`. */
  receive(options?: TimeoutOptions): MailboxMessage | null {
    const op = 'Mailbox.receive';
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    const length = this.#next(op, timeout);
    return length < 0 ? null : this.#take(length, op);
  }

  /** The next message if there is one now, else null (never waits). */
  tryReceive(): MailboxMessage | null {
    const op = 'Mailbox.tryReceive';
    this.#ready(op, false);
    const length = this.#lanes.tryNext(op);
    return length < 0 ? null : this.#take(length, op);
  }

  /**
   * Copies the next message into `target` (no allocation but the receipt) and returns its length and sender;
   * null after `timeoutMs`. RangeError, with the message left in its lane, when `target` is too small.
   */
  receiveInto(target: Uint8Array, options?: TimeoutOptions): MailboxReceipt | null {
    const op = 'Mailbox.receiveInto';
    if (!(target instanceof Uint8Array)) throw new TypeError(`${op}: target must be a Uint8Array`);
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    const length = this.#next(op, timeout);
    return length < 0 ? null : this.#takeInto(target, length, op);
  }

  /**
   * receive() without blocking the event loop: the wait sleeps on this thread's doorbell (no thread per wait).
   * null after `timeoutMs`; `signal` cancels it (AbortError, no message taken). Async calls run one after another;
   * synchronous ones are refused (ERR_CHANNEL_BUSY) while any is pending.
   */
  receiveAsync(options?: AsyncOptions): Promise<MailboxMessage | null> {
    return this.#receiveAsync('Mailbox.receiveAsync', options, (length, op) => this.#take(length, op));
  }

  /** receiveInto() without blocking the event loop (see receiveAsync). */
  async receiveIntoAsync(target: Uint8Array, options?: AsyncOptions): Promise<MailboxReceipt | null> {
    const op = 'Mailbox.receiveIntoAsync';
    if (!(target instanceof Uint8Array)) throw new TypeError(`${op}: target must be a Uint8Array`);
    return this.#receiveAsync(op, options, (length) => this.#takeInto(target, length, op));
  }

  #receiveAsync<T>(op: string, options: AsyncOptions | undefined, take: (length: number, op: string) => T): Promise<T | null> {
    return receiveInTurn(this.#queue, this.#receiving, op, options, take);
  }

  /**
   * Zero-copy receive: the next message as a view into its sender's lane (waiting like receive; null after
   * timeoutMs), valid until release(), which gives the room back to that sender.
   */
  peek(options?: TimeoutOptions): MailboxMessage | null {
    const op = 'Mailbox.peek';
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    const length = this.#next(op, timeout);
    if (length < 0) return null;
    const lane = this.#lanes.current as Lane;
    this.#peeked = lane;
    this.#peekedLength = length;
    return { data: lane.receiver.view(length), sender: lane.sender, pid: lane.pid };
  }

  /** Frees the message returned by peek(). Its view must not be used afterwards. */
  release(): void {
    const op = 'Mailbox.release';
    this.#site.assertUsable(op);
    const lane = this.#peeked;
    if (lane === undefined) throw sequenceError('ERR_CHANNEL_NOT_PEEKED', `${op}: release() without peek(): there is no message to release`);
    this.#peeked = undefined;
    const length = this.#peekedLength;
    this.#peekedLength = -1;
    lane.receiver.release(length, op);
  }

  /**
   * `for await (const m of mailbox)`: receiveAsync() forever: senders come and go, so it ends only when this end
   * is closed (quietly), when the loop is left (break: the pending receive ends without taking a message), or
   * with an error.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<MailboxMessage> {
    return this.messages();
  }

  /** The async iteration, cancellable: when `signal` aborts, the pending receive ends and the loop throws an AbortError. */
  messages(options?: { signal?: AbortSignal }): AsyncIterableIterator<MailboxMessage> {
    return receiveIterator('Mailbox.messages', options, {
      receive: (signal) => this.receiveAsync({ signal }),
      finished: () => this.closed,
      endsQuietly: (error) => this.closed && (error as { code?: string }).code === 'ERR_CHANNEL_CLOSED',
    });
  }

  /**
   * Closes the receiving end: every sender's next wait or send ends with EPIPE, a pending async receive with
   * ERR_CHANNEL_CLOSED; detaches. Idempotent. The segment disappears when the last sender has gone too.
   */
  close(): void {
    this.#site.close('Mailbox.close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The next message's length (its lane in lanes.current), waiting up to `timeout` ms; -1 then. */
  #next(op: string, timeout: number): number {
    const length = this.#lanes.tryNext(op);
    return length >= 0 ? length : this.#waiter.wait(op, timeout);
  }

  #take(length: number, op: string): MailboxMessage {
    const lane = this.#lanes.current as Lane;
    return { data: lane.receiver.take(length, op), sender: lane.sender, pid: lane.pid };
  }

  #takeInto(target: Uint8Array, length: number, op: string): MailboxReceipt {
    if (length > target.length) throw targetTooSmall(op, length, target.length);
    const lane = this.#lanes.current as Lane;
    lane.receiver.takeInto(target, length, op);
    return { length, sender: lane.sender, pid: lane.pid };
  }

  #ready(op: string, asyncCall: boolean): void {
    this.#site.assertUsable(op);
    if (!asyncCall && this.#queue.pending > 0) throw busyError(op);
    if (this.#peekedLength >= 0) throw peekedError(op);
  }

  /** What util.inspect and console.log show. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    if (this.closed) return `Mailbox { id: ${this.id}, closed }`;
    return `Mailbox { id: ${this.id}, senders: ${this.#lanes.senders('Mailbox.inspect').length}/${this.maxSenders}, capacity: ${this.capacity} }`;
  }
}
