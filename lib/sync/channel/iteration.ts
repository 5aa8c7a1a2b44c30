// The async iteration of a receiving end (a channel's consumer, a mailbox, a topic's subscriber): receive until the
// end says the stream is over, cancellable with a signal, and ended by return() (break, Readable.from's destroy)
// without taking a message: the pending receive is aborted.
import { checkSignal } from '../../common/abort.js';

export interface IterationSource<T> {
  /** One receive; null after a timeout (never given: the iteration waits without one). */
  receive(signal: AbortSignal): Promise<T | null>;
  /** Whether the iteration ends before receiving again (the end closed, say). */
  finished(): boolean;
  /** Whether `error` from receive() ends the iteration quietly (the producer closed) rather than being thrown. */
  endsQuietly(error: unknown): boolean;
}

export function receiveIterator<T>(op: string, options: { signal?: AbortSignal } | undefined, source: IterationSource<T>): AsyncIterableIterator<T> {
  const outer = checkSignal(op, options?.signal);
  // Ends a pending receive when the iteration is left early (return()).
  const stop = new AbortController();
  const signal = outer === undefined ? stop.signal : AbortSignal.any([outer, stop.signal]);
  let finished = false;
  const next = async (): Promise<IteratorResult<T, undefined>> => {
    for (;;) {
      if (finished || source.finished()) return { value: undefined, done: true };
      let message: T | null;
      try {
        message = await source.receive(signal);
      } catch (error) {
        finished = true;
        if (stop.signal.aborted || source.endsQuietly(error)) continue;
        throw error;
      }
      if (message !== null) return { value: message, done: false };
    }
  };
  const iterator: AsyncIterableIterator<T> = {
    next,
    return: async () => {
      finished = true;
      stop.abort();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
