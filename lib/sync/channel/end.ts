// What both ends of a channel are: `Channel`, the base class of Producer and Consumer. It holds the parts both
// share (this end's Header, the peer's Liveness, the SpinPolicy) and the members that mean the same at both ends.
// Channel.create and Channel.open are the entry points; the ends are registered by index.ts (they extend this
// class, so this module cannot import them).
import { checkSpin } from '../../common/arguments.js';
import { RECORD_HEADER } from '../ring-layout.js';
import type { SpinPolicy } from '../spin-policy.js';
import { Header } from './header.js';
import type { Liveness } from './liveness.js';
import type { Producer } from './producer.js';
import type { Consumer } from './consumer.js';

/** Spin iterations before a futex sleep, unless given per channel. */
export const DEFAULT_SPIN = 4000;

export interface ChannelCreateOptions {
  /** Ring size in bytes, rounded up to a power of two (at least 64, at most 2^30). Default 1 MiB. */
  capacity?: number;
  /** Permission bits of the segment (default 0o600: only this user may open it). */
  mode?: number;
  /** Spin iterations before sleeping in the kernel (default 4000); 0 sleeps at once. */
  spin?: number;
}

export interface ChannelOpenOptions {
  /** Spin iterations before sleeping in the kernel (default 4000); 0 sleeps at once. */
  spin?: number;
}

/** What Channel.create and Channel.open hand to a new end: its parts, and the counters as created or validated. */
export interface EndParts {
  readonly header: Header;
  readonly liveness: Liveness;
  readonly policy: SpinPolicy;
  /** The head as created (0) or as validated at open (the producer may have sent before). */
  readonly head: number;
  /** The end's class name in errors ('Producer', 'Consumer' by default; 'MailboxSender'). */
  readonly name?: string;
}

interface Ends {
  create(options: ChannelCreateOptions): Producer;
  open(id: number, options: ChannelOpenOptions): Consumer;
}
let ends: Ends | undefined;

/** @internal Called once by index.ts. */
export function provideEnds(provided: Ends): void {
  ends = provided;
}

function registered(): Ends {
  if (!ends) throw new Error('sysv-shm: import the channel from lib/sync/channel/index.js');
  return ends;
}

/**
 * One end of a single-producer, single-consumer message channel over a shared-memory segment: a `Producer`
 * (from `Channel.create`) or a `Consumer` (from `Channel.open`). Each has only the methods of its end.
 *
 * `Channel.create({ capacity })` makes the segment and returns the producer; hand `producer.id` to the other
 * process, which calls `Channel.open(id)` for the consumer. open() must happen while the producer is still alive:
 * the segment is marked for removal at creation and exists only as long as one end is attached.
 */
export abstract class Channel {
  /** The shmid to hand to the other process. */
  readonly id: number;
  /** Ring size in bytes (a power of two). */
  readonly capacity: number;
  /** Largest message: capacity - 8. */
  readonly maxMessageSize: number;
  readonly #header: Header;
  readonly #policy: SpinPolicy;
  readonly #name: string;

  /** Creates the segment and returns the producer end. */
  static create(options: ChannelCreateOptions = {}): Producer {
    return registered().create(options);
  }

  /** Attaches the channel `id` made by Channel.create in another process (or this one) and returns the consumer end. */
  static open(id: number, options: ChannelOpenOptions = {}): Consumer {
    return registered().open(id, options);
  }

  /** @internal Ends are made by Channel.create and Channel.open only. */
  protected constructor(parts: EndParts, name: string) {
    if (!(parts?.header instanceof Header)) throw new TypeError('use Channel.create() or Channel.open(id)');
    this.#header = parts.header;
    this.#policy = parts.policy;
    this.#name = name;
    this.id = parts.header.id;
    this.capacity = parts.header.capacity;
    this.maxMessageSize = parts.header.capacity - RECORD_HEADER;
  }

  /**
   * Spin iterations before sleeping (0: sleep at once). The end adapts the spin it actually uses (spin-policy.ts):
   * longer while the peer answers soon after a sleep, none while spinning is futile (the peer shares this CPU).
   * Setting it resets what was learnt.
   */
  get spin(): number {
    return this.#policy.base;
  }
  set spin(value: number) {
    this.#policy.base = checkSpin(`${this.#name}.spin`, value, DEFAULT_SPIN);
  }

  /** True once close() was called on this end. */
  get closed(): boolean {
    return this.#header.closed;
  }

  /** The pid of the other end (0 while no consumer has opened the channel). */
  abstract get peerPid(): number;

  /**
   * Closes this end: marks it closed in the header, wakes the peer (its next wait ends with EPIPE once the ring
   * cannot make progress) and any pending async operation of this end (ERR_CHANNEL_CLOSED), and detaches.
   * Idempotent. The segment disappears when the other end closes, exits or dies.
   */
  close(): void {
    this.#header.close(`${this.#name}.close`);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
