// Synchronous waits that poll: msgsnd and msgrcv have no timed form, so a blocking send or receive with a timeout
// tries with IPC_NOWAIT and sleeps between tries, 0.05 ms doubling up to 10 ms (a blocked caller accepts that much
// latency; about 100 wake-ups a second at most while it waits). Between tries the listeners of a termination signal
// run (lib/native/signals.ts through lib/c), so Ctrl-C and removeOnExit work while the main thread waits here.
import { runPendingTerminationListeners } from '../c/index.js';
import { NOT_YET } from './poller.js';

export const SYNC_MIN_SLEEP_MS = 0.05;
export const SYNC_MAX_SLEEP_MS = 10;

const word = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps `ms` (fractions allowed) on the calling thread. */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(word, 0, 0, ms);
}

/**
 * Tries `attempt` until it gives a result or `timeoutMs` (Infinity: no limit) has passed; then `undefined`.
 * `attempt` throwing ends the wait with that error.
 */
export function pollSync<T>(attempt: () => T | typeof NOT_YET, timeoutMs: number): T | undefined {
  const deadline = performance.now() + timeoutMs;
  let sleep = SYNC_MIN_SLEEP_MS;
  for (;;) {
    const value = attempt();
    if (value !== NOT_YET) return value;
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    runPendingTerminationListeners();
    sleepMs(Math.min(sleep, left));
    sleep = Math.min(sleep * 2, SYNC_MAX_SLEEP_MS);
  }
}
