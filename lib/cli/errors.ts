// Errors as the command prints them: one line, no stack trace.
import { ShmError } from '../index.js';

/** An error's message on one line; a ShmError's message already starts with its code. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const text = message.replace(/\s*\n\s*/g, ' ').trim();
  if (error instanceof ShmError || !(error instanceof Error) || error.constructor === Error) return text;
  // TypeError, RangeError, ...: keep the kind, it says what went wrong.
  return `${error.name}: ${text}`;
}
