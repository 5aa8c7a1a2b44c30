// The producer end of a channel (what Channel.create returns): send, trySend, sendAsync, reserve + commit,
// available. The checks of each call are here; the ring is the Sender's.
import * as L from '../ring-layout.js';
import type { Header } from './header.js';
import {
  AsyncQueue,
  asBytes,
  busyError,
  checkLength,
  checkTimeout,
  reservedError,
  sequenceError,
  tooLarge,
  type AsyncOptions,
  type TimeoutOptions,
} from './arguments.js';
import { abortError, checkSignal } from '../../common/abort.js';
import { Channel, type EndParts } from './end.js';
import { Sender } from './sender.js';
import type { Writable } from 'node:stream';
import { producerWritable, type ProducerWritableOptions } from './streams.js';

type Bytes = Uint8Array | ArrayBufferView | ArrayBuffer;

const CALLS = ['peerPid', 'available', 'send', 'trySend', 'sendAsync', 'reserve', 'commit'] as const;

/**
 * The sending end of a channel. Messages larger than `maxMessageSize` (capacity - 8) are refused with EMSGSIZE
 * before anything is written; they are not split. A send whose consumer has gone (closed, exited, killed) fails
 * with EPIPE.
 */
export class Producer extends Channel {
  readonly #header: Header;
  readonly #sender: Sender;
  readonly #queue = new AsyncQueue();
  /** The ring offset and length of a reserve()d record not committed yet (-1: none). */
  #reservedPos = -1;
  #reservedLength = 0;
  /** The names of this end's calls in errors: 'Producer.send', or a mailbox sender's 'MailboxSender.send'. */
  readonly #ops: Record<(typeof CALLS)[number], string>;

  /** @internal Use Channel.create (or Mailbox.connect, whose senders are producers of their lanes). */
  constructor(parts: EndParts) {
    const name = parts.name ?? 'Producer';
    super(parts, name);
    this.#ops = Object.fromEntries(CALLS.map((call) => [call, `${name}.${call}`])) as Record<(typeof CALLS)[number], string>;
    this.#header = parts.header;
    this.#sender = new Sender(parts.header, parts.liveness, parts.policy, parts.head);
  }

  get peerPid(): number {
    this.#header.assertUsable(this.#ops.peerPid);
    return this.#sender.peerPid(this.#ops.peerPid);
  }

  /**
   * The largest message that can be sent right now without waiting, or -1 when not even an empty one fits (free
   * space is counted with the wrap padding a record at the end of the ring would need).
   */
  get available(): number {
    this.#header.assertUsable(this.#ops.available);
    return this.#sender.available(this.#ops.available);
  }

  /**
   * Copies `bytes` into the ring as one message. Waits (spin, then futex) while the ring is full; throws
   * ETIMEDOUT after `timeoutMs`, EPIPE when the consumer is gone, EMSGSIZE for a message larger than
   * maxMessageSize (before anything is written).
   */
  send(bytes: Bytes, options?: TimeoutOptions): void {
    const op = this.#ops.send;
    const data = asBytes(op, bytes);
    const timeout = checkTimeout(op, options);
    this.#ready(op, data.length, false);
    const sender = this.#sender;
    const pos = sender.acquire(L.recordSize(data.length), timeout, op);
    sender.write(pos, data);
    sender.publish(op);
  }

  /** Sends if there is room now; false (nothing written) when the ring is full. Never waits. */
  trySend(bytes: Bytes): boolean {
    const op = this.#ops.trySend;
    const data = asBytes(op, bytes);
    this.#ready(op, data.length, false);
    const sender = this.#sender;
    const pos = sender.tryAcquire(L.recordSize(data.length), op);
    if (pos < 0) return false;
    sender.write(pos, data);
    sender.publish(op);
    return true;
  }

  /**
   * send() that waits for room without blocking the event loop: the wait sleeps on this thread's doorbell, which
   * the event loop watches (no thread per wait). Do not modify `bytes` until it resolves. ETIMEDOUT after
   * `timeoutMs`; `signal` cancels it (AbortError, nothing written). Async calls of one end run one after another;
   * synchronous ones are refused (ERR_CHANNEL_BUSY) while any is pending.
   */
  async sendAsync(bytes: Bytes, options?: AsyncOptions): Promise<void> {
    const op = this.#ops.sendAsync;
    const data = asBytes(op, bytes);
    const timeout = checkTimeout(op, options);
    const signal = checkSignal(op, options?.signal);
    this.#ready(op, data.length, true);
    if (signal?.aborted) throw abortError(op, signal);
    const sender = this.#sender;
    const record = L.recordSize(data.length);
    if (this.#queue.pending === 0) {
      const pos = sender.tryAcquire(record, op);
      if (pos >= 0) {
        sender.write(pos, data);
        sender.publish(op);
        return;
      }
    }
    const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
    await this.#queue.run(op, signal, async () => {
      this.#ready(op, data.length, true);
      const pos = await sender.acquireAsync(record, deadline, op, signal);
      this.#header.assertUsable(op); // a close() since the wait settled detached the ring
      sender.write(pos, data);
      sender.publish(op);
    });
  }

  /**
   * Zero-copy send: a writable view of `length` bytes inside the ring (waiting for room like send). Fill it, then
   * commit() to publish it; until then the consumer sees nothing. EMSGSIZE for length > maxMessageSize.
   */
  reserve(length: number, options?: TimeoutOptions): Uint8Array {
    const op = this.#ops.reserve;
    const n = checkLength(op, length);
    const timeout = checkTimeout(op, options);
    this.#ready(op, n, false);
    const pos = this.#sender.acquire(L.recordSize(n), timeout, op);
    this.#reservedPos = pos;
    this.#reservedLength = n;
    return this.#sender.view(pos, n);
  }

  /** Publishes the reserved view as a message of `length` bytes (default: all that was reserved). */
  commit(length?: number): void {
    const op = this.#ops.commit;
    this.#header.assertUsable(op);
    if (this.#reservedPos < 0) {
      throw sequenceError(
        'ERR_CHANNEL_NO_RESERVATION',
        `${op}: commit() without reserve(): call reserve(length) first, write into the view it returns, then commit()`,
      );
    }
    const n = length === undefined ? this.#reservedLength : checkLength(op, length);
    if (n > this.#reservedLength) throw new RangeError(`${op}: length must be at most ${this.#reservedLength} (the reserved size), got ${n}`);
    const pos = this.#reservedPos;
    this.#reservedPos = -1;
    this.#sender.commit(pos, n);
    this.#sender.publish(op);
  }

  /**
   * A stream.Writable over this producer (docs/channel.md, "Streams"): each chunk goes on with sendAsync when the
   * ring has room (write() returns false meanwhile, 'drain' follows), so `stream.pipeline(source, producer.writable())`
   * never blocks the event loop. A byte stream: chunks larger than `messageSize` are split; `{ objectMode: true }`
   * sends one message per chunk and refuses larger ones (EMSGSIZE). Finishing, failing or destroying the stream
   * closes the producer unless `{ close: false }`. Errors (EPIPE when the consumer is gone) are stream errors.
   */
  writable(options?: ProducerWritableOptions): Writable {
    return producerWritable(this, options);
  }

  /** The checks before a message of `length` bytes: this end usable and free, the message possible, the consumer there. */
  #ready(op: string, length: number, asyncCall: boolean): void {
    this.#header.assertUsable(op);
    if (!asyncCall && this.#queue.pending > 0) throw busyError(op);
    if (this.#reservedPos >= 0) throw reservedError(op);
    if (length > this.maxMessageSize) throw tooLarge(op, length, this.maxMessageSize, this.id, this.#header.kind);
    this.#sender.assertPeerOpen(op);
  }
}
