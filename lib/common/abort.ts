// Cancellation of the library's async calls with an AbortSignal, as Node's own APIs do it: an `AbortError`
// (name 'AbortError', code 'ABORT_ERR', cause: the signal's reason), thrown before anything starts when the
// signal is already aborted, or rejected when it aborts while the call waits.

/** An AbortError like the ones of Node's own APIs (fs, timers/promises, events.once). */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** `options.signal`: undefined, or an AbortSignal (TypeError otherwise, before anything happens). */
export function checkSignal(op: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(`${op}: options.signal must be an AbortSignal, got ${signal === null ? 'null' : typeof signal}`);
  }
  return signal;
}

/** The AbortError of an aborted `signal`, for the call `op`. */
export function abortError(op: string, signal: AbortSignal): AbortError {
  return new AbortError(`${op}: the operation was aborted`, { cause: signal.reason });
}
