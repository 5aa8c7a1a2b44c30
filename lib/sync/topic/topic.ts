// What both kinds of end are: `Topic`, the base class of Publisher and Subscriber, with the members that mean the
// same for both. Topic.create and Topic.subscribe are the entry points; the ends are registered by index.ts (they
// extend this class, so this module cannot import them).
import { checkSpin } from '../../common/arguments.js';
import { DEFAULT_SPIN } from '../channel/end.js';
import { Header } from '../channel/header.js';
import { RECORD_HEADER } from '../ring-layout.js';
import type { SpinPolicy } from '../spin-policy.js';
import type { TopicCreateOptions, TopicPolicy, TopicSubscribeOptions } from './open.js';
import type { Publisher } from './publisher.js';
import type { Subscriber } from './subscriber.js';

interface Ends {
  create(options: TopicCreateOptions | undefined): Publisher;
  subscribe(id: number, options: TopicSubscribeOptions | undefined): Subscriber;
}
let ends: Ends | undefined;

/** @internal Called once by index.ts. */
export function provideTopicEnds(provided: Ends): void {
  ends = provided;
}

function registered(): Ends {
  if (!ends) throw new Error('sysv-shm: import the topic from lib/sync/topic/index.js');
  return ends;
}

/**
 * One end of a topic: one publisher, many subscribers, over one shared-memory segment holding one ring that every
 * subscriber reads in place. A `Publisher` (from `Topic.create`) or a `Subscriber` (from `Topic.subscribe`).
 *
 * `Topic.create({ capacity, subscribers, policy })` makes the segment and returns the publisher; hand
 * `publisher.id` to other processes, which call `Topic.subscribe(id)`. A subscriber receives every message
 * published after subscribe() returned, in order. subscribe() must happen while the publisher is alive.
 */
export abstract class Topic {
  /** The shmid to hand to the subscribers. */
  readonly id: number;
  /** Ring size in bytes (a power of two). */
  readonly capacity: number;
  /** Largest message: capacity - 8. */
  readonly maxMessageSize: number;
  /** What a slow subscriber costs: 'block' (the publisher waits) or 'drop' (the subscriber loses messages). */
  readonly policy: TopicPolicy;
  readonly #header: Header;
  readonly #policy: SpinPolicy;
  readonly #name: string;

  /** Creates the segment and returns the publisher. */
  static create(options?: TopicCreateOptions): Publisher {
    return registered().create(options);
  }

  /** Subscribes to the topic `id` made by Topic.create in another process (or this one). */
  static subscribe(id: number, options?: TopicSubscribeOptions): Subscriber {
    return registered().subscribe(id, options);
  }

  /** @internal Ends are made by Topic.create and Topic.subscribe only. */
  protected constructor(header: Header, spin: SpinPolicy, policy: TopicPolicy, name: 'Publisher' | 'Subscriber') {
    if (!(header instanceof Header)) throw new TypeError('use Topic.create() or Topic.subscribe(id)');
    this.#header = header;
    this.#policy = spin;
    this.#name = name;
    this.id = header.id;
    this.capacity = header.capacity;
    this.maxMessageSize = header.capacity - RECORD_HEADER;
    this.policy = policy;
  }

  /** Spin iterations before sleeping (0: sleep at once); adapted as a channel end's is. Setting it resets what was learnt. */
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

  /** Closes this end (see Publisher.close, Subscriber.close). Idempotent. */
  abstract close(): void;

  [Symbol.dispose](): void {
    this.close();
  }
}
