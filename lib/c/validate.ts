// Argument checks that run before any syscall: a bad argument is a TypeError or RangeError in the caller's
// terms, never an EINVAL from the kernel (or worse, a silently truncated value).

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
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
  const value = requireInteger('projId', projId, '1..255 or a one-character string like C\'s \'A\'');
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
