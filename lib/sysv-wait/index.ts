// What the semaphore and message-queue layers share: the async poller (no thread per pending wait), synchronous
// cancellation, and how a create or an open names its object (synchronous polling is the C layer's pollUntil).
export { AbortError, abortError, checkSignal } from '../common/abort.js';
export { MAX_POLL_MS, MIN_POLL_MS, NOT_YET, cancelWaits, pollUntil, sysvWaitStats, type PollOptions } from './poller.js';
export { keyOf, resolveTarget, type KeyOptions, type OpenTarget } from './target.js';
export { checkBoolean, checkOptions, checkPermissions, isCode } from './arguments.js';
