// Synchronous waits by polling, for the System V calls that have no timed form (msgsnd, msgrcv): try the call with
// IPC_NOWAIT, for POLL_SPIN_MS without sleeping, then while it would block, sleep with a backoff (0.05 ms doubling
// to 10 ms) and look for a termination signal between sleeps (lib/native/signals.ts), so that Ctrl-C and kill
// still end the process.
// docs/design/semaphores-and-queues.md, section 2, says why polling rather than a blocking call.
import { runPendingTerminationListeners } from '../native/signals.js';

/**
 * How long a wait keeps trying without sleeping, in ms: a peer on another CPU that answers within this time is seen
 * without a sleep and a wake-up, which cost 50-100 µs on a virtual machine (bench/sysv-ipc.ts measures it). Also
 * used by semop before it sleeps in the kernel. Bounded by time, so that it costs at most this much CPU per wait.
 */
export const POLL_SPIN_MS = 0.05;

/** The first sleep of a polled wait, in ms. */
export const POLL_MIN_MS = 0.05;
/** The longest sleep of a polled wait, in ms: the latency a blocked caller accepts (<= 100 wake-ups a second). */
export const POLL_MAX_MS = 10;

// A private word nobody notifies: Atomics.wait on it is a plain sleep (nanosleep) that keeps JavaScript's semantics.
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps this thread for `ms` milliseconds (fractions allowed). */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** What one attempt of a polled wait says: done (with its result) or would block. */
export type Attempt<T> = { done: true; value: T } | { done: false };

/**
 * Repeats `attempt` until it is done or `timeoutMs` has passed (Infinity: no limit), sleeping between attempts
 * with the backoff and running pending termination listeners. `attempt` is called at least once, and once more
 * at the deadline; it throws what must end the wait. Returns the value, or undefined on timeout.
 */
export function pollUntil<T>(attempt: (round: number) => Attempt<T>, timeoutMs: number): { value: T } | undefined {
  const started = performance.now();
  const deadline = timeoutMs === Infinity ? Infinity : started + timeoutMs;
  const spinUntil = started + POLL_SPIN_MS;
  let sleep = POLL_MIN_MS;
  for (let round = 0; ; round++) {
    const outcome = attempt(round);
    if (outcome.done) return { value: outcome.value };
    const now = performance.now();
    const left = deadline - now;
    if (left <= 0) return undefined;
    if (now < spinUntil) continue;
    sleepMs(Math.min(sleep, left));
    sleep = Math.min(sleep * 2, POLL_MAX_MS);
    runPendingTerminationListeners();
  }
}
