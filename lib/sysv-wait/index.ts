// What the semaphore and message-queue layers share: the async poller (no thread per pending wait), synchronous
// polling, cancellation, and how a create or an open names its object.
export { AbortError, abortError, checkSignal } from '../common/abort.js';
export { MAX_POLL_MS, MIN_POLL_MS, NOT_YET, cancelWaits, pollUntil, sysvWaitStats, type PollOptions } from './poller.js';
export { SYNC_MAX_SLEEP_MS, SYNC_MIN_SLEEP_MS, pollSync, sleepMs } from './sync.js';
export { keyOf, resolveTarget, type KeyOptions, type OpenTarget } from './target.js';
