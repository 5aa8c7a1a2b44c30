// The consumer end of a channel (what Channel.open returns): receive, tryReceive, receiveInto, receiveAsync,
// peek + release, and async iteration. The checks of each call are here; the ring is the Receiver's.
import { ShmError } from '../../c/index.js';
import type { Header } from './header.js';
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
} from './arguments.js';
import { receiveIterator } from './iteration.js';
import { Channel, type EndParts } from './end.js';
import { Receiver } from './receiver.js';
import type { Readable } from 'node:stream';
import { consumerReadable, type ConsumerReadableOptions } from './streams.js';

function targetTooSmall(op: string, length: number, room: number): RangeError {
  return new RangeError(`${op}: the next message has ${length} bytes; target has room for ${room} (the message stays in the channel)`);
}

/**
 * The receiving end of a channel. Messages already in the ring are always delivered: a receive fails with EPIPE
 * only when the ring is empty and the producer closed or died.
 */
export class Consumer extends Channel {
  readonly #header: Header;
  readonly #receiver: Receiver;
  readonly #queue = new AsyncQueue();
  /** The length of a peek()ed message not released yet (-1: none). */
  #peekedLength = -1;
  /** This end as receiveInTurn sees it. */
  readonly #receiving: ReceivingEnd = {
    ready: (op, asyncCall) => this.#ready(op, asyncCall),
    tryNext: (op) => this.#receiver.tryNext(op),
    nextAsync: (deadline, op, signal) => this.#receiver.nextAsync(deadline, op, signal),
    assertUsable: (op) => this.#header.assertUsable(op),
  };

  /** @internal Use Channel.open. */
  constructor(parts: EndParts) {
    super(parts, 'Consumer');
    this.#header = parts.header;
    this.#receiver = new Receiver(parts.header, parts.liveness, parts.policy, parts.head);
  }

  get peerPid(): number {
    this.#header.assertUsable('Consumer.peerPid');
    return this.#receiver.peerPid('Consumer.peerPid');
  }

  /**
   * The next message, copied out. Waits (spin, then futex) while the ring is empty; null after `timeoutMs`.
   * Throws EPIPE when the ring is empty and the producer is gone.
   */
  receive(options?: TimeoutOptions): Uint8Array | null {
    const op = 'Consumer.receive';
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    const length = this.#receiver.next(timeout, op);
    return length < 0 ? null : this.#receiver.take(length, op);
  }

  /** The next message if there is one now, else null (never waits). Throws EPIPE when empty and the producer closed. */
  tryReceive(): Uint8Array | null {
    const op = 'Consumer.tryReceive';
    this.#ready(op, false);
    const receiver = this.#receiver;
    const length = receiver.tryNext(op);
    if (length >= 0) return receiver.take(length, op);
    if (receiver.peerClosed(op)) {
      const again = receiver.tryNext(op);
      if (again >= 0) return receiver.take(again, op);
      throw this.#header.peerGone(op, 'the producer closed the channel and every message was received');
    }
    return null;
  }

  /**
   * Copies the next message into `target` and returns its length (no allocation); null after `timeoutMs`.
   * RangeError, with the message left in the ring, when `target` is too small.
   */
  receiveInto(target: Uint8Array, options?: TimeoutOptions): number | null {
    const op = 'Consumer.receiveInto';
    if (!(target instanceof Uint8Array)) throw new TypeError(`${op}: target must be a Uint8Array`);
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    const length = this.#receiver.next(timeout, op);
    if (length < 0) return null;
    if (length > target.length) throw targetTooSmall(op, length, target.length);
    this.#receiver.takeInto(target, length, op);
    return length;
  }

  /**
   * receive() that waits without blocking the event loop: the wait sleeps on this thread's doorbell, which the
   * event loop watches (no thread per wait). null after `timeoutMs`; `signal` cancels it (AbortError, no message
   * taken). Async calls of one end run one after another; synchronous ones are refused (ERR_CHANNEL_BUSY) while
   * any is pending.
   */
  receiveAsync(options?: AsyncOptions): Promise<Uint8Array | null> {
    return this.#receiveAsync('Consumer.receiveAsync', options, (length, op) => this.#receiver.take(length, op));
  }

  /**
   * receiveInto() that waits without blocking the event loop: copies the next message into `target` and returns its
   * length (no allocation: for large messages the copy into a reused buffer is what keeps up with the ring); null
   * after `timeoutMs`; `signal` cancels it (AbortError, no message taken). RangeError, with the message left in the
   * ring, when `target` is too small. Async calls of one end run one after another.
   */
  async receiveIntoAsync(target: Uint8Array, options?: AsyncOptions): Promise<number | null> {
    const op = 'Consumer.receiveIntoAsync';
    if (!(target instanceof Uint8Array)) throw new TypeError(`${op}: target must be a Uint8Array`);
    return this.#receiveAsync(op, options, (length) => this.#takeInto(target, length, op));
  }

  async #receiveAsync<T>(op: string, options: AsyncOptions | undefined, take: (length: number, op: string) => T): Promise<T | null> {
    return receiveInTurn(this.#queue, this.#receiving, op, options, take);
  }

  /** Copies the checked next message of `length` bytes into `target` (RangeError, message kept, if it has no room). */
  #takeInto(target: Uint8Array, length: number, op: string): number {
    if (length > target.length) throw targetTooSmall(op, length, target.length);
    this.#receiver.takeInto(target, length, op);
    return length;
  }

  /**
   * Zero-copy receive: a view of the next message inside the ring (waiting like receive; null after timeoutMs).
   * The view stays valid until release(), which frees its room for the producer.
   */
  peek(options?: TimeoutOptions): Uint8Array | null {
    const op = 'Consumer.peek';
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    const length = this.#receiver.next(timeout, op);
    if (length < 0) return null;
    this.#peekedLength = length;
    return this.#receiver.view(length);
  }

  /** Frees the message returned by peek(). Its view must not be used afterwards (the producer reuses the room). */
  release(): void {
    const op = 'Consumer.release';
    this.#header.assertUsable(op);
    if (this.#peekedLength < 0) throw sequenceError('ERR_CHANNEL_NOT_PEEKED', `${op}: release() without peek(): there is no message to release`);
    const length = this.#peekedLength;
    this.#peekedLength = -1;
    this.#receiver.release(length, op);
  }

  /**
   * `for await (const message of consumer)`: receiveAsync() until every message was received and the producer is
   * gone. It ends quietly when the producer closed its end (its closed flag in the header), and throws the EPIPE
   * of receiveAsync when the producer died or exited without close(): a stream cut short is an error. Any other
   * error is thrown too. Leaving the loop early (break, return, or an iterator's return() while a receive is
   * pending, as Readable.from does on destroy) ends the pending receive without taking a message, and does not
   * close the consumer.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this.messages();
  }

  /**
   * The async iteration of the consumer, cancellable: `for await (const m of consumer.messages({ signal }))`. When
   * `signal` aborts, the pending receive ends without taking a message and the loop throws an AbortError.
   */
  messages(options?: { signal?: AbortSignal }): AsyncIterableIterator<Uint8Array> {
    return receiveIterator('Consumer.messages', options, {
      receive: (signal) => this.receiveAsync({ signal }),
      finished: () => false,
      // The flag is read only after the EPIPE (EPROTO if forged): a producer that closed, then died, closed.
      endsQuietly: (error) => error instanceof ShmError && error.code === 'EPIPE' && this.#header.peerClosed('Consumer.receiveAsync'),
    });
  }

  /**
   * A stream.Readable of the messages (object mode: one Uint8Array per message), on the async iteration above: it
   * ends when the producer closed, fails with EPIPE when it died. The stream owns this consumer: it closes it when
   * it ends, fails or is destroyed, which also ends a receive in progress (Readable.from(consumer) cannot be
   * destroyed while it waits for a message). docs/channel.md, "Streams".
   */
  readable(options?: ConsumerReadableOptions): Readable {
    return consumerReadable(this, options);
  }

  /** The checks before a receive: this end usable, no async call pending (sync calls), no peek()ed message. */
  #ready(op: string, asyncCall: boolean): void {
    this.#header.assertUsable(op);
    if (!asyncCall && this.#queue.pending > 0) throw busyError(op);
    if (this.#peekedLength >= 0) throw peekedError(op);
  }
}
