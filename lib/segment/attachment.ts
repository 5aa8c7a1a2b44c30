// Friendly attachments: zero-copy views of a writable attachment, copying reads for a read-only one.
// Both wrap the C-shaped Attachment, which keeps every view harmless after detach.
import { constants as bufferConstants } from 'node:buffer';
import { inspect } from 'node:util';
import { type Attachment, shmdt } from '../c/index.js';
import { checkByteRange } from '../common/arguments.js';
import { checkInteger } from '../common/arguments.js';

/** The largest ArrayBuffer this Node makes; larger segments are reached through windows. */
const MAX_LENGTH = bufferConstants.MAX_LENGTH;

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface TypedArrayConstructor<T extends TypedArray> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** What both kinds of attachment can do: copying reads, detach, dispose. */
abstract class AttachmentBase {
  protected readonly raw: Attachment;

  constructor(raw: Attachment) {
    this.raw = raw;
  }

  /** The segment id. */
  get id(): number {
    return this.raw.shmid;
  }
  /** The segment's size in bytes. */
  get size(): number {
    return this.raw.size;
  }
  /** Where the segment is mapped in this process. */
  get address(): bigint {
    return this.raw.address;
  }
  get detached(): boolean {
    return this.raw.detached;
  }
  abstract get readOnly(): boolean;

  /** A copy of `length` bytes at `offset` (to the end by default). */
  read(offset = 0, length?: number): Uint8Array {
    return this.raw.read(offset, length);
  }

  /** Copies bytes at `offset` into `target` (as many as fit; fewer at the end) and returns how many: no allocation. */
  readInto(target: Uint8Array, offset = 0): number {
    return this.raw.readInto(target, offset);
  }

  /**
   * Decodes a string at `offset`. Without `length` it reads up to the first NUL byte (C strings), or to the
   * end of the segment.
   */
  readString(offset = 0, length?: number, encoding: BufferEncoding = 'utf8'): string {
    const bytes = this.bytesForReading(offset, length);
    const end = length === undefined ? indexOfNul(bytes) : bytes.length;
    return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString(encoding);
  }

  /** Detaches; views taken earlier stay harmless (they read zeros). Detaching again does nothing, like close(). */
  detach(): void {
    if (!this.raw.detached) shmdt(this.raw);
  }

  /** For `using`: detaches if still attached; a second dispose does nothing. */
  [Symbol.dispose](): void {
    if (!this.raw.detached) shmdt(this.raw);
  }

  protected abstract bytesForReading(offset: number, length: number | undefined): Uint8Array;

  [inspect.custom](): string {
    const state = this.detached ? 'detached' : `at 0x${this.address.toString(16)}`;
    return `${this.constructor.name} { id: ${this.id}, size: ${this.size}, ${this.readOnly ? 'read-only, ' : ''}${state} }`;
  }
}

function indexOfNul(bytes: Uint8Array): number {
  const at = bytes.indexOf(0);
  return at < 0 ? bytes.length : at;
}

/** A read-write attachment: zero-copy views over the whole segment, plus copy helpers. */
export class SegmentAttachment extends AttachmentBase {
  #bytes?: Uint8Array;
  #dataView?: DataView;
  #nodeBuffer?: Buffer;

  get readOnly(): false {
    return false;
  }

  /** The segment's memory, zero copy. */
  get buffer(): ArrayBuffer {
    return this.raw.buffer; // throws once detached
  }
  get bytes(): Uint8Array {
    const buffer = this.buffer;
    return (this.#bytes ??= new Uint8Array(buffer));
  }
  get dataView(): DataView {
    const buffer = this.buffer;
    return (this.#dataView ??= new DataView(buffer));
  }
  /** The segment as a Node Buffer (zero copy). */
  get nodeBuffer(): Buffer {
    const buffer = this.buffer;
    return (this.#nodeBuffer ??= Buffer.from(buffer));
  }

  /**
   * A typed view, e.g. view(Int32Array, 64, 4) for Atomics on four words at byte 64. On a segment larger than the
   * largest ArrayBuffer this Node makes (see Attachment.buffer), it is a view of a window of that part only.
   */
  view<T extends TypedArray>(type: TypedArrayConstructor<T>, byteOffset = 0, length?: number): T {
    const size = type.BYTES_PER_ELEMENT;
    if (typeof type !== 'function' || !Number.isInteger(size)) throw new TypeError('view() takes a typed array constructor such as Int32Array');
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset > this.size) {
      throw new RangeError(`byteOffset ${byteOffset} is outside the segment (0..${this.size})`);
    }
    if (byteOffset % size !== 0) throw new RangeError(`byteOffset ${byteOffset} is not a multiple of ${type.name}'s ${size}-byte elements`);
    const count = length ?? Math.floor((this.size - byteOffset) / size);
    if (!Number.isInteger(count) || count < 0 || byteOffset + count * size > this.size) {
      throw new RangeError(`${count} elements of ${size} bytes at ${byteOffset} pass the end of the segment (${this.size} bytes)`);
    }
    if (this.#fitsOneBuffer) return new type(this.buffer, byteOffset, count);
    return new type(this.raw.window(byteOffset, count * size), 0, count);
  }

  /** Whether the whole segment fits one ArrayBuffer here (else parts of it are reached through windows). */
  get #fitsOneBuffer(): boolean {
    return this.size <= MAX_LENGTH;
  }

  /** The bytes [offset, offset + length), zero copy: of the whole buffer, or of a window of a very large segment. */
  #span(offset: number, length: number): Uint8Array {
    if (this.#fitsOneBuffer) return this.bytes.subarray(offset, offset + length);
    return new Uint8Array(this.raw.window(offset, length));
  }

  /** Copies bytes or an encoded string into the segment at `offset`; returns the number of bytes written. */
  write(data: ArrayBufferView | ArrayBuffer | string, offset = 0, encoding: BufferEncoding = 'utf8'): number {
    const bytes =
      typeof data === 'string'
        ? Buffer.from(data, encoding)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : ArrayBuffer.isView(data)
            ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
            : undefined;
    if (!bytes) throw new TypeError('write() takes a string, an ArrayBuffer or a typed array / Buffer / DataView');
    const range = checkByteRange(offset, bytes.length, this.size);
    this.#span(range.offset, range.length).set(bytes);
    return bytes.length;
  }

  /**
   * Fills `length` bytes at `offset` (the rest of the segment by default) with a byte value (an integer 0..255;
   * anything else is a RangeError, not truncated as Buffer.fill would) or a string pattern (UTF-8).
   */
  fill(value: number | string, offset = 0, length?: number): this {
    if (typeof value === 'number') checkInteger('fill', 'value', value, 0, 255);
    else if (typeof value !== 'string') throw new TypeError(`fill: value must be a byte (0..255) or a string, got ${typeof value}`);
    else if (value.length === 0) throw new RangeError('fill: the pattern must not be empty');
    const range = checkByteRange(offset, length, this.size);
    const span = this.#span(range.offset, range.length);
    Buffer.from(span.buffer, span.byteOffset, span.byteLength).fill(value);
    return this;
  }

  protected bytesForReading(offset: number, length: number | undefined): Uint8Array {
    const range = checkByteRange(offset, length, this.size);
    return this.#span(range.offset, range.length);
  }
}

/** A read-only attachment (SHM_RDONLY): reads copy the bytes out; nothing here can write. */
export class ReadOnlySegmentAttachment extends AttachmentBase {
  get readOnly(): true {
    return true;
  }

  protected bytesForReading(offset: number, length: number | undefined): Uint8Array {
    return this.raw.read(offset, length);
  }
}
