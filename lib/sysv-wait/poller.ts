// The async waits of semaphore sets and message queues: IPC_NOWAIT tries on the main thread, on a timer that backs
// off, and no thread at all per pending wait (docs/design/semaphores-and-queues.md, section 2).
//
// Why polling: a blocked semop or msgrcv waits on one set or queue and nothing multiplexes them (there is no
// futex_waitv for SysV objects), so a blocking design costs a thread per pending wait (libuv's pool has 4), and an
// abandoned msgrcv on a helper thread would still take the next message. A try with IPC_NOWAIT never blocks: it
// succeeds, or says "would block" (EAGAIN, ENOMSG) and changes nothing.
//
// Coalescing: one poller per kernel object (per semid or msqid, however many SemaphoreSet or MessageQueue objects of
// this process refer to it). Its waiters are kept in groups of identical calls (the same semaphore operations, the
// same receive selection, every send), each in arrival order; a tick tries the head of each group and, when it
// succeeds, the next one, so 1,000 waiters of one kind cost one syscall per tick while nothing happens, and they are
// served first come, first served. A new call tries at once only when its group is empty (otherwise it would pass
// the waiters ahead of it); a call that may not wait (timeout 0, noWait) first has its group tried as a tick does,
// and its own try when the group then is empty.
//
// Backoff: 1 ms after a tick without progress, doubling up to 50 ms; back to 1 ms as soon as a waiter of the object
// got through. The timer exists (and keeps the event loop alive, as a pending fs call does) only while a wait is
// pending. A deadline has a timer of its own, unref'd; at the deadline a waiter at the head of its group gets one
// last try, so a timeout never hides a semaphore that was there to take.
import { DeadlineTimer } from '../common/timers.js';
import { abortError } from '../common/abort.js';

/** The first delay after a tick that made no progress, and the longest one. */
export const MIN_POLL_MS = 1;
export const MAX_POLL_MS = 50;

/** What a try returns when the call would block: nothing happened, try again later. */
export const NOT_YET: unique symbol = Symbol('not yet');

export interface PollOptions<T> {
  /** The API call, for the AbortError. */
  op: string;
  /** Waiters of one group are served in arrival order; only the head is tried. */
  group: string;
  /** One non-blocking try: the result, NOT_YET, or a throw (which rejects the call). */
  attempt: () => T | typeof NOT_YET;
  /** performance.now() time at which the call gives up with `onTimeout`; Infinity for none. */
  deadline: number;
  onTimeout: T;
  signal?: AbortSignal;
  /** The object whose close() ends this wait (cancelWaits). */
  owner: object;
}

interface Waiter {
  group: string;
  attempt: () => unknown;
  owner: object;
  settle: (outcome: { value: unknown } | { error: unknown }) => void;
  cleanUp: () => void;
  timer?: DeadlineTimer;
}

const pollers = new Map<string, ObjectPoller>();

const counters = { ticks: 0, attempts: 0, immediate: 0, settled: 0 };

/** For tests and benchmarks (lib/internal.ts): what the pollers do. */
export function sysvWaitStats(): { objects: number; pending: number; ticks: number; attempts: number; immediate: number; settled: number; delays: number[] } {
  let pending = 0;
  const delays: number[] = [];
  for (const poller of pollers.values()) {
    pending += poller.pending;
    delays.push(poller.delay);
  }
  return { objects: pollers.size, pending, ...counters, delays };
}

class ObjectPoller {
  readonly #object: string;
  readonly groups = new Map<string, Set<Waiter>>();
  pending = 0;
  delay = MIN_POLL_MS;
  #timer: NodeJS.Timeout | undefined;

  constructor(object: string) {
    this.#object = object;
  }

  add(waiter: Waiter): void {
    let group = this.groups.get(waiter.group);
    if (group === undefined) this.groups.set(waiter.group, (group = new Set()));
    group.add(waiter);
    this.pending++;
    this.#schedule();
  }

  isHead(waiter: Waiter): boolean {
    return this.groups.get(waiter.group)?.values().next().value === waiter;
  }

  remove(waiter: Waiter): void {
    const group = this.groups.get(waiter.group);
    if (group === undefined || !group.delete(waiter)) return;
    if (group.size === 0) this.groups.delete(waiter.group);
    this.pending--;
    waiter.cleanUp();
    if (this.pending === 0) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      pollers.delete(this.#object);
    }
  }

  /** One try of `waiter`: true when it settled (and left its group). */
  attempt(waiter: Waiter): boolean {
    counters.attempts++;
    let value: unknown;
    try {
      value = waiter.attempt();
    } catch (error) {
      this.remove(waiter);
      waiter.settle({ error });
      return true;
    }
    if (value === NOT_YET) return false;
    this.remove(waiter);
    waiter.settle({ value });
    return true;
  }

  /** Tries the waiters of a group in arrival order while they get through: true when some did. */
  runGroup(group: Set<Waiter>): boolean {
    let progress = false;
    for (const waiter of group) {
      if (!this.attempt(waiter)) break;
      progress = true;
    }
    return progress;
  }

  #tick(): void {
    this.#timer = undefined;
    counters.ticks++;
    let progress = false;
    for (const group of [...this.groups.values()]) {
      if (this.runGroup(group)) progress = true;
    }
    this.delay = progress ? MIN_POLL_MS : Math.min(this.delay * 2, MAX_POLL_MS);
    this.#schedule();
  }

  #schedule(): void {
    if (this.pending === 0 || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#tick(), this.delay);
  }
}

/**
 * Waits until `attempt` succeeds, the deadline passes (resolves `onTimeout`), the signal aborts (rejects with an
 * AbortError) or `attempt` throws (rejects with that). `object` names the kernel object, e.g. 'sem:5'.
 */
export function pollUntil<T>(object: string, options: PollOptions<T>): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(options.op, signal));
  let poller = pollers.get(object);
  const waiting = poller?.groups.get(options.group);
  if (poller !== undefined && waiting !== undefined && options.deadline <= performance.now()) {
    // No time to wait behind the waiters of its group: serve them first, as a tick would (first come, first
    // served), then, if none is left, this call gets its one try below.
    if (poller.runGroup(waiting)) poller.delay = MIN_POLL_MS;
    if (waiting.size > 0) return Promise.resolve(options.onTimeout);
    poller = pollers.get(object);
  }
  if (poller === undefined || !poller.groups.has(options.group)) {
    // Nobody of this group waits here: one try now.
    counters.immediate++;
    let value: T | typeof NOT_YET;
    try {
      value = options.attempt();
    } catch (error) {
      return Promise.reject(error);
    }
    if (value !== NOT_YET) return Promise.resolve(value);
  }
  if (options.deadline <= performance.now()) return Promise.resolve(options.onTimeout);
  if (poller === undefined) pollers.set(object, (poller = new ObjectPoller(object)));
  const owner = poller;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      owner.remove(waiter);
      reject(abortError(options.op, signal!));
    };
    const waiter: Waiter = {
      group: options.group,
      attempt: options.attempt,
      owner: options.owner,
      settle: (outcome) => {
        counters.settled++;
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.value as T);
      },
      cleanUp: () => {
        waiter.timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    owner.add(waiter);
    if (options.deadline !== Infinity) {
      waiter.timer = new DeadlineTimer(options.deadline, () => {
        // A last try for the head of its group; the others would pass the waiters ahead of them.
        if (owner.isHead(waiter) && owner.attempt(waiter)) return;
        owner.remove(waiter);
        waiter.settle({ value: options.onTimeout });
      });
    }
  });
}

/** Ends the pending waits that `owner` started on `object`, rejecting them with `error` (the owner's close()). */
export function cancelWaits(object: string, owner: object, error: () => Error): void {
  const poller = pollers.get(object);
  if (poller === undefined) return;
  for (const group of [...poller.groups.values()]) {
    for (const waiter of [...group]) {
      if (waiter.owner !== owner) continue;
      poller.remove(waiter);
      waiter.settle({ error: error() });
    }
  }
}
