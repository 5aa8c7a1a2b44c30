// The publishing end of a topic (what Topic.create returns): publish, tryPublish, publishAsync, subscribers. The
// checks of each call are here; the ring is the Writer's, the subscribers the Roster's.
import { stateError, type ShmError } from '../../c/index.js';
import type { Header } from '../channel/header.js';
import { AsyncQueue, asBytes, busyError, checkTimeout, type AsyncOptions, type TimeoutOptions } from '../channel/arguments.js';
import { abortError, checkSignal } from '../../common/abort.js';
import * as L from '../ring-layout.js';
import * as T from './layout.js';
import type { PublisherParts } from './open.js';
import { Roster } from './roster.js';
import { Topic } from './topic.js';
import { Writer } from './writer.js';

type Bytes = Uint8Array | ArrayBufferView | ArrayBuffer;

/** EMSGSIZE: a message that this topic can never hold (the size is legal, this topic's ring is too small). */
function tooLarge(op: string, n: number, max: number, shmid: number): ShmError {
  return stateError(
    'EMSGSIZE',
    op,
    `${op}: a message of ${n} bytes does not fit this topic (at most ${max} bytes, the ring capacity minus an 8-byte record header); ` +
      'nothing was written. Create the topic with a larger capacity, or split the message yourself',
    { shmid },
  );
}

/**
 * The publishing end of a topic. Every message goes into one ring that all subscribers read in place. Messages
 * larger than `maxMessageSize` (capacity - 8) are refused with EMSGSIZE before anything is written. With no
 * subscriber, publishing succeeds and the message goes nowhere.
 */
export class Publisher extends Topic {
  readonly #header: Header;
  readonly #roster: Roster;
  readonly #writer: Writer;
  readonly #drop: boolean;
  readonly #queue = new AsyncQueue();

  /** @internal Use Topic.create. */
  constructor(parts: PublisherParts) {
    super(parts.header, parts.policy, parts.drop ? 'drop' : 'block', 'Publisher');
    this.#header = parts.header;
    this.#drop = parts.drop;
    this.#roster = new Roster(parts.header, parts.attachment, parts.slots, !parts.drop);
    this.#writer = new Writer(parts.header, this.#roster, parts.policy, parts.drop);
  }

  /**
   * The number of live subscribers (joined, or asking to join). Looks at every slot: frees the slots of
   * subscribers that closed or died, and joins the pending ones.
   */
  get subscribers(): number {
    const op = 'Publisher.subscribers';
    this.#header.assertUsable(op);
    return this.#writer.subscribers(op);
  }

  /**
   * Copies `bytes` into the ring as one message for every subscriber. 'block': waits (spin, then futex) while the
   * slowest live subscriber has not read far enough; ETIMEDOUT after `timeoutMs`. 'drop': never waits. EMSGSIZE
   * for a message larger than maxMessageSize (before anything is written).
   */
  publish(bytes: Bytes, options?: TimeoutOptions): void {
    const op = 'Publisher.publish';
    const data = asBytes(op, bytes);
    const timeout = checkTimeout(op, options);
    this.#ready(op, data.length, false);
    const writer = this.#writer;
    const pos = writer.acquire(L.recordSize(data.length), timeout, op);
    writer.write(pos, data);
    writer.publish(op);
  }

  /** Publishes if there is room now; false (nothing written) when the slowest subscriber leaves none ('block'). Never waits. */
  tryPublish(bytes: Bytes): boolean {
    const op = 'Publisher.tryPublish';
    const data = asBytes(op, bytes);
    this.#ready(op, data.length, false);
    const writer = this.#writer;
    const pos = writer.tryAcquire(L.recordSize(data.length), op);
    if (pos < 0) return false;
    writer.write(pos, data);
    writer.publish(op);
    return true;
  }

  /**
   * publish() that waits for room without blocking the event loop: the wait sleeps on this thread's doorbell, which
   * the event loop watches, and checks the subscribers' liveness at the doorbell's watch. Do not modify `bytes`
   * until it resolves. ETIMEDOUT after `timeoutMs`; `signal` cancels it (AbortError, nothing written). Async calls
   * run one after another; synchronous ones are refused (ERR_CHANNEL_BUSY) while any is pending.
   */
  async publishAsync(bytes: Bytes, options?: AsyncOptions): Promise<void> {
    const op = 'Publisher.publishAsync';
    const data = asBytes(op, bytes);
    const timeout = checkTimeout(op, options);
    const signal = checkSignal(op, options?.signal);
    this.#ready(op, data.length, true);
    if (signal?.aborted) throw abortError(op, signal);
    const writer = this.#writer;
    const record = L.recordSize(data.length);
    if (this.#queue.pending === 0) {
      const pos = writer.tryAcquire(record, op);
      if (pos >= 0) {
        writer.write(pos, data);
        writer.publish(op);
        return;
      }
    }
    const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
    await this.#queue.run(op, signal, async () => {
      this.#ready(op, data.length, true);
      const pos = this.#drop ? writer.tryAcquire(record, op) : await writer.acquireAsync(record, deadline, op, signal);
      this.#header.assertUsable(op); // a close() since the wait settled detached the ring
      writer.write(pos, data);
      writer.publish(op);
    });
  }

  /**
   * Closes the publisher: marks the topic closed, wakes every subscriber (each gets EPIPE once it has read what was
   * published), ends this end's pending async calls (ERR_CHANNEL_CLOSED), and detaches. Idempotent. The segment
   * disappears when the last subscriber closes, exits or dies.
   */
  close(): void {
    const op = 'Publisher.close';
    const header = this.#header;
    if (header.closed) return;
    // The flag first, then the wake-ups: a subscriber woken re-checks and finds it.
    Atomics.store(header.i32, T.i32(T.OFF_PUBLISHER_CLOSED), 1);
    this.#roster.wakeEverySlot(op);
    header.close(op);
  }

  /** The checks before a message of `length` bytes: this end usable and free, the message possible. */
  #ready(op: string, length: number, asyncCall: boolean): void {
    this.#header.assertUsable(op);
    if (!asyncCall && this.#queue.pending > 0) throw busyError(op);
    if (length > this.maxMessageSize) throw tooLarge(op, length, this.maxMessageSize, this.id);
  }
}
