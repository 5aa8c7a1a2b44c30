// Checks of the arguments that every layer above the C one shares: timeouts, spins and counts. One policy,
// written in docs/api.md ("Arguments"): a value of the wrong type is a TypeError, a value out of range a
// RangeError, both thrown before any syscall; nothing is silently truncated.

/**
 * The longest finite timeout honoured: 2^31 - 1 seconds (68 years, what a 32-bit time_t can count). A longer one,
 * like Infinity or no timeout at all, means "no limit": the kernel's time arithmetic would otherwise wrap
 * (1e300 used to time out at once, 1e22 to reach the kernel as a negative time).
 */
export const MAX_TIMEOUT_MS = (2 ** 31 - 1) * 1000;

export const INT32_MAX = 2 ** 31 - 1;

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);
}

/**
 * A timeout in milliseconds: undefined (the default, `fallback`: no limit unless given), a number >= 0, or
 * Infinity. Returns Infinity for "no limit", else a finite number of ms <= MAX_TIMEOUT_MS.
 */
export function checkTimeoutMs(fn: string, value: unknown, fallback = Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${fn}: timeoutMs must be a number of milliseconds (or Infinity), got ${typeof value} ${describe(value)}`);
  if (Number.isNaN(value) || value < 0) throw new RangeError(`${fn}: timeoutMs must be >= 0 (or Infinity for no limit), got ${value}`);
  return value > MAX_TIMEOUT_MS ? Infinity : value;
}

/** An integer count or number of iterations >= `min` (and <= `max`). */
export function checkInteger(fn: string, name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw new TypeError(`${fn}: ${name} must be an integer, got ${typeof value} ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${fn}: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/** How many spin iterations to make before sleeping: an integer >= 0, or the default when undefined. */
export function checkSpin(fn: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : checkInteger(fn, 'spin', value);
}
