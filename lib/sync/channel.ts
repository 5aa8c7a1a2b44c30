// A single-producer, single-consumer message channel over one System V segment, between two processes.
//
// Layout and framing: see ring-layout.ts and docs/channel.md. In short: free-running u32 head (producer) and
// tail (consumer) byte counters on their own cache lines, a power-of-two ring of 8-byte-aligned records
// [u32 length, u32 reserved, payload], a wrap marker when a record does not fit before the end of the ring.
//
// Waiting: spin on the peer's counter, then sleep on a futex "bell" after announcing it in a WAITING word; the
// other side calls FUTEX_WAKE only when it finds WAITING set. At steady state with a spinning peer a message
// therefore costs no FFI call at all. Sleeps are sliced (SLICE_MS) so that a peer killed by SIGKILL is noticed
// through its pid.
//
// Lifetime: the segment is created with IPC_PRIVATE, attached, and marked IPC_RMID at once. Linux lets a marked
// segment be attached by id while it still has an attachment, so Channel.open(id) works as long as the producer
// is alive (attached), and the kernel destroys the segment at the last detach or exit, whatever happens.
import { readFileSync } from 'node:fs';
import { shmget } from '../c/shmget.js';
import { shmat, shmdt } from '../c/shmat.js';
import { shmctl } from '../c/shmctl.js';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID } from '../c/constants.js';
import type { Attachment } from '../c/attachment.js';
import { ShmError, usageError } from '../errors.js';
import { futexWaitAt, futexWaitAtAsync, futexWakeAt } from './futex.js';
import * as L from './ring-layout.js';
import { SPIN_CHECK_EVERY, SpinPolicy } from './spin-policy.js';
import { WordCopier } from './small-copy.js';
import { INT32_MAX, checkSpin, checkTimeoutMs } from '../common/arguments.js';

export interface ChannelCreateOptions {
  /** Ring size in bytes, rounded up to a power of two (at least 64, at most 2^30). Default 1 MiB. */
  capacity?: number;
  /** Permission bits of the segment (default 0o600: only this user may open it). */
  mode?: number;
  /** Spin iterations before sleeping in the kernel (default DEFAULT_SPIN); 0 sleeps at once. */
  spin?: number;
}

export interface ChannelOpenOptions {
  spin?: number;
}

export interface TimeoutOptions {
  /** Give up after this many ms (default: no limit). 0 never blocks. */
  timeoutMs?: number;
}

/** Spin iterations before a futex sleep, unless given per channel. */
export const DEFAULT_SPIN = 4000;
/** Longest single sleep: the peer's liveness is checked whenever one expires. */
export const SLICE_MS = 50;
const DEFAULT_CAPACITY = 1 << 20;

// Int32 indices of the header words.
const HEAD = L.i32(L.OFF_HEAD);
const TAIL = L.i32(L.OFF_TAIL);
const C_WAITING = L.i32(L.OFF_CONSUMER_WAITING);
const C_BELL = L.i32(L.OFF_CONSUMER_BELL);
const P_WAITING = L.i32(L.OFF_PRODUCER_WAITING);
const P_BELL = L.i32(L.OFF_PRODUCER_BELL);
const P_CLOSED = L.i32(L.OFF_PRODUCER_CLOSED);
const C_CLOSED = L.i32(L.OFF_CONSUMER_CLOSED);
const P_PID = L.i32(L.OFF_PRODUCER_PID);
const C_PID = L.i32(L.OFF_CONSUMER_PID);

const constructionToken = Symbol('sysv-shm channel');

export type ChannelRole = 'producer' | 'consumer';

/** state and start time (clock ticks since boot) of a process, from /proc/<pid>/stat; undefined if unreadable. */
function procStat(pid: number | 'self'): { state: string; start: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    return { state: fields[0], start: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that wrote (pid, start) into the header still runs. A zombie counts as dead (a parent
 * blocked in a synchronous receive cannot reap its killed child), and so does a pid reused by another process.
 */
function isAlive(pid: number, start: number): boolean {
  if (pid <= 0 || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(pid);
  if (!stat) return procStat('self') === undefined; // no /proc at all: trust kill(); /proc but no entry: gone
  if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
  if (start > 0 && stat.start !== start) return false;
  return true;
}

function checkTimeout(fn: string, options: TimeoutOptions | undefined): number {
  return checkTimeoutMs(fn, options?.timeoutMs);
}

function asBytes(fn: string, bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError(`${fn}: expected a Uint8Array, another ArrayBufferView or an ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`);
}

function tooLarge(fn: string, n: number, max: number): RangeError {
  return Object.assign(
    new RangeError(
      `EMSGSIZE: ${fn}: a message of ${n} bytes does not fit this channel (at most ${max} bytes, the ring capacity minus an 8-byte record header); ` +
        'nothing was written. Create the channel with a larger capacity, or split the message yourself',
    ),
    { code: 'EMSGSIZE' },
  );
}

/**
 * One end of a single-producer, single-consumer message channel over a shared-memory segment.
 *
 * `Channel.create({ capacity })` makes the segment and returns the producer end; hand `channel.id` to the other
 * process, which calls `Channel.open(id)` to get the consumer end. open() must happen while the producer is
 * still alive: the segment is marked for removal at creation and exists only as long as one end is attached.
 *
 * Messages larger than `maxMessageSize` (capacity - 8) are rejected with a RangeError (code 'EMSGSIZE') before
 * anything is written; they are not split.
 *
 * A send or receive whose peer has gone (closed, exited, killed) fails with code 'EPIPE' once the ring cannot
 * make progress: messages already in the ring are still delivered first.
 */
export class Channel {
  /** The shmid to hand to the other process. */
  readonly id: number;
  readonly role: ChannelRole;
  /** Ring size in bytes (a power of two). */
  readonly capacity: number;
  /** Largest message: capacity - 8. */
  readonly maxMessageSize: number;
  /** Spin iterations per wait, learnt from how waits end (see spin-policy.ts). */
  readonly #spinPolicy: SpinPolicy;

  /**
   * Spin iterations before sleeping (0: sleep at once). The channel adapts the spin it actually uses: longer
   * while the peer answers soon after a sleep, none while spinning is futile (the peer shares this CPU).
   * Setting it resets what was learnt.
   */
  get spin(): number {
    return this.#spinPolicy.base;
  }
  set spin(value: number) {
    this.#spinPolicy.base = checkSpin('Channel.spin', value, DEFAULT_SPIN);
  }

  readonly #attachment: Attachment;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  /** The ring only (offset 0 = ring offset 0). */
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  /** The ring as 32-bit words (for copying short messages out). */
  readonly #ringWords: Int32Array;
  readonly #copier = new WordCopier();
  readonly #mask: number;
  readonly #consumerBell: bigint;
  readonly #producerBell: bigint;
  #closed = false;

  // Producer: the local write counter (may run ahead of HEAD by an unpublished wrap marker) and the last tail seen.
  #head = 0;
  #tailSeen = 0;
  #reservedPos = -1;
  #reservedLength = 0;
  // Consumer: the local read counter and the last head seen.
  #tail = 0;
  #headSeen = 0;
  #peekedLength = -1;

  // Async operations of this end run one after another; synchronous ones are refused while any is pending.
  #asyncPending = 0;
  #asyncChain: Promise<void> = Promise.resolve();

  /** @internal Use Channel.create or Channel.open. */
  constructor(token: symbol, role: ChannelRole, attachment: Attachment, spin: number) {
    if (token !== constructionToken) throw new TypeError('use Channel.create() or Channel.open(id)');
    this.role = role;
    this.id = attachment.shmid;
    this.#attachment = attachment;
    this.#spinPolicy = new SpinPolicy(spin);
    const buffer = attachment.buffer;
    this.#i32 = new Int32Array(buffer, 0, L.DATA_OFFSET / 4);
    this.#f64 = new Float64Array(buffer, 0, L.DATA_OFFSET / 8);
    this.capacity = this.#i32[L.i32(L.OFF_CAPACITY)] >>> 0;
    this.maxMessageSize = this.capacity - L.RECORD_HEADER;
    this.#mask = this.capacity - 1;
    this.#u8 = new Uint8Array(buffer, L.DATA_OFFSET, this.capacity);
    this.#u32 = new Uint32Array(buffer, L.DATA_OFFSET, this.capacity / 4);
    this.#ringWords = new Int32Array(buffer, L.DATA_OFFSET, this.capacity / 4);
    this.#consumerBell = attachment.address + BigInt(L.OFF_CONSUMER_BELL);
    this.#producerBell = attachment.address + BigInt(L.OFF_PRODUCER_BELL);
    const head = Atomics.load(this.#i32, HEAD);
    const tail = Atomics.load(this.#i32, TAIL);
    this.#head = head;
    this.#headSeen = head;
    this.#tail = tail;
    this.#tailSeen = tail;
  }

  /** Creates the segment and returns the producer end. */
  static create(options: ChannelCreateOptions = {}): Channel {
    const requested = options.capacity ?? DEFAULT_CAPACITY;
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1 || requested > L.MAX_CAPACITY) {
      throw new RangeError(`Channel.create: capacity must be an integer in [1, ${L.MAX_CAPACITY}], got ${String(requested)}`);
    }
    const mode = options.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new RangeError(`Channel.create: mode must be permission bits (0..0o777), got ${mode}`);
    const spin = checkSpin('Channel.create', options.spin, DEFAULT_SPIN);
    const capacity = L.ringCapacity(requested);
    const id = shmget(IPC_PRIVATE, L.DATA_OFFSET + capacity, IPC_CREAT | mode);
    let attachment: Attachment;
    try {
      attachment = shmat(id);
    } finally {
      // Marked at once: from here on the kernel removes the segment with its last attachment, even after SIGKILL.
      shmctl(id, IPC_RMID);
    }
    const i32 = new Int32Array(attachment.buffer, 0, L.DATA_OFFSET / 4);
    const f64 = new Float64Array(attachment.buffer, 0, L.DATA_OFFSET / 8);
    i32[L.i32(L.OFF_VERSION)] = L.VERSION;
    i32[L.i32(L.OFF_CAPACITY)] = capacity;
    i32[L.i32(L.OFF_DATA_OFFSET)] = L.DATA_OFFSET;
    i32[L.i32(L.OFF_MAX_MESSAGE)] = capacity - L.RECORD_HEADER;
    f64[L.OFF_PRODUCER_START / 8] = procStat('self')?.start ?? 0;
    i32[P_PID] = process.pid;
    Atomics.store(i32, L.i32(L.OFF_MAGIC), L.MAGIC | 0);
    return new Channel(constructionToken, 'producer', attachment, spin);
  }

  /** Attaches the channel `id` made by Channel.create in another process (or this one) and returns the consumer end. */
  static open(id: number, options: ChannelOpenOptions = {}): Channel {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new TypeError(`Channel.open: id must be a shmid (integer >= 0), got ${String(id)}`);
    const spin = checkSpin('Channel.open', options.spin, DEFAULT_SPIN);
    let attachment: Attachment;
    try {
      attachment = shmat(id);
    } catch (error) {
      if (error instanceof ShmError && (error.code === 'EINVAL' || error.code === 'EIDRM')) {
        throw new ShmError(
          `${error.message}. A channel's segment lives only while one of its ends is attached: Channel.open(${id}) must happen while the producer is alive`,
          { code: error.code, errno: error.errno, syscall: error.syscall, shmid: id },
        );
      }
      throw error;
    }
    const fail = (code: string, message: string): never => {
      shmdt(attachment);
      throw usageError(code, 'Channel.open', `Channel.open(${id}): ${message}`, { shmid: id });
    };
    if (attachment.size < L.DATA_OFFSET + L.MIN_CAPACITY) fail('EPROTO', `segment ${id} (${attachment.size} bytes) is too small to be a channel`);
    const i32 = new Int32Array(attachment.buffer, 0, L.DATA_OFFSET / 4);
    const f64 = new Float64Array(attachment.buffer, 0, L.DATA_OFFSET / 8);
    if (Atomics.load(i32, L.i32(L.OFF_MAGIC)) !== (L.MAGIC | 0)) fail('EPROTO', `segment ${id} is not a channel (bad magic)`);
    const version = i32[L.i32(L.OFF_VERSION)];
    if (version !== L.VERSION) fail('EPROTO', `segment ${id} holds channel format version ${version}; this library speaks version ${L.VERSION}`);
    const capacity = i32[L.i32(L.OFF_CAPACITY)] >>> 0;
    const validCapacity = capacity >= L.MIN_CAPACITY && capacity <= L.MAX_CAPACITY && (capacity & (capacity - 1)) === 0;
    if (!validCapacity || i32[L.i32(L.OFF_DATA_OFFSET)] !== L.DATA_OFFSET || L.DATA_OFFSET + capacity > attachment.size) {
      fail('EPROTO', `segment ${id} has an inconsistent channel header (capacity ${capacity}, ${attachment.size} bytes)`);
    }
    if (Atomics.load(i32, P_CLOSED) !== 0) fail('EPIPE', 'the producer has already closed this channel');
    const previous = Atomics.compareExchange(i32, C_PID, 0, process.pid);
    if (previous !== 0) fail('EBUSY', `the channel already has a consumer (pid ${previous}); a channel has exactly one consumer`);
    f64[L.OFF_CONSUMER_START / 8] = procStat('self')?.start ?? 0;
    return new Channel(constructionToken, 'consumer', attachment, spin);
  }

  /** True once close() was called on this end. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The pid of the other end (0 while no consumer has opened the channel). */
  get peerPid(): number {
    this.#assertOpen('peerPid');
    return Atomics.load(this.#i32, this.role === 'producer' ? C_PID : P_PID);
  }

  /**
   * Producer: the largest message that can be sent right now without waiting, or -1 when not even an empty one
   * fits (free space is counted with the wrap padding a record at the end of the ring would need).
   */
  get available(): number {
    this.#assertRole('available', 'producer');
    this.#assertOpen('available');
    this.#tailSeen = Atomics.load(this.#i32, TAIL);
    const free = this.capacity - ((this.#head - this.#tailSeen) >>> 0);
    const contiguous = this.capacity - (this.#head & this.#mask);
    const best = free <= contiguous ? free : Math.max(contiguous, free - contiguous);
    return best >= L.RECORD_HEADER ? Math.min(best - L.RECORD_HEADER, this.maxMessageSize) : -1;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Producer
  // ------------------------------------------------------------------------------------------------------------

  /**
   * Copies `bytes` into the ring as one message. Waits (spin, then futex) while the ring is full; throws code
   * 'ETIMEDOUT' after `timeoutMs`, 'EPIPE' when the consumer is gone, RangeError 'EMSGSIZE' for a message larger
   * than maxMessageSize (before anything is written).
   */
  send(bytes: Uint8Array | ArrayBufferView | ArrayBuffer, options?: TimeoutOptions): void {
    const data = asBytes('send', bytes);
    this.#checkProducer('send', data.length);
    const record = L.recordSize(data.length);
    const pos = this.#acquireOrWait('send', record, options);
    this.#write(pos, data);
    this.#publish();
  }

  /** Sends if there is room now; false (nothing written) when the ring is full. */
  trySend(bytes: Uint8Array | ArrayBufferView | ArrayBuffer): boolean {
    const data = asBytes('trySend', bytes);
    this.#checkProducer('trySend', data.length);
    const pos = this.#tryAcquire(L.recordSize(data.length));
    if (pos < 0) return false;
    this.#write(pos, data);
    this.#publish();
    return true;
  }

  /** send() that waits for room without blocking the event loop. Do not modify `bytes` until it resolves. */
  async sendAsync(bytes: Uint8Array | ArrayBufferView | ArrayBuffer, options?: TimeoutOptions): Promise<void> {
    const data = asBytes('sendAsync', bytes);
    const timeout = checkTimeout('sendAsync', options);
    this.#checkProducer('sendAsync', data.length, true);
    const record = L.recordSize(data.length);
    if (this.#asyncPending === 0) {
      const pos = this.#tryAcquire(record);
      if (pos >= 0) {
        this.#write(pos, data);
        this.#publish();
        return;
      }
    }
    const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
    await this.#serialized(async () => {
      this.#checkProducer('sendAsync', data.length, true);
      const pos = await this.#acquireAsync('sendAsync', record, deadline);
      this.#write(pos, data);
      this.#publish();
    });
  }

  /**
   * Zero-copy send: a writable view of `length` bytes inside the ring (waiting for room like send). Fill it, then
   * commit() to publish it. Until then the consumer sees nothing. RangeError for length > maxMessageSize.
   */
  reserve(length: number, options?: TimeoutOptions): Uint8Array {
    this.#assertRole('reserve', 'producer');
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
      throw new RangeError(`reserve: length must be an integer >= 0, got ${String(length)}`);
    }
    if (length > this.maxMessageSize) throw tooLarge('reserve', length, this.maxMessageSize);
    this.#checkProducer('reserve', length);
    const record = L.recordSize(length);
    const pos = this.#acquireOrWait('reserve', record, options);
    this.#reservedPos = pos;
    this.#reservedLength = length;
    const start = pos + L.RECORD_HEADER;
    return this.#u8.subarray(start, start + length);
  }

  /** Publishes the reserved view as a message of `length` bytes (default: all that was reserved). */
  commit(length?: number): void {
    this.#assertRole('commit', 'producer');
    this.#assertOpen('commit');
    if (this.#reservedPos < 0) {
      throw usageError('ERR_CHANNEL_NO_RESERVATION', 'commit', 'commit() without reserve(): call reserve(length) first, write into the view it returns, then commit()', {
        shmid: this.id,
      });
    }
    const n = length ?? this.#reservedLength;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > this.#reservedLength) {
      throw new RangeError(`commit: length must be an integer in [0, ${this.#reservedLength}] (the reserved size), got ${String(n)}`);
    }
    const pos = this.#reservedPos;
    this.#reservedPos = -1;
    this.#u32[pos >> 2] = n;
    this.#u32[(pos >> 2) + 1] = 0;
    this.#head = (this.#head + L.recordSize(n)) | 0;
    this.#publish();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Consumer
  // ------------------------------------------------------------------------------------------------------------

  /**
   * The next message, copied out. Waits (spin, then futex) while the ring is empty; null after `timeoutMs`.
   * Throws code 'EPIPE' when the ring is empty and the producer is gone.
   */
  receive(options?: TimeoutOptions): Uint8Array | null {
    this.#checkConsumer('receive');
    const pos = this.#nextOrWait('receive', options);
    if (pos < 0) return null;
    return this.#take(pos);
  }

  /** The next message if there is one now, else null (never waits). Throws 'EPIPE' when empty and the producer closed. */
  tryReceive(): Uint8Array | null {
    this.#checkConsumer('tryReceive');
    const pos = this.#tryNext();
    if (pos >= 0) return this.#take(pos);
    if (Atomics.load(this.#i32, P_CLOSED) !== 0) {
      const again = this.#tryNext();
      if (again >= 0) return this.#take(again);
      throw this.#peerGone('tryReceive', 'the producer closed the channel and every message was received');
    }
    return null;
  }

  /**
   * Copies the next message into `target` and returns its length (no allocation); null after `timeoutMs`.
   * RangeError, with the message left in the ring, when `target` is too small.
   */
  receiveInto(target: Uint8Array, options?: TimeoutOptions): number | null {
    if (!(target instanceof Uint8Array)) throw new TypeError('receiveInto: target must be a Uint8Array');
    this.#checkConsumer('receiveInto');
    const pos = this.#nextOrWait('receiveInto', options);
    if (pos < 0) return null;
    const length = this.#u32[pos >> 2];
    if (length > target.length) throw new RangeError(`receiveInto: the next message has ${length} bytes; target has room for ${target.length} (the message stays in the channel)`);
    this.#copier.copyOut(this.#ringWords, this.#u8, pos + L.RECORD_HEADER, target, length);
    this.#release(length);
    return length;
  }

  /** receive() that waits without blocking the event loop (the futex sleep runs on a libuv worker thread). */
  async receiveAsync(options?: TimeoutOptions): Promise<Uint8Array | null> {
    const timeout = checkTimeout('receiveAsync', options);
    this.#checkConsumer('receiveAsync', true);
    if (this.#asyncPending === 0) {
      const pos = this.#tryNext();
      if (pos >= 0) return this.#take(pos);
    }
    const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
    let result: Uint8Array | null = null;
    await this.#serialized(async () => {
      this.#checkConsumer('receiveAsync', true);
      const pos = await this.#nextAsync('receiveAsync', deadline);
      if (pos >= 0) result = this.#take(pos);
    });
    return result;
  }

  /**
   * Zero-copy receive: a view of the next message inside the ring (waiting like receive; null after timeoutMs).
   * The view stays valid until release(), which frees its room for the producer.
   */
  peek(options?: TimeoutOptions): Uint8Array | null {
    this.#checkConsumer('peek');
    const pos = this.#nextOrWait('peek', options);
    if (pos < 0) return null;
    const length = this.#u32[pos >> 2];
    this.#peekedLength = length;
    const start = pos + L.RECORD_HEADER;
    return this.#u8.subarray(start, start + length);
  }

  /** Frees the message returned by peek(). Its view must not be used afterwards (the producer reuses the room). */
  release(): void {
    this.#assertRole('release', 'consumer');
    this.#assertOpen('release');
    if (this.#peekedLength < 0) {
      throw usageError('ERR_CHANNEL_NOT_PEEKED', 'release', 'release() without peek(): there is no message to release', { shmid: this.id });
    }
    const length = this.#peekedLength;
    this.#peekedLength = -1;
    this.#release(length);
  }

  // ------------------------------------------------------------------------------------------------------------
  // Both ends
  // ------------------------------------------------------------------------------------------------------------

  /**
   * Closes this end: marks it closed in the header, wakes the peer (its next wait ends with EPIPE once the ring
   * cannot make progress) and any pending async operation of this end, and detaches. Idempotent. The segment
   * disappears when the other end closes, exits or dies.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const i32 = this.#i32;
    Atomics.store(i32, this.role === 'producer' ? P_CLOSED : C_CLOSED, 1);
    Atomics.add(i32, C_BELL, 1);
    Atomics.add(i32, P_BELL, 1);
    futexWakeAt(this.#consumerBell, INT32_MAX);
    futexWakeAt(this.#producerBell, INT32_MAX);
    shmdt(this.#attachment);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ------------------------------------------------------------------------------------------------------------
  // Internals: producer
  // ------------------------------------------------------------------------------------------------------------

  #checkProducer(fn: string, length: number, asyncCall = false): void {
    if (this.role !== 'producer') this.#assertRole(fn, 'producer');
    this.#assertOpen(fn);
    if (!asyncCall && this.#asyncPending > 0) throw this.#busy(fn);
    if (this.#reservedPos >= 0) {
      throw usageError('ERR_CHANNEL_RESERVED', fn, `${fn}: a reserve()d view is not committed yet; commit() it first`, { shmid: this.id });
    }
    if (length > this.maxMessageSize) throw tooLarge(fn, length, this.maxMessageSize);
    if (Atomics.load(this.#i32, C_CLOSED) !== 0) throw this.#peerGone(fn, 'the consumer closed the channel');
  }

  /** True when `bytes` more fit between the local head and the consumer's tail (re-reading the tail if needed). */
  #room(bytes: number): boolean {
    const capacity = this.capacity;
    if (((this.#head - this.#tailSeen) >>> 0) + bytes <= capacity) return true;
    const tail = Atomics.load(this.#i32, TAIL);
    if (((this.#head - tail) >>> 0) > capacity) throw this.#corrupt(`tail ${tail >>> 0} is not within ${capacity} bytes of head ${this.#head >>> 0}`);
    this.#tailSeen = tail;
    return ((this.#head - tail) >>> 0) + bytes <= capacity;
  }

  /**
   * The ring offset where a record of `record` bytes can be written now, or -1. When the record does not fit
   * before the end of the ring, a wrap marker pads to the end and the record goes to offset 0; a marker that
   * fits alone is published at once so that the consumer can move past it.
   */
  #tryAcquire(record: number): number {
    const pos = this.#head & this.#mask;
    const contiguous = this.capacity - pos;
    if (contiguous >= record) return this.#room(record) ? pos : -1;
    if (this.#room(contiguous + record)) {
      this.#u32[pos >> 2] = L.WRAP_MARKER;
      this.#head = (this.#head + contiguous) | 0;
      return 0;
    }
    if (!this.#room(contiguous)) return -1;
    this.#u32[pos >> 2] = L.WRAP_MARKER;
    this.#head = (this.#head + contiguous) | 0;
    this.#publish();
    return this.#room(record) ? 0 : -1;
  }

  #write(pos: number, data: Uint8Array): void {
    const n = data.length;
    this.#u32[pos >> 2] = n;
    this.#u32[(pos >> 2) + 1] = 0;
    if (n > 0) this.#u8.set(data, pos + L.RECORD_HEADER);
    this.#head = (this.#head + L.recordSize(n)) | 0;
  }

  /** Publishes the local head; rings the consumer's bell only if it announced that it sleeps. */
  #publish(): void {
    const i32 = this.#i32;
    Atomics.store(i32, HEAD, this.#head);
    if (Atomics.load(i32, C_WAITING) !== 0 && Atomics.exchange(i32, C_WAITING, 0) !== 0) {
      Atomics.add(i32, C_BELL, 1);
      futexWakeAt(this.#consumerBell, 1);
    }
  }

  /** Ring offset for a record of `record` bytes: at once if there is room, else after waiting for it. */
  #acquireOrWait(fn: string, record: number, options: TimeoutOptions | undefined): number {
    const timeout = checkTimeout(fn, options); // checked even when no wait is needed
    const pos = this.#tryAcquire(record);
    return pos >= 0 ? pos : this.#acquire(fn, record, timeout);
  }

  /** Waits for room: spin, then sliced futex sleeps. Returns the ring offset or throws ETIMEDOUT / EPIPE. */
  #acquire(fn: string, record: number, timeout: number): number {
    const policy = this.#spinPolicy;
    const spun = timeout > 0 ? policy.next() : 0;
    for (let i = spun; i > 0; i--) {
      const pos = this.#tryAcquire(record);
      if (pos >= 0) {
        policy.spun();
        return pos;
      }
      if ((i & (SPIN_CHECK_EVERY - 1)) === 0 && !policy.keepSpinning()) break;
    }
    const i32 = this.#i32;
    const started = performance.now();
    const deadline = timeout === Infinity ? Infinity : started + timeout;
    for (let slept = false; ; slept = true) {
      const bell = Atomics.load(i32, P_BELL);
      Atomics.store(i32, P_WAITING, 1);
      const pos = this.#tryAcquire(record);
      if (pos >= 0) {
        Atomics.store(i32, P_WAITING, 0);
        if (slept) this.#spinPolicy.slept(spun, started, performance.now() - started);
        return pos;
      }
      const left = this.#beforeSleep(fn, deadline, P_WAITING);
      const result = futexWaitAt(this.#producerBell, bell, Math.min(left, SLICE_MS));
      Atomics.store(i32, P_WAITING, 0);
      this.#afterSleep(fn, result);
    }
  }

  async #acquireAsync(fn: string, record: number, deadline: number): Promise<number> {
    const i32 = this.#i32;
    for (;;) {
      const bell = Atomics.load(i32, P_BELL);
      Atomics.store(i32, P_WAITING, 1);
      const pos = this.#tryAcquire(record);
      if (pos >= 0) {
        Atomics.store(i32, P_WAITING, 0);
        return pos;
      }
      const left = this.#beforeSleep(fn, deadline, P_WAITING);
      const result = await futexWaitAtAsync(this.#producerBell, bell, Math.min(left, SLICE_MS));
      this.#assertOpen(fn);
      Atomics.store(i32, P_WAITING, 0);
      this.#afterSleep(fn, result);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Internals: consumer
  // ------------------------------------------------------------------------------------------------------------

  #checkConsumer(fn: string, asyncCall = false): void {
    if (this.role !== 'consumer') this.#assertRole(fn, 'consumer');
    this.#assertOpen(fn);
    if (!asyncCall && this.#asyncPending > 0) throw this.#busy(fn);
    if (this.#peekedLength >= 0) {
      throw usageError('ERR_CHANNEL_PEEKED', fn, `${fn}: a peek()ed message is not released yet; release() it first`, { shmid: this.id });
    }
  }

  /** Ring offset of the next record, or -1 when the ring is empty. Skips wrap markers. */
  #tryNext(): number {
    for (;;) {
      const tail = this.#tail;
      if (tail === this.#headSeen) {
        const head = Atomics.load(this.#i32, HEAD);
        if (head === tail) return -1;
        this.#seeHead(head);
      }
      const pos = tail & this.#mask;
      const length = this.#u32[pos >> 2];
      if (length !== L.WRAP_MARKER) {
        if (length > this.capacity - pos - L.RECORD_HEADER || L.recordSize(length) > ((this.#headSeen - tail) >>> 0)) {
          throw this.#corrupt(`a record of ${length} bytes at ring offset ${pos} does not fit`);
        }
        return pos;
      }
      this.#tail = (tail + (this.capacity - pos)) | 0;
      this.#publishTail();
    }
  }

  /** Records a head read from the header (after checking that it is plausible). */
  #seeHead(head: number): void {
    const tail = this.#tail;
    if (((head - tail) >>> 0) > this.capacity) throw this.#corrupt(`head ${head >>> 0} is not within ${this.capacity} bytes of tail ${tail >>> 0}`);
    this.#headSeen = head;
  }

  /** Copies out the record at `pos` and releases it. */
  #take(pos: number): Uint8Array {
    const length = this.#u32[pos >> 2];
    const start = pos + L.RECORD_HEADER;
    let out: Uint8Array;
    if (length < 4096) {
      out = this.#u8.slice(start, start + length);
    } else {
      // Large copies go into memory that is not zero-filled first.
      out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
      out.set(this.#u8.subarray(start, start + length));
    }
    this.#release(length);
    return out;
  }

  #release(length: number): void {
    this.#tail = (this.#tail + L.recordSize(length)) | 0;
    this.#publishTail();
  }

  /** Publishes the local tail; rings the producer's bell only if it announced that it sleeps. */
  #publishTail(): void {
    const i32 = this.#i32;
    Atomics.store(i32, TAIL, this.#tail);
    if (Atomics.load(i32, P_WAITING) !== 0 && Atomics.exchange(i32, P_WAITING, 0) !== 0) {
      Atomics.add(i32, P_BELL, 1);
      futexWakeAt(this.#producerBell, 1);
    }
  }

  /** Ring offset of the next record: at once if there is one, else after waiting (-1 after the timeout). */
  #nextOrWait(fn: string, options: TimeoutOptions | undefined): number {
    const timeout = checkTimeout(fn, options); // checked even when no wait is needed
    const pos = this.#tryNext();
    return pos >= 0 ? pos : this.#next(fn, timeout);
  }

  /** Waits for a message: spin, then sliced futex sleeps. Returns the ring offset, -1 on timeout; throws EPIPE. */
  #next(fn: string, timeout: number): number {
    const i32 = this.#i32;
    const policy = this.#spinPolicy;
    const spun = timeout > 0 ? policy.next() : 0;
    const tail = this.#tail;
    for (let i = spun; i > 0; i--) {
      const head = Atomics.load(i32, HEAD);
      if (head !== tail) {
        this.#seeHead(head); // so that #tryNext does not read it again
        const pos = this.#tryNext();
        if (pos >= 0) {
          policy.spun();
          return pos;
        }
      }
      if ((i & (SPIN_CHECK_EVERY - 1)) === 0 && !policy.keepSpinning()) break;
    }
    const started = performance.now();
    const deadline = timeout === Infinity ? Infinity : started + timeout;
    for (let slept = false; ; slept = true) {
      const bell = Atomics.load(i32, C_BELL);
      Atomics.store(i32, C_WAITING, 1);
      const pos = this.#tryNext();
      if (pos >= 0) {
        Atomics.store(i32, C_WAITING, 0);
        if (slept) this.#spinPolicy.slept(spun, started, performance.now() - started);
        return pos;
      }
      const left = this.#beforeSleep(fn, deadline, C_WAITING);
      if (left <= 0) return -1;
      const result = futexWaitAt(this.#consumerBell, bell, Math.min(left, SLICE_MS));
      Atomics.store(i32, C_WAITING, 0);
      this.#afterSleep(fn, result);
    }
  }

  async #nextAsync(fn: string, deadline: number): Promise<number> {
    const i32 = this.#i32;
    for (;;) {
      const bell = Atomics.load(i32, C_BELL);
      Atomics.store(i32, C_WAITING, 1);
      const pos = this.#tryNext();
      if (pos >= 0) {
        Atomics.store(i32, C_WAITING, 0);
        return pos;
      }
      const left = this.#beforeSleep(fn, deadline, C_WAITING);
      if (left <= 0) return -1;
      const result = await futexWaitAtAsync(this.#consumerBell, bell, Math.min(left, SLICE_MS));
      this.#assertOpen(fn);
      Atomics.store(i32, C_WAITING, 0);
      this.#afterSleep(fn, result);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Internals: both
  // ------------------------------------------------------------------------------------------------------------

  /**
   * Called with WAITING announced and the condition still false. Throws EPIPE if the peer closed or died,
   * ETIMEDOUT (producer) at the deadline; returns the ms left (<= 0 for a consumer timeout, which returns null).
   */
  #beforeSleep(fn: string, deadline: number, waiting: number): number {
    const i32 = this.#i32;
    if (Atomics.load(i32, this.role === 'producer' ? C_CLOSED : P_CLOSED) !== 0) {
      Atomics.store(i32, waiting, 0);
      throw this.#peerGone(fn, `the ${this.role === 'producer' ? 'consumer' : 'producer'} closed the channel`);
    }
    const left = deadline === Infinity ? Infinity : deadline - performance.now();
    if (left <= 0) {
      Atomics.store(i32, waiting, 0);
      this.#checkPeerAlive(fn);
      if (this.role === 'producer') {
        throw usageError('ETIMEDOUT', fn, `${fn}: the ring stayed full until the timeout (the consumer is alive but not keeping up)`, { shmid: this.id });
      }
    }
    return left;
  }

  #afterSleep(fn: string, result: string): void {
    if (result === 'timed-out') this.#checkPeerAlive(fn);
  }

  /** Throws EPIPE when the peer's process is gone (exited or killed without close()). */
  #checkPeerAlive(fn: string): void {
    const producer = this.role === 'producer';
    const pid = Atomics.load(this.#i32, producer ? C_PID : P_PID);
    const start = this.#f64[(producer ? L.OFF_CONSUMER_START : L.OFF_PRODUCER_START) / 8];
    if (isAlive(pid, start)) return;
    if (!producer) {
      // Everything the producer published before it died is still delivered.
      if (this.#tryNext() >= 0) return;
    }
    throw this.#peerGone(fn, `the ${producer ? 'consumer' : 'producer'} (pid ${pid}) exited without closing the channel`);
  }

  #peerGone(fn: string, why: string): ShmError {
    return usageError('EPIPE', fn, `${fn}: ${why}; nothing more can ${this.role === 'producer' ? 'be received from' : 'arrive on'} channel ${this.id}`, {
      shmid: this.id,
    });
  }

  #corrupt(what: string): ShmError {
    return usageError('EPROTO', 'channel', `channel ${this.id} is corrupted: ${what} (another process wrote into the ring's header?)`, { shmid: this.id });
  }

  #busy(fn: string): ShmError {
    return usageError('ERR_CHANNEL_BUSY', fn, `${fn}: an async operation on this end is still pending; await it first (or use the async variant, which queues)`, {
      shmid: this.id,
    });
  }

  #assertOpen(fn: string): void {
    if (this.#closed) {
      throw usageError('ERR_CHANNEL_CLOSED', fn, `${fn}: this ${this.role} end of channel ${this.id} is closed`, { shmid: this.id });
    }
  }

  #assertRole(fn: string, role: ChannelRole): void {
    if (this.role !== role) {
      throw new TypeError(
        `${fn}() belongs to the ${role} end; this is the ${this.role} end (Channel.create gives the producer, Channel.open the consumer)`,
      );
    }
  }

  async #serialized(body: () => Promise<void>): Promise<void> {
    this.#asyncPending++;
    const previous = this.#asyncChain;
    let done!: () => void;
    this.#asyncChain = new Promise<void>((resolve) => (done = resolve));
    try {
      await previous;
      await body();
    } finally {
      this.#asyncPending--;
      done();
    }
  }
}
