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

// System V semaphores and message queues (lib/c/sem*.ts, lib/c/msg*.ts).

export function checkSemid(semid: unknown, name = 'semid'): number {
  const value = requireInteger(name, semid, 'a semaphore set id from semget');
  if (value < 0 || value > INT32_MAX) throw new RangeError(`${name} must be 0..${INT32_MAX}, got ${value}`);
  return value;
}

export function checkMsqid(msqid: unknown, name = 'msqid'): number {
  const value = requireInteger(name, msqid, 'a message queue id from msgget');
  if (value < 0 || value > INT32_MAX) throw new RangeError(`${name} must be 0..${INT32_MAX}, got ${value}`);
  return value;
}

/** An int argument that must not be negative (nsems, semnum): 0..INT32_MAX. */
export function checkNonNegativeInt(value: unknown, name: string, expected: string): number {
  const n = requireInteger(name, value, expected);
  if (n < 0 || n > INT32_MAX) throw new RangeError(`${name} must be 0..${INT32_MAX}, got ${n}`);
  return n;
}

/** SEMVMX: the largest value a semaphore holds (the kernel's constant, the same on every target). */
export const SEMAPHORE_VALUE_MAX = 32767;

/** A semaphore value for SETVAL/SETALL: 0..SEMVMX (the kernel answers ERANGE above). */
export function checkSemaphoreValue(value: unknown, name = 'value'): number {
  const n = requireInteger(name, value, `a semaphore value, 0..${SEMAPHORE_VALUE_MAX}`);
  if (n < 0 || n > SEMAPHORE_VALUE_MAX) {
    throw new RangeError(`${name} must be 0..${SEMAPHORE_VALUE_MAX} (SEMVMX, the largest value a semaphore holds), got ${n}`);
  }
  return n;
}

/** One operation of a semop call, as C's struct sembuf. */
export interface SembufInput {
  sem_num: number;
  sem_op: number;
  sem_flg?: number;
}

/** The array of a semop call is an array, not empty (C's nsops >= 1); its length is checked against SEMOPM by the caller. */
export function checkSembufArray(sops: unknown, name = 'sops'): readonly unknown[] {
  if (!Array.isArray(sops)) {
    throw new TypeError(`${name} must be an array of { sem_num, sem_op, sem_flg? } operations, got ${sops === null ? 'null' : typeof sops} ${describe(sops)}`);
  }
  if (sops.length === 0) throw new RangeError(`${name} must hold at least one operation (semop with nsops 0 is EINVAL)`);
  return sops;
}

/**
 * One operation: sem_num 0..65535 (an unsigned short), sem_op -32768..32767 (a short), sem_flg a short's bits
 * (-32768..65535, 0 when absent). Returns it with sem_flg filled in.
 */
export function checkSembuf(op: unknown, index: number, name = 'sops'): { sem_num: number; sem_op: number; sem_flg: number } {
  const at = `${name}[${index}]`;
  if (typeof op !== 'object' || op === null) {
    throw new TypeError(`${at} must be an object { sem_num, sem_op, sem_flg? }, got ${op === null ? 'null' : typeof op} ${describe(op)}`);
  }
  const { sem_num, sem_op, sem_flg } = op as Partial<SembufInput>;
  const num = requireInteger(`${at}.sem_num`, sem_num, 'the index of a semaphore in the set, 0..65535');
  if (num < 0 || num > 0xffff) throw new RangeError(`${at}.sem_num must be 0..65535 (an unsigned short), got ${num}`);
  const delta = requireInteger(`${at}.sem_op`, sem_op, 'the change to make, -32768..32767; 0 waits for zero');
  if (delta < -0x8000 || delta > 0x7fff) throw new RangeError(`${at}.sem_op must be -32768..32767 (a short), got ${delta}`);
  const flags = sem_flg === undefined ? 0 : requireInteger(`${at}.sem_flg`, sem_flg, 'IPC_NOWAIT and SEM_UNDO ORed together');
  if (flags < -0x8000 || flags > 0xffff) throw new RangeError(`${at}.sem_flg must fit a short (IPC_NOWAIT | SEM_UNDO), got ${flags}`);
  return { sem_num: num, sem_op: delta, sem_flg: flags };
}

/**
 * A message type (mtype, msgtyp): a C long of `longBytes` bytes (4 on 32-bit targets, 8 on 64-bit), given as a
 * safe integer number or a bigint; `positive` for msgsnd's mtype (which must be > 0). Returned as given.
 */
export function checkMessageType(value: unknown, longBytes: number, positive: boolean, name = positive ? 'mtype' : 'msgtyp'): number | bigint {
  const bits = BigInt(8 * longBytes);
  const max = (1n << (bits - 1n)) - 1n;
  const min = positive ? 1n : -(1n << (bits - 1n));
  const range = `${min}..${max} (a ${longBytes * 8}-bit C long${positive ? ', > 0' : ''})`;
  let big: bigint;
  if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer in ${range}, got ${value}`);
    if (!Number.isSafeInteger(value)) throw new RangeError(`${name} ${value} is not exact as a number: pass a bigint (${range})`);
    big = BigInt(value);
  } else {
    throw new TypeError(`${name} must be a number or a bigint in ${range}, got ${typeof value} ${describe(value)}`);
  }
  if (big < min || big > max) {
    throw new RangeError(`${name} must be ${range}, got ${describe(value)}${positive && big <= 0n ? ': message types start at 1' : ''}`);
  }
  return value as number | bigint;
}

/** The largest message text the kernel can ever take (msgmax is an int). */
export const MESSAGE_SIZE_MAX = INT32_MAX;

/** msgrcv's msgsz: the most text bytes to receive, 0..INT_MAX (msgmax, an int, bounds every message). */
export function checkMessageSize(value: unknown, name = 'msgsz'): number {
  const n = requireInteger(name, value, 'the most bytes of text to receive');
  if (n < 0) throw new RangeError(`${name} must not be negative, got ${n}`);
  if (n > MESSAGE_SIZE_MAX) {
    throw new RangeError(`${name} ${n} is larger than any message can be: msgmax is an int, so at most ${MESSAGE_SIZE_MAX} bytes`);
  }
  return n;
}

/** msgsnd's text: a Uint8Array (a Buffer is one) or a string (sent as UTF-8), of at most INT_MAX bytes. */
export function checkMessageText(value: unknown, name = 'mtext'): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === 'string') bytes = new TextEncoder().encode(value);
  else if (value instanceof Uint8Array) bytes = value;
  else throw new TypeError(`${name} must be a Uint8Array or a string, got ${value === null ? 'null' : typeof value} ${describe(value)}`);
  if (bytes.length > MESSAGE_SIZE_MAX) {
    throw new RangeError(`${name} has ${bytes.length} bytes, more than any message can be (msgmax is an int: ${MESSAGE_SIZE_MAX})`);
  }
  return bytes;
}

/** A timeout for semtimedop: null (or Infinity) for none, else ms >= 0; returns Infinity for none. */
export function checkSemTimeoutMs(value: unknown, name = 'timeoutMs'): number {
  if (value === null || value === undefined) return Infinity;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number of milliseconds or null (no limit), got ${typeof value} ${describe(value)}`);
  if (Number.isNaN(value) || value < 0) throw new RangeError(`${name} must be >= 0 (or null for no limit), got ${value}`);
  return value > MAX_TIMEOUT_MS ? Infinity : value;
}
