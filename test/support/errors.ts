import type { ShmError } from '../../lib/index.js';

/** Runs fn, which must throw, and returns what it threw. */
export function catchError(fn: () => unknown): ShmError & Error {
  try {
    fn();
  } catch (error) {
    return error as ShmError & Error;
  }
  throw new Error('expected the call to throw');
}
