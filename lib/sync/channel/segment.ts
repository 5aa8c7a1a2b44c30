// What the channel, the mailbox and the topic do alike with their segment: check the options of create (capacity,
// mode) and the id of open, make the segment (IPC_PRIVATE, attached, marked IPC_RMID at once, so that the kernel
// removes it with its last attachment whatever is killed), attach it by id, refuse a header (EPROTO for forged
// words, EPIPE for a gone owner), and name C-layer errors after the API call.
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, IPC_STAT, ShmError, shmat, shmctl, shmdt, shmget, stateError, type Attachment } from '../../c/index.js';
import * as L from '../ring-layout.js';
import { isAlive, validStart } from './liveness.js';

/** A C-layer error raised while `operation` ran: the same error, named after the API call, wrapping the original. */
export function during(operation: string, error: unknown, advice = ''): unknown {
  if (!(error instanceof ShmError) || error.operation === operation) return error;
  return new ShmError(`${error.message}${advice}`, {
    code: error.code,
    errno: error.errno,
    syscall: error.syscall,
    operation,
    cause: error,
    key: error.key,
    shmid: error.shmid,
    path: error.path,
  });
}

/** `options` itself: undefined (no options), or an object (TypeError otherwise). */
export function optionsObject<T extends object>(op: string, options: T | undefined): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${op}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  return options;
}

/** The ring capacity for `options.capacity` (bytes, rounded up to a power of two; `fallback` when absent). */
export function checkCapacity(op: string, requested: unknown, fallback: number): number {
  const value = requested ?? fallback;
  if (typeof value !== 'number') throw new TypeError(`${op}: capacity must be a number of bytes, got ${value === null ? 'null' : typeof value}`);
  if (!Number.isInteger(value) || value < 1 || value > L.MAX_CAPACITY) {
    throw new RangeError(`${op}: capacity must be an integer in [1, ${L.MAX_CAPACITY}], got ${value}`);
  }
  return L.ringCapacity(value);
}

/** `options.mode`: permission bits of the segment, 0o600 when absent. */
export function checkSegmentMode(op: string, mode: unknown): number {
  const value = mode ?? 0o600;
  if (typeof value !== 'number') throw new TypeError(`${op}: mode must be permission bits (a number), got ${value === null ? 'null' : typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > 0o777) throw new RangeError(`${op}: mode must be permission bits (0..0o777), got ${value}`);
  return value;
}

/** A shmid given to open/connect/subscribe. */
export function checkId(op: string, id: unknown): number {
  if (typeof id !== 'number') throw new TypeError(`${op}: id must be a shmid (an integer >= 0), got ${typeof id}`);
  if (!Number.isInteger(id) || id < 0) throw new RangeError(`${op}: id must be a shmid (an integer >= 0), got ${id}`);
  return id;
}

/** A new private segment of `size` bytes, attached, and already marked for removal at its last detach. */
export function createMarkedSegment(op: string, size: number, mode: number, advice = ''): Attachment {
  try {
    const id = shmget(IPC_PRIVATE, size, IPC_CREAT | mode);
    try {
      return shmat(id);
    } finally {
      shmctl(id, IPC_RMID); // from here on the kernel removes the segment with its last attachment, even after SIGKILL
    }
  } catch (error) {
    throw during(op, error, advice);
  }
}

/**
 * Attaches segment `id` made by another end, with its creator's pid as the kernel has it (no process can forge it;
 * 0: the creator is outside this pid namespace). `gone`: what to say when the segment no longer exists.
 */
export function attachById(op: string, id: number, gone: string): { attachment: Attachment; creator: number } {
  let attachment: Attachment;
  try {
    attachment = shmat(id);
  } catch (error) {
    const vanished = error instanceof ShmError && (error.code === 'EINVAL' || error.code === 'EIDRM');
    throw during(op, error, vanished ? `. ${gone}` : '');
  }
  try {
    return { attachment, creator: shmctl(id, IPC_STAT).cpid };
  } catch (error) {
    shmdt(attachment);
    throw during(op, error);
  }
}

export function refused(code: string, op: string, id: number, message: string): ShmError {
  return stateError(code, op, `${op}(${id}): ${message}`, { shmid: id });
}

/** EPROTO for a word of the header that no end writes that way. */
export function forged(op: string, id: number, kind: string, what: string): ShmError {
  return refused('EPROTO', op, id, `${what} (another process wrote into the ${kind}'s header?)`);
}

/** The words naming the end that made a segment, read once by the caller. */
export interface Owner {
  /** 'producer', 'receiver', 'publisher'. */
  readonly role: string;
  readonly pid: number;
  readonly start: number;
  readonly closed: number;
}

/**
 * Checks the owner's words of a header: a pid, a start time, the kernel's creator, a closed flag of 0 or 1; then
 * EPIPE when the owner closed or is gone.
 */
export function checkOwner(op: string, id: number, kind: string, creator: number, owner: Owner): void {
  const { role, pid, start, closed } = owner;
  if (pid <= 0) throw forged(op, id, kind, `the header's ${role} pid is ${pid}`);
  if (!validStart(start)) throw forged(op, id, kind, `the header's ${role} start time is ${start}`);
  if (creator !== 0 && creator !== pid)
    throw forged(op, id, kind, `the header names pid ${pid} as the ${role}, but segment ${id} was created by pid ${creator}`);
  if (closed !== 0 && closed !== 1) throw forged(op, id, kind, `the header's ${role}-closed flag is ${closed} (0 or 1)`);
  if (closed === 1) throw refused('EPIPE', op, id, `the ${role} has already closed this ${kind}`);
  if (!isAlive(pid, start)) throw refused('EPIPE', op, id, `the ${role} (pid ${pid}) exited without closing the ${kind}`);
}

/** Checks a header's magic and version (read once by the caller). */
export function checkMagic(op: string, id: number, kind: string, magic: number, expected: number, version: number, speaks: number): void {
  if (magic !== (expected | 0)) {
    throw refused('EPROTO', op, id, `segment ${id} is not a ${kind} (magic 0x${(magic >>> 0).toString(16)}, expected 0x${expected.toString(16)})`);
  }
  if (version !== speaks) throw refused('EPROTO', op, id, `segment ${id} holds ${kind} format version ${version}; this library speaks version ${speaks} only`);
}

/** Checks a ring capacity read from a header: a power of two in [MIN_CAPACITY, MAX_CAPACITY]. */
export function checkRingCapacity(op: string, id: number, kind: string, capacity: number, what = 'capacity'): void {
  if (capacity < L.MIN_CAPACITY || capacity > L.MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw forged(op, id, kind, `the header's ${what} is ${capacity}, not a power of two in [${L.MIN_CAPACITY}, ${L.MAX_CAPACITY}]`);
  }
}
