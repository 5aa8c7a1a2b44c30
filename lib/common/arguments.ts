// Every check of arguments, for every layer: one policy, written in docs/api.md ("Errors"). A value of the wrong
// type is a TypeError, a value out of range a RangeError, both thrown before any syscall; nothing is silently
// truncated (C would pass a truncated value on, or the kernel answer EINVAL).

const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/**
 * The longest finite timeout honoured: 2^31 - 1 seconds (68 years, what a 32-bit time_t can count). A longer one,
 * like Infinity or no timeout at all, means "no limit": the kernel's time arithmetic would otherwise wrap
 * (1e300 used to time out at once, 1e22 to reach the kernel as a negative time).
 */
export const MAX_TIMEOUT_MS = (2 ** 31 - 1) * 1000;

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);
}

function requireInteger(name: string, value: unknown, expected: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number (${expected}), got ${typeof value} ${describe(value)}`);
  }
  if (!Number.isInteger(value)) {
    throw new RangeError(`${name} must be an integer (${expected}), got ${describe(value)}`);
  }
  return value;
}

/** A key_t: accepted signed (as C code holds it) or unsigned (as ipcs prints it); returned as the signed int32. */
export function checkKey(key: unknown, name = 'key'): number {
  const value = requireInteger(name, key, 'a 32-bit key, signed or unsigned');
  if (value < INT32_MIN || value > UINT32_MAX) {
    throw new RangeError(`${name} ${value} does not fit in 32 bits: keys are -2147483648..4294967295`);
  }
  return value | 0;
}

/** A segment size in bytes; the pointer width bounds it on 32-bit targets. */
export function checkSize(size: unknown, maxSize: number, name = 'size'): number {
  const value = requireInteger(name, size, 'bytes, 0 to open an existing segment');
  if (value < 0) throw new RangeError(`${name} must not be negative, got ${value}`);
  if (value > maxSize) throw new RangeError(`${name} ${value} is larger than this platform can address (${maxSize})`);
  return value;
}

export function checkFlags(flags: unknown, name = 'shmflg'): number {
  const value = requireInteger(name, flags, 'flags ORed together');
  if (value < INT32_MIN || value > UINT32_MAX) throw new RangeError(`${name} ${value} does not fit in an int`);
  return value | 0;
}

export function checkShmid(shmid: unknown, name = 'shmid'): number {
  const value = requireInteger(name, shmid, 'a segment id from shmget');
  if (value < 0 || value > INT32_MAX) throw new RangeError(`${name} must be 0..${INT32_MAX}, got ${value}`);
  return value;
}

export function checkUnsigned32(value: unknown, name: string): number {
  const n = requireInteger(name, value, 'an unsigned 32-bit id');
  if (n < 0 || n > UINT32_MAX) throw new RangeError(`${name} must be 0..${UINT32_MAX}, got ${n}`);
  return n;
}

export function checkMode(mode: unknown, name = 'mode'): number {
  const value = requireInteger(name, mode, 'permission bits such as 0o600');
  if (value < 0 || value > 0o777) throw new RangeError(`${name} must be permission bits 0..0o777, got 0o${value.toString(8)}`);
  return value;
}

export function checkPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string') throw new TypeError(`${name} must be a string, got ${typeof path} ${describe(path)}`);
  if (path === '') throw new RangeError(`${name} must not be empty`);
  if (path.includes('\0')) throw new RangeError(`${name} must not contain NUL bytes`);
  return path;
}

/** ftok uses only the low 8 bits of proj_id, and 0 is reserved; reject what C would silently truncate. */
export function checkProjId(projId: unknown): number {
  if (typeof projId === 'string' && projId.length === 1) projId = projId.charCodeAt(0);
  const value = requireInteger('projId', projId, "1..255 or a one-character string like C's 'A'");
  if (value < 1 || value > 255) {
    throw new RangeError(`projId must be 1..255 (ftok keeps only its low 8 bits and 0 is reserved), got ${value}`);
  }
  return value;
}

export function checkAddress(address: unknown, name = 'shmaddr'): bigint | null {
  if (address === undefined || address === null) return null;
  if (typeof address !== 'bigint') throw new TypeError(`${name} must be a bigint address or null, got ${typeof address} ${describe(address)}`);
  if (address < 0n) throw new RangeError(`${name} must not be negative`);
  return address;
}

export function checkByteRange(offset: unknown, length: unknown, size: number): { offset: number; length: number } {
  const start = requireInteger('offset', offset, 'a byte offset into the segment');
  if (start < 0 || start > size) throw new RangeError(`offset ${start} is outside the segment (0..${size})`);
  const count = length === undefined ? size - start : requireInteger('length', length, 'a byte count');
  if (count < 0 || start + count > size) {
    throw new RangeError(`offset ${start} + length ${count} passes the end of the segment (${size} bytes)`);
  }
  return { offset: start, length: count };
}

// Timeouts, spins and counts of the waiting and messaging APIs.

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
