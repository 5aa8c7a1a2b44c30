// The subscribing end of a topic (what Topic.subscribe returns): receive, tryReceive, receiveInto, receiveAsync,
// receiveIntoAsync, peek + release, async iteration, lost. The checks of each call are here; joining and waiting
// are the Reader's, the ring its SubscriberRing's.
import { ShmError } from '../../c/index.js';
import type { Header } from '../channel/header.js';
import { AsyncQueue, busyError, checkTimeout, peekedError, sequenceError, type AsyncOptions, type TimeoutOptions } from '../channel/arguments.js';
import { abortError, checkSignal } from '../../common/abort.js';
import { receiveIterator } from '../channel/iteration.js';
import { Reader, type SubscriberParts } from './reader.js';
import { Topic } from './topic.js';

function targetTooSmall(op: string, length: number, room: number): RangeError {
  return new RangeError(`${op}: the next message has ${length} bytes; target has room for ${room} (the message stays in the topic)`);
}

/** Attempts of a call that does not wait, when the publisher keeps overwriting the message being copied ('drop'). */
const TRY_ATTEMPTS = 16;

/**
 * A subscriber of a topic: every message published after Topic.subscribe() returned, in order. Under 'drop', a
 * subscriber that falls a ring behind loses the oldest messages (`lost` counts them) and never receives a message
 * that was overwritten while it copied it. A receive fails with EPIPE only when everything published was read and
 * the publisher closed or died.
 */
export class Subscriber extends Topic {
  readonly #header: Header;
  readonly #reader: Reader;
  readonly #queue = new AsyncQueue();
  /** The length of a peek()ed message not released yet (-1: none). */
  #peekedLength = -1;

  /** @internal Use Topic.subscribe. */
  constructor(parts: SubscriberParts) {
    super(parts.header, parts.policy, parts.drop ? 'drop' : 'block', 'Subscriber');
    this.#header = parts.header;
    this.#reader = new Reader(parts);
  }

  /** The publisher's pid. */
  get peerPid(): number {
    this.#header.assertUsable('Subscriber.peerPid');
    return this.#reader.peerPid('Subscriber.peerPid');
  }

  /** Messages lost to the 'drop' policy since subscribe() (always 0 under 'block'), counted when the next one arrives. */
  get lost(): number {
    return this.#reader.lost;
  }

  /**
   * The next message, copied out. Waits (spin, then futex) while there is none; null after `timeoutMs`. Throws
   * EPIPE when everything was read and the publisher is gone.
   */
  receive(options?: TimeoutOptions): Uint8Array | null {
    const op = 'Subscriber.receive';
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    return this.#receiveSync(op, timeout, (length) => this.#reader.ring!.take(length, op));
  }

  /** The next message if there is one now, else null (never waits). Throws EPIPE when all was read and the publisher closed. */
  tryReceive(): Uint8Array | null {
    const op = 'Subscriber.tryReceive';
    this.#ready(op, false);
    const reader = this.#reader;
    for (let attempt = 0; attempt < TRY_ATTEMPTS; attempt++) {
      let length = reader.tryNext(op);
      if (length < 0 && reader.peerClosed(op)) {
        length = reader.tryNext(op);
        if (length < 0) throw this.#header.peerGone(op, 'the publisher closed the topic and every message was received');
      }
      if (length < 0) return null;
      const message = reader.ring!.take(length, op);
      if (message !== null) return message;
    }
    return null;
  }

  /**
   * Copies the next message into `target` and returns its length (no allocation); null after `timeoutMs`.
   * RangeError, with the message left in the topic, when `target` is too small. Under 'drop' a copy that the
   * publisher overwrote meanwhile is discarded (and counted in `lost`); `target` may then hold its bytes.
   */
  receiveInto(target: Uint8Array, options?: TimeoutOptions): number | null {
    const op = 'Subscriber.receiveInto';
    if (!(target instanceof Uint8Array)) throw new TypeError(`${op}: target must be a Uint8Array`);
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    return this.#receiveSync(op, timeout, (length) => this.#takeInto(target, length, op));
  }

  /** The synchronous receives: wait for a message and take it; under 'drop' again while copies were overwritten. */
  #receiveSync<T>(op: string, timeout: number, take: (length: number) => T | null): T | null {
    const reader = this.#reader;
    const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
    for (;;) {
      const left = deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now());
      const length = reader.next(left, op);
      if (length < 0) return null;
      const taken = take(length);
      if (taken !== null) return taken;
      // 'drop': overwritten while it was copied. Look again, within the timeout: a publisher that keeps lapping this
      // subscriber must not hold a call with a timeout beyond it.
      if (performance.now() >= deadline) return null;
    }
  }

  /** receive() without blocking the event loop (the doorbell); null after `timeoutMs`; `signal` cancels it (AbortError, nothing taken). */
  receiveAsync(options?: AsyncOptions): Promise<Uint8Array | null> {
    return this.#receiveAsync('Subscriber.receiveAsync', options, (length, op) => this.#reader.ring!.take(length, op));
  }

  /** receiveInto() without blocking the event loop; null after `timeoutMs`; `signal` cancels it. */
  async receiveIntoAsync(target: Uint8Array, options?: AsyncOptions): Promise<number | null> {
    const op = 'Subscriber.receiveIntoAsync';
    if (!(target instanceof Uint8Array)) throw new TypeError(`${op}: target must be a Uint8Array`);
    return this.#receiveAsync(op, options, (length) => this.#takeInto(target, length, op));
  }

  /** The async receives: the checks, a message at once if there is one and nothing is queued, else a turn and doorbell waits. */
  async #receiveAsync<T>(op: string, options: AsyncOptions | undefined, take: (length: number, op: string) => T | null): Promise<T | null> {
    const timeout = checkTimeout(op, options);
    const signal = checkSignal(op, options?.signal);
    this.#ready(op, true);
    if (signal?.aborted) throw abortError(op, signal);
    const reader = this.#reader;
    if (this.#queue.pending === 0) {
      const length = reader.tryNext(op);
      if (length >= 0) {
        const taken = take(length, op);
        if (taken !== null) return taken;
      }
    }
    const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
    return this.#queue.run(op, signal, async () => {
      for (;;) {
        this.#ready(op, true);
        const length = await reader.nextAsync(deadline, op, signal);
        this.#header.assertUsable(op); // a close() since the wait settled detached the ring
        if (length < 0) return null;
        const taken = take(length, op);
        if (taken !== null) return taken;
        // 'drop': overwritten while it was copied. A wait that finds a record settles without the event loop, so the
        // next look comes after a turn of it (never a microtask loop), and within the timeout.
        if (performance.now() >= deadline) return null;
        await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw abortError(op, signal);
      }
    });
  }

  /** Copies the checked next message of `length` bytes into `target` (RangeError, message kept, if it has no room); null if overwritten. */
  #takeInto(target: Uint8Array, length: number, op: string): number | null {
    if (length > target.length) throw targetTooSmall(op, length, target.length);
    return this.#reader.ring!.takeInto(target, length, op) ? length : null;
  }

  /**
   * Zero-copy receive: a view of the next message inside the shared ring (waiting like receive; null after
   * `timeoutMs`). Valid until release(). Under 'drop' the publisher may overwrite it meanwhile: release() says
   * whether it stayed intact.
   */
  peek(options?: TimeoutOptions): Uint8Array | null {
    const op = 'Subscriber.peek';
    const timeout = checkTimeout(op, options);
    this.#ready(op, false);
    const length = this.#reader.next(timeout, op);
    if (length < 0) return null;
    this.#peekedLength = length;
    return this.#reader.ring!.view(length);
  }

  /**
   * Moves past the message returned by peek(). Returns true when the view held the message intact until now
   * (always under 'block'); false under 'drop' when the publisher overwrote it meanwhile (it then counts as lost).
   */
  release(): boolean {
    const op = 'Subscriber.release';
    this.#header.assertUsable(op);
    if (this.#peekedLength < 0) throw sequenceError('ERR_CHANNEL_NOT_PEEKED', `${op}: release() without peek(): there is no message to release`);
    const length = this.#peekedLength;
    this.#peekedLength = -1;
    return this.#reader.ring!.release(length, op);
  }

  /**
   * `for await (const message of subscriber)`: receiveAsync() until everything was received and the publisher is
   * gone. Ends quietly when the publisher closed the topic, throws the EPIPE when it died without close().
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this.messages();
  }

  /** The async iteration, cancellable: `for await (const m of subscriber.messages({ signal }))` (AbortError on abort). */
  messages(options?: { signal?: AbortSignal }): AsyncIterableIterator<Uint8Array> {
    return receiveIterator('Subscriber.messages', options, {
      receive: (signal) => this.receiveAsync({ signal }),
      finished: () => false,
      // The flag is read only after the EPIPE (EPROTO if forged): a publisher that closed, then died, closed.
      endsQuietly: (error) => error instanceof ShmError && error.code === 'EPIPE' && this.#reader.peerClosed('Subscriber.receiveAsync'),
    });
  }

  /**
   * Leaves the topic: marks this subscriber's slot closed (the publisher stops counting it and frees the slot),
   * ends this end's pending async calls (ERR_CHANNEL_CLOSED), and detaches. Idempotent.
   */
  close(): void {
    this.#header.close('Subscriber.close');
  }

  /** The checks before a receive: this end usable, no async call pending (sync calls), no peek()ed message. */
  #ready(op: string, asyncCall: boolean): void {
    this.#header.assertUsable(op);
    if (!asyncCall && this.#queue.pending > 0) throw busyError(op);
    if (this.#peekedLength >= 0) throw peekedError(op);
  }
}
