// What shmat returns. An Attachment is the only way JavaScript reaches a segment's memory, and it is built so
// that no misuse can fault: the ArrayBuffer of a writable attachment stays valid memory after detach (see
// address-space.ts), a read-only attachment never hands out an ArrayBuffer at all, and garbage collection
// detaches what nobody holds any more.
import { constants as bufferConstants } from 'node:buffer';
import * as workerThreads from 'node:worker_threads';
import { libc } from '../native/libc.js';
import { koffi } from '../native/koffi.js';
import { ShmError, errnoError, stateError } from './errors.js';
import { checkByteRange } from '../common/arguments.js';
import { pin, releaseOwner, unpin, type RegionOwner } from './address-space.js';
import { forgetSlot, markTainted, type Slot } from './threads.js';

/** The mutable facts of one attachment, kept apart from the public object so the GC backstop can use them. */
export class AttachmentState implements RegionOwner {
  detached = false;
  /** Its entry in the table of every thread's attachments (threads.ts), or -1. */
  slot: Slot = -1;
  /** Part of the range was mapped over by shmat(SHM_REMAP): the memory is no longer this attachment's. */
  superseded = false;
  constructor(
    readonly shmid: number,
    readonly address: bigint,
    readonly size: number,
    readonly readOnly: boolean,
    /** End of the page-rounded mapping. */
    readonly end: bigint,
  ) {}
}

const constructionToken = Symbol('sysv-shm attachment');
/** The largest ArrayBuffer this Node makes: 2^32 on Node 20 (koffi aborts the process beyond it), 2^53 - 1 later. */
const MAX_LENGTH = bufferConstants.MAX_LENGTH;
/** Hidden link from a handed-out ArrayBuffer back to its attachment (a BufferOwner), so the attachment lives as long as its views. */
const ownerLink = Symbol('sysv-shm attachment of this buffer');

// GC backstop: an attachment whose object (and therefore whose ArrayBuffer) nobody can reach any more is detached,
// and the placeholder a detached one may have left becomes free for reuse.
// Its own pin goes first, so that the placeholder left by this detach is free at once.
const collected = new FinalizationRegistry<AttachmentState>((state) => {
  unpin(state);
  if (!state.detached) {
    state.detached = true;
    releaseOwner(state, () => libc().shmdt(state.address));
    forgetSlot(state.slot);
  }
});

export class Attachment {
  // The state must not reach the buffer: it is the finalization registry's held value, and the buffer links back
  // to this object, so a strong path from the state would keep both alive forever.
  readonly #state: AttachmentState;
  #buffer: ArrayBuffer | undefined;

  /** @internal Made by shmat only. */
  constructor(token: symbol, state: AttachmentState) {
    if (token !== constructionToken) throw new TypeError('Attachment objects are made by shmat(); do not construct them');
    this.#state = state;
    collected.register(this, state);
  }

  /** The segment id this attachment maps. */
  get shmid(): number {
    return this.#state.shmid;
  }
  /** Where the segment is mapped in this process. */
  get address(): bigint {
    return this.#state.address;
  }
  /** The segment's real size (shm_segsz), whatever size was passed to shmget. */
  get size(): number {
    return this.#state.size;
  }
  get readOnly(): boolean {
    return this.#state.readOnly;
  }
  get detached(): boolean {
    return this.#state.detached;
  }

  /**
   * The whole segment as an ArrayBuffer, zero copy (one per attachment, made on first use). Views made from it
   * stay harmless after detach: they then read zeros. Absent for read-only attachments: use read(). A segment
   * larger than the largest ArrayBuffer this Node makes (buffer.constants.MAX_LENGTH: 4 GiB on Node 20, less on
   * 32-bit CPUs) has no whole buffer: a RangeError says to use window() or read().
   */
  get buffer(): ArrayBuffer {
    this.#assertWritable('buffer');
    const state = this.#state;
    if (state.size > MAX_LENGTH) {
      throw new RangeError(
        `segment ${state.shmid} has ${state.size} bytes, more than the largest ArrayBuffer Node ${process.version} makes (${MAX_LENGTH} bytes): ` +
          'use attachment.window(offset, length) for a part of it (or view(type, offset, length) on a SegmentAttachment), or read(offset, length)',
      );
    }
    return (this.#buffer ??= this.#external(0, state.size));
  }

  /**
   * An ArrayBuffer over `length` bytes at `offset` of the segment, zero copy, harmless after detach like buffer:
   * for a part of a segment too large for one ArrayBuffer. Each call makes a new one.
   */
  window(offset: number, length: number): ArrayBuffer {
    this.#assertWritable('window');
    const range = checkByteRange(offset, length, this.#state.size);
    if (range.length > MAX_LENGTH) {
      throw new RangeError(`window: ${range.length} bytes is more than the largest ArrayBuffer Node ${process.version} makes (${MAX_LENGTH} bytes)`);
    }
    return this.#external(range.offset, range.length);
  }

  /** A copy of `length` bytes at `offset` (the whole segment by default). Works on read-only attachments too. */
  read(offset = 0, length?: number): Uint8Array {
    const state = this.#state;
    this.#assertAttached('read');
    const range = checkByteRange(offset, length, state.size);
    if (range.length > MAX_LENGTH) {
      throw new RangeError(
        `read: ${range.length} bytes is more than the largest Uint8Array Node ${process.version} makes (${MAX_LENGTH} bytes): read it in parts`,
      );
    }
    const copy = new Uint8Array(range.length);
    if (range.length > 0) libc().memcpyFrom(copy, state.address + BigInt(range.offset), range.length);
    return copy;
  }

  /**
   * Copies bytes of the segment at `offset` into `target` (as many as it holds; fewer at the end of the segment)
   * and returns how many: read() without allocating. Works on read-only attachments too.
   */
  readInto(target: Uint8Array, offset = 0): number {
    const state = this.#state;
    if (!(target instanceof Uint8Array)) throw new TypeError('readInto: target must be a Uint8Array');
    this.#assertAttached('readInto');
    const range = checkByteRange(offset, Math.min(target.length, state.size - Math.min(offset, state.size)), state.size);
    if (range.length > 0) libc().memcpyFrom(target.subarray(0, range.length), state.address + BigInt(range.offset), range.length);
    return range.length;
  }

  /** An external ArrayBuffer over [offset, offset + length), linked to this attachment and never unmapped. */
  #external(offset: number, length: number): ArrayBuffer {
    const state = this.#state;
    const buffer = length === 0 ? new ArrayBuffer(0) : koffi().view(state.address + BigInt(offset), length);
    keepInPlace(buffer);
    const owner: BufferOwner = { attachment: this, offset };
    Object.defineProperty(buffer, ownerLink, { value: owner });
    pin(state);
    markTainted(state.slot);
    return buffer;
  }

  #assertWritable(what: string): void {
    const state = this.#state;
    if (state.readOnly) {
      throw stateError(
        'ERR_SHM_READ_ONLY',
        `Attachment.${what}`,
        `segment ${state.shmid} is attached read-only (SHM_RDONLY), so it has no writable ArrayBuffer; read it with attachment.read(offset, length) or attach it without SHM_RDONLY`,
        { shmid: state.shmid },
      );
    }
    this.#assertAttached(what);
  }

  /** @internal For shmdt. */
  static stateOf(attachment: Attachment): AttachmentState {
    return attachment.#state;
  }

  #assertAttached(what: string): void {
    const state = this.#state;
    if (state.superseded) {
      throw stateError(
        'ERR_SHM_DETACHED',
        `Attachment.${what}`,
        `attachment.${what}: segment ${state.shmid}'s range was mapped over by shmat(SHM_REMAP); use the new attachment`,
        { shmid: state.shmid },
      );
    }
    if (state.detached) {
      throw stateError(
        'ERR_SHM_DETACHED',
        `Attachment.${what}`,
        `attachment.${what}: segment ${state.shmid} was detached from this process; attach it again with shmat(${state.shmid})`,
        { shmid: state.shmid },
      );
    }
  }
}

// Node >= 21 marks every external ArrayBuffer (what koffi.view makes) untransferable by itself, so postMessage
// and structuredClone refuse to move it (DataCloneError). Node 20 does not: mark it here, which makes Node 20 copy
// instead. Never call markAsUntransferable on newer Node: from Node 24 it also sets a V8 detach key, and Node's
// own cleanup of external buffers at exit (CallbackInfo::Clean) then fails to detach the buffer and aborts the
// process with "FATAL ERROR: v8::FromJust Maybe value is Nothing".
const nodeMarksExternalBuffers = typeof (workerThreads as { isMarkedAsUntransferable?: unknown }).isMarkedAsUntransferable === 'function';

function refuseTransfer(): never {
  throw new TypeError(
    "a segment's ArrayBuffer cannot be transferred: its memory is the attachment's, and detach() decides when it goes. Copy it with buffer.slice(), or share the segment id and attach it there",
  );
}

/** Keeps the memory under this ArrayBuffer from moving to another owner. */
function keepInPlace(buffer: ArrayBuffer): void {
  if (!nodeMarksExternalBuffers) workerThreads.markAsUntransferable(buffer);
  // ArrayBuffer.prototype.transfer() (Node >= 21) would hand the same memory to a new ArrayBuffer that this
  // library cannot track. Refuse the plain method calls; what still gets through (the method called on the
  // prototype, a web stream's BYOB read) is safe anyway, because this range is never unmapped (address-space.ts).
  for (const name of ['transfer', 'transferToFixedLength']) {
    if (name in buffer) Object.defineProperty(buffer, name, { value: refuseTransfer, configurable: false, writable: false, enumerable: false });
  }
}

/** Which attachment an ArrayBuffer of ours belongs to, and where in the segment it starts. */
export interface BufferOwner {
  attachment: Attachment;
  /** Byte offset in the segment of the buffer's first byte (0 for attachment.buffer). */
  offset: number;
}

/** The attachment whose `buffer` (or a window of it) this ArrayBuffer is, or undefined for any other buffer. */
export function attachmentOf(buffer: ArrayBufferLike): BufferOwner | undefined {
  const owner = (buffer as { [ownerLink]?: unknown })[ownerLink] as BufferOwner | undefined;
  return owner && owner.attachment instanceof Attachment ? owner : undefined;
}

export function newAttachment(state: AttachmentState): Attachment {
  return new Attachment(constructionToken, state);
}

/** Detaches: plain shmdt when nothing can reach the memory, else a placeholder over the range. */
export function detach(attachment: unknown): void {
  if (!(attachment instanceof Attachment)) {
    throw new TypeError(`shmdt expects an Attachment returned by shmat(), got ${attachment === null ? 'null' : typeof attachment}`);
  }
  const state = Attachment.stateOf(attachment);
  if (state.detached) {
    throw stateError('EINVAL', 'shmdt', `segment ${state.shmid} at 0x${state.address.toString(16)} is already detached, shmdt(attachment)`, {
      shmid: state.shmid,
    });
  }
  const failure = releaseOwner(state, () => libc().shmdt(state.address));
  if (failure !== 0) {
    throw errnoError({ syscall: 'shmdt', call: `shmdt(0x${state.address.toString(16)})`, shmid: state.shmid }, failure);
  }
  state.detached = true;
  forgetSlot(state.slot);
}

export { ShmError };
