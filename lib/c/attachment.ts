// What shmat returns. An Attachment is the only way JavaScript reaches a segment's memory, and it is built so
// that no misuse can fault: the ArrayBuffer of a writable attachment stays valid memory after detach (see
// address-space.ts), a read-only attachment never hands out an ArrayBuffer at all, and garbage collection
// detaches what nobody holds any more.
import { markAsUntransferable } from 'node:worker_threads';
import koffi from 'koffi';
import { libc } from '../native/libc.js';
import { ShmError, errnoError, usageError } from '../errors.js';
import { checkByteRange } from './validate.js';
import { pin, releaseOwner, unpin, type RegionOwner } from './address-space.js';

/** The mutable facts of one attachment, kept apart from the public object so the GC backstop can use them. */
export class AttachmentState implements RegionOwner {
  detached = false;
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
/** Hidden link from a handed-out ArrayBuffer back to its attachment, so the attachment lives as long as its views. */
const ownerLink = Symbol('sysv-shm attachment of this buffer');

// GC backstop: an attachment whose object (and therefore whose ArrayBuffer) nobody can reach any more is detached,
// and the placeholder a detached one may have left is unmapped.
// Its own pin goes first: the buffer is gone, so a still-attached range can take the plain shmdt path.
const collected = new FinalizationRegistry<AttachmentState>((state) => {
  unpin(state);
  if (!state.detached) {
    state.detached = true;
    releaseOwner(state, () => libc().shmdt(state.address));
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
   * stay harmless after detach: they then read zeros. Absent for read-only attachments: use read().
   */
  get buffer(): ArrayBuffer {
    const state = this.#state;
    if (state.readOnly) {
      throw usageError(
        'ERR_SHM_READ_ONLY',
        'shmat',
        `segment ${state.shmid} is attached read-only (SHM_RDONLY), so it has no writable ArrayBuffer; read it with attachment.read(offset, length) or attach it without SHM_RDONLY`,
        { shmid: state.shmid },
      );
    }
    this.#assertAttached('buffer');
    if (!this.#buffer) {
      const buffer = state.size === 0 ? new ArrayBuffer(0) : koffi.view(state.address, state.size);
      // A transfer to a worker would detach this object while the memory lives on under a new owner we cannot track.
      markAsUntransferable(buffer);
      Object.defineProperty(buffer, ownerLink, { value: this });
      this.#buffer = buffer;
      pin(state);
    }
    return this.#buffer;
  }

  /** A copy of `length` bytes at `offset` (the whole segment by default). Works on read-only attachments too. */
  read(offset = 0, length?: number): Uint8Array {
    const state = this.#state;
    this.#assertAttached('read');
    const range = checkByteRange(offset, length, state.size);
    const copy = new Uint8Array(range.length);
    if (range.length > 0) libc().memcpyFrom(copy, state.address + BigInt(range.offset), range.length);
    return copy;
  }

  /** @internal For shmdt. */
  static stateOf(attachment: Attachment): AttachmentState {
    return attachment.#state;
  }

  #assertAttached(what: string): void {
    const state = this.#state;
    if (state.superseded) {
      throw usageError(
        'ERR_SHM_DETACHED',
        'shmat',
        `attachment.${what}: segment ${state.shmid}'s range was mapped over by shmat(SHM_REMAP); use the new attachment`,
        { shmid: state.shmid },
      );
    }
    if (state.detached) {
      throw usageError(
        'ERR_SHM_DETACHED',
        'shmat',
        `attachment.${what}: segment ${state.shmid} was detached from this process; attach it again with shmat(${state.shmid})`,
        { shmid: state.shmid },
      );
    }
  }
}

/** The attachment whose `buffer` this ArrayBuffer is, or undefined for any other buffer. */
export function attachmentOf(buffer: ArrayBufferLike): Attachment | undefined {
  const owner = (buffer as { [ownerLink]?: unknown })[ownerLink];
  return owner instanceof Attachment ? owner : undefined;
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
    throw usageError('EINVAL', 'shmdt', `segment ${state.shmid} at 0x${state.address.toString(16)} is already detached, shmdt(attachment)`, {
      shmid: state.shmid,
    });
  }
  const failure = releaseOwner(state, () => libc().shmdt(state.address));
  if (failure !== 0) {
    throw errnoError({ syscall: 'shmdt', call: `shmdt(0x${state.address.toString(16)})`, shmid: state.shmid }, failure);
  }
  state.detached = true;
}

export { ShmError };
