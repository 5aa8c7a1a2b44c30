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
//
// Trust: any process that can attach the segment (same uid, or a buggy peer) can write any word of it at any
// moment. So every shared word is read once per decision into a local, checked, and only the checked copy is
// used (a record's length is read once and passed along, never read again); no loop runs without progress (the
// consumer skips at most one wrap marker per look); nothing is allocated, copied or skipped beyond what was
// published and fits the ring. An inconsistency is EPROTO (see #corrupt), after which the end only closes.
import { readFileSync } from 'node:fs';
import { shmget } from '../c/shmget.js';
import { shmat, shmdt } from '../c/shmat.js';
import { shmctl } from '../c/shmctl.js';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, IPC_STAT } from '../c/constants.js';
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
// Float64 indices of the start times.
const P_START = L.OFF_PRODUCER_START / 8;
const C_START = L.OFF_CONSUMER_START / 8;

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
 * `pid` must be > 0 (callers check: 0 and negative pids are not processes, and kill() would signal groups).
 */
function isAlive(pid: number, start: number): boolean {
  if (pid === process.pid) return true;
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

/** A start time as the header may hold it: clock ticks since boot (0: unknown, no /proc). */
function validStart(start: number): boolean {
  return start >= 0 && start <= Number.MAX_SAFE_INTEGER; // false for NaN
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
  /** Set by close() and by an EPROTO: one test on the fast path for both (#assertOpen). */
  #unusable = false;
  /** What was found inconsistent (the first EPROTO of this end); every later call repeats it. */
  #corruption: string | undefined;
  /**
   * The peer's pid and start time as first seen (the consumer's: checked at open; the producer's: when it first
   * sees a consumer). They never change afterwards: a header that says otherwise later is EPROTO.
   */
  #peerPid = 0;
  #peerStart = 0;

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

  /**
   * @internal Use Channel.create or Channel.open. `header` holds the values create wrote or open validated: they
   * are not read from the segment again (another process could have changed them since).
   */
  constructor(
    token: symbol,
    role: ChannelRole,
    attachment: Attachment,
    spin: number,
    header: { capacity: number; head: number; tail: number; peerPid: number; peerStart: number },
  ) {
    if (token !== constructionToken) throw new TypeError('use Channel.create() or Channel.open(id)');
    this.role = role;
    this.id = attachment.shmid;
    this.#attachment = attachment;
    this.#spinPolicy = new SpinPolicy(spin);
    const buffer = attachment.buffer;
    this.#i32 = new Int32Array(buffer, 0, L.DATA_OFFSET / 4);
    this.#f64 = new Float64Array(buffer, 0, L.DATA_OFFSET / 8);
    this.capacity = header.capacity;
    this.maxMessageSize = this.capacity - L.RECORD_HEADER;
    this.#mask = this.capacity - 1;
    this.#u8 = new Uint8Array(buffer, L.DATA_OFFSET, this.capacity);
    this.#u32 = new Uint32Array(buffer, L.DATA_OFFSET, this.capacity / 4);
    this.#ringWords = new Int32Array(buffer, L.DATA_OFFSET, this.capacity / 4);
    this.#consumerBell = attachment.address + BigInt(L.OFF_CONSUMER_BELL);
    this.#producerBell = attachment.address + BigInt(L.OFF_PRODUCER_BELL);
    const { head, tail } = header;
    this.#head = head;
    this.#headSeen = head;
    this.#tail = tail;
    this.#tailSeen = tail;
    this.#peerPid = header.peerPid;
    this.#peerStart = header.peerStart;
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
    f64[P_START] = procStat('self')?.start ?? 0;
    i32[P_PID] = process.pid;
    Atomics.store(i32, L.i32(L.OFF_MAGIC), L.MAGIC | 0);
    return new Channel(constructionToken, 'producer', attachment, spin, { capacity, head: 0, tail: 0, peerPid: 0, peerStart: 0 });
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
    const size = attachment.size;
    if (size < L.DATA_OFFSET + L.MIN_CAPACITY) fail('EPROTO', `segment ${id} (${size} bytes) is too small to be a channel`);
    const i32 = new Int32Array(attachment.buffer, 0, L.DATA_OFFSET / 4);
    const f64 = new Float64Array(attachment.buffer, 0, L.DATA_OFFSET / 8);
    // Each header word is read once into a local; the checks and the new end use only these copies.
    const forged = (what: string): never => fail('EPROTO', `${what} (another process wrote into the channel's header?)`);
    // The creator stores the magic last (Atomics.store): loading it first makes the rest of its header visible.
    const magic = Atomics.load(i32, L.i32(L.OFF_MAGIC));
    if (magic !== (L.MAGIC | 0)) fail('EPROTO', `segment ${id} is not a channel (magic 0x${(magic >>> 0).toString(16)}, expected 0x${L.MAGIC.toString(16)})`);
    const version = i32[L.i32(L.OFF_VERSION)];
    if (version !== L.VERSION) fail('EPROTO', `segment ${id} holds channel format version ${version}; this library speaks version ${L.VERSION} only`);
    const capacity = i32[L.i32(L.OFF_CAPACITY)] >>> 0;
    if (capacity < L.MIN_CAPACITY || capacity > L.MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      forged(`the header's capacity is ${capacity}, not a power of two in [${L.MIN_CAPACITY}, ${L.MAX_CAPACITY}]`);
    }
    if (L.DATA_OFFSET + capacity > size) forged(`the header's capacity ${capacity} does not fit the segment (${size} bytes, ring at ${L.DATA_OFFSET})`);
    const dataOffset = i32[L.i32(L.OFF_DATA_OFFSET)];
    if (dataOffset !== L.DATA_OFFSET) forged(`the header's data offset is ${dataOffset}, expected ${L.DATA_OFFSET}`);
    const maxMessage = i32[L.i32(L.OFF_MAX_MESSAGE)] >>> 0;
    if (maxMessage !== capacity - L.RECORD_HEADER) forged(`the header's max message is ${maxMessage}, expected ${capacity - L.RECORD_HEADER} (capacity ${capacity} - ${L.RECORD_HEADER})`);
    // The producer: its pid must be the segment's creator (the kernel's shm_cpid, which no process can forge; 0
    // when the creator is outside this pid namespace) and alive. A dead producer is EPIPE, as after close().
    const producerPid = Atomics.load(i32, P_PID);
    const producerStart = f64[P_START];
    if (producerPid <= 0) forged(`the header's producer pid is ${producerPid}`);
    if (!validStart(producerStart)) forged(`the header's producer start time is ${producerStart}`);
    let creator: number;
    try {
      creator = shmctl(id, IPC_STAT).cpid;
    } catch (error) {
      shmdt(attachment);
      throw error;
    }
    if (creator !== 0 && creator !== producerPid) forged(`the header names pid ${producerPid} as the producer, but segment ${id} was created by pid ${creator}`);
    const producerClosed = Atomics.load(i32, P_CLOSED);
    if (producerClosed !== 0 && producerClosed !== 1) forged(`the header's producer-closed flag is ${producerClosed} (0 or 1)`);
    if (producerClosed === 1) fail('EPIPE', 'the producer has already closed this channel');
    if (!isAlive(producerPid, producerStart)) fail('EPIPE', `the producer (pid ${producerPid}) exited without closing the channel`);
    // The consumer's slot: free, and untouched, since only a consumer writes the consumer's words.
    const consumerPid = Atomics.load(i32, C_PID);
    if (consumerPid < 0) forged(`the header's consumer pid is ${consumerPid}`);
    if (consumerPid > 0) fail('EBUSY', `the channel already has a consumer (pid ${consumerPid}); a channel has exactly one consumer`);
    const consumerClosed = Atomics.load(i32, C_CLOSED);
    if (consumerClosed !== 0) forged(`the header's consumer-closed flag is ${consumerClosed} but no consumer has opened the channel`);
    const tail = Atomics.load(i32, TAIL);
    if (tail !== 0) forged(`tail is ${tail >>> 0} but no consumer has opened the channel (only the consumer writes it, starting from 0)`);
    // The producer may have sent before this open (that is fine): at most a ring's worth, in whole records.
    const head = Atomics.load(i32, HEAD);
    if ((head >>> 0) > capacity || (head & (L.RECORD_ALIGN - 1)) !== 0) {
      forged(`head is ${head >>> 0}, not a multiple of ${L.RECORD_ALIGN} within ${capacity} bytes (the capacity) of tail 0`);
    }
    const previous = Atomics.compareExchange(i32, C_PID, 0, process.pid);
    if (previous < 0) forged(`the header's consumer pid is ${previous}`);
    if (previous !== 0) fail('EBUSY', `the channel already has a consumer (pid ${previous}); a channel has exactly one consumer`);
    f64[C_START] = procStat('self')?.start ?? 0;
    return new Channel(constructionToken, 'consumer', attachment, spin, { capacity, head, tail, peerPid: producerPid, peerStart: producerStart });
  }

  /** True once close() was called on this end. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The pid of the other end (0 while no consumer has opened the channel). */
  get peerPid(): number {
    this.#assertOpen('peerPid');
    return this.#readPeer();
  }

  /**
   * Producer: the largest message that can be sent right now without waiting, or -1 when not even an empty one
   * fits (free space is counted with the wrap padding a record at the end of the ring would need).
   */
  get available(): number {
    this.#assertRole('available', 'producer');
    this.#assertOpen('available');
    this.#loadTail();
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
    const length = this.#nextOrWait('receive', options);
    if (length < 0) return null;
    return this.#take(length);
  }

  /** The next message if there is one now, else null (never waits). Throws 'EPIPE' when empty and the producer closed. */
  tryReceive(): Uint8Array | null {
    this.#checkConsumer('tryReceive');
    const length = this.#tryNext();
    if (length >= 0) return this.#take(length);
    if (this.#peerClosed()) {
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
    const length = this.#nextOrWait('receiveInto', options);
    if (length < 0) return null;
    const pos = this.#tail & this.#mask;
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
      const length = this.#tryNext();
      if (length >= 0) return this.#take(length);
    }
    const deadline = timeout === Infinity ? Infinity : performance.now() + timeout;
    let result: Uint8Array | null = null;
    await this.#serialized(async () => {
      this.#checkConsumer('receiveAsync', true);
      const length = await this.#nextAsync('receiveAsync', deadline);
      if (length >= 0) result = this.#take(length);
    });
    return result;
  }

  /**
   * Zero-copy receive: a view of the next message inside the ring (waiting like receive; null after timeoutMs).
   * The view stays valid until release(), which frees its room for the producer.
   */
  peek(options?: TimeoutOptions): Uint8Array | null {
    this.#checkConsumer('peek');
    const length = this.#nextOrWait('peek', options);
    if (length < 0) return null;
    this.#peekedLength = length;
    const start = (this.#tail & this.#mask) + L.RECORD_HEADER;
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
    this.#unusable = true;
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
    const closed = Atomics.load(this.#i32, C_CLOSED);
    if (closed !== 0) throw this.#closedError(fn, closed);
  }

  /** True when `bytes` more fit between the local head and the consumer's tail (re-reading the tail if needed). */
  #room(bytes: number): boolean {
    const capacity = this.capacity;
    if (((this.#head - this.#tailSeen) >>> 0) + bytes <= capacity) return true;
    return ((this.#head - this.#loadTail()) >>> 0) + bytes <= capacity;
  }

  /**
   * Reads the consumer's tail (once) and checks it: the consumer only moves it forward, in whole records, and
   * never past what was written. So it lies between the tail seen last and the local head (which is within
   * `capacity` of it), and is a multiple of 8.
   */
  #loadTail(): number {
    const tail = Atomics.load(this.#i32, TAIL);
    const head = this.#head;
    if (((head - tail) >>> 0) > ((head - this.#tailSeen) >>> 0) || (tail & (L.RECORD_ALIGN - 1)) !== 0) {
      throw this.#corrupt(
        `tail is ${tail >>> 0}; the consumer's tail only moves forward in multiples of ${L.RECORD_ALIGN}, from ${this.#tailSeen >>> 0} (seen last) to at most ${head >>> 0} (the head)`,
      );
    }
    this.#tailSeen = tail;
    return tail;
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
    let checkAt = started + SLICE_MS;
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
      checkAt = this.#afterSleep(fn, result, checkAt);
    }
  }

  async #acquireAsync(fn: string, record: number, deadline: number): Promise<number> {
    const i32 = this.#i32;
    let checkAt = performance.now() + SLICE_MS;
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
      checkAt = this.#afterSleep(fn, result, checkAt);
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

  /**
   * The length of the next record, or -1 when the ring is empty. The record starts at ring offset
   * `this.#tail & this.#mask`. Its length word is read once, checked against the ring and the published head, and
   * that copy is what the caller copies or views: a peer that changes the word afterwards changes nothing.
   * Skips at most one wrap marker: the record after a marker starts at offset 0, where no marker can be.
   */
  #tryNext(): number {
    let tail = this.#tail;
    if (tail === this.#headSeen && !this.#refreshHead()) return -1;
    let pos = tail & this.#mask;
    let length = this.#u32[pos >> 2];
    if (length === L.WRAP_MARKER) {
      // The marker pads to the end of the ring, and the producer counts that padding as published with it.
      const skip = this.capacity - pos;
      const published = (this.#headSeen - tail) >>> 0;
      if (pos === 0) throw this.#corrupt(`a wrap marker at ring offset 0 (tail ${tail >>> 0}): a record always fits there`);
      if (skip > published) throw this.#corrupt(`a wrap marker at ring offset ${pos} skips ${skip} bytes, but only ${published} are published (tail ${tail >>> 0}, head ${this.#headSeen >>> 0})`);
      tail = this.#tail = (tail + skip) | 0;
      this.#publishTail();
      if (tail === this.#headSeen && !this.#refreshHead()) return -1;
      pos = 0;
      length = this.#u32[0];
      if (length === L.WRAP_MARKER) throw this.#corrupt(`two wrap markers in a row (ring offsets ${this.capacity - skip} and 0)`);
    }
    // The first test bounds the length (so that recordSize cannot overflow): a record never crosses the end of the ring.
    if (length > this.capacity - L.RECORD_HEADER - pos) {
      throw this.#corrupt(`a record of ${length} bytes at ring offset ${pos} does not fit before the end of the ring (capacity ${this.capacity})`);
    }
    if (L.recordSize(length) > ((this.#headSeen - tail) >>> 0)) {
      throw this.#corrupt(
        `a record of ${length} bytes (${L.recordSize(length)} with header and padding) at ring offset ${pos}, but only ${(this.#headSeen - tail) >>> 0} bytes are published (tail ${tail >>> 0}, head ${this.#headSeen >>> 0})`,
      );
    }
    return length;
  }

  /** Reads the producer's head (once); false when it equals the local tail (nothing new), else records it. */
  #refreshHead(): boolean {
    const head = Atomics.load(this.#i32, HEAD);
    if (head === this.#tail) return false;
    this.#seeHead(head);
    return true;
  }

  /** Records a head read from the header after checking it: within `capacity` bytes ahead of the tail, whole records. */
  #seeHead(head: number): void {
    const tail = this.#tail;
    if (((head - tail) >>> 0) > this.capacity || (head & (L.RECORD_ALIGN - 1)) !== 0) {
      throw this.#corrupt(`head is ${head >>> 0}, not a multiple of ${L.RECORD_ALIGN} within ${this.capacity} bytes (the capacity) ahead of tail ${tail >>> 0}`);
    }
    this.#headSeen = head;
  }

  /** Copies out the record at the tail, whose length #tryNext checked, and releases it. */
  #take(length: number): Uint8Array {
    const start = (this.#tail & this.#mask) + L.RECORD_HEADER;
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

  /** Length of the next record (see #tryNext): at once if there is one, else after waiting (-1 after the timeout). */
  #nextOrWait(fn: string, options: TimeoutOptions | undefined): number {
    const timeout = checkTimeout(fn, options); // checked even when no wait is needed
    const length = this.#tryNext();
    return length >= 0 ? length : this.#next(fn, timeout);
  }

  /** Waits for a message: spin, then sliced futex sleeps. Returns its length, -1 on timeout; throws EPIPE. */
  #next(fn: string, timeout: number): number {
    const i32 = this.#i32;
    const policy = this.#spinPolicy;
    const spun = timeout > 0 ? policy.next() : 0;
    let tail = this.#tail;
    for (let i = spun; i > 0; i--) {
      const head = Atomics.load(i32, HEAD);
      if (head !== tail) {
        this.#seeHead(head); // checked here, so that #tryNext does not read it again
        const length = this.#tryNext();
        if (length >= 0) {
          policy.spun();
          return length;
        }
        tail = this.#tail; // moved past a wrap marker
      }
      if ((i & (SPIN_CHECK_EVERY - 1)) === 0 && !policy.keepSpinning()) break;
    }
    const started = performance.now();
    const deadline = timeout === Infinity ? Infinity : started + timeout;
    let checkAt = started + SLICE_MS;
    for (let slept = false; ; slept = true) {
      const bell = Atomics.load(i32, C_BELL);
      Atomics.store(i32, C_WAITING, 1);
      const length = this.#tryNext();
      if (length >= 0) {
        Atomics.store(i32, C_WAITING, 0);
        if (slept) this.#spinPolicy.slept(spun, started, performance.now() - started);
        return length;
      }
      const left = this.#beforeSleep(fn, deadline, C_WAITING);
      if (left <= 0) return -1;
      const result = futexWaitAt(this.#consumerBell, bell, Math.min(left, SLICE_MS));
      Atomics.store(i32, C_WAITING, 0);
      checkAt = this.#afterSleep(fn, result, checkAt);
    }
  }

  async #nextAsync(fn: string, deadline: number): Promise<number> {
    const i32 = this.#i32;
    let checkAt = performance.now() + SLICE_MS;
    for (;;) {
      const bell = Atomics.load(i32, C_BELL);
      Atomics.store(i32, C_WAITING, 1);
      const length = this.#tryNext();
      if (length >= 0) {
        Atomics.store(i32, C_WAITING, 0);
        return length;
      }
      const left = this.#beforeSleep(fn, deadline, C_WAITING);
      if (left <= 0) return -1;
      const result = await futexWaitAtAsync(this.#consumerBell, bell, Math.min(left, SLICE_MS));
      this.#assertOpen(fn);
      Atomics.store(i32, C_WAITING, 0);
      checkAt = this.#afterSleep(fn, result, checkAt);
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
    const closed = Atomics.load(i32, this.role === 'producer' ? C_CLOSED : P_CLOSED);
    if (closed !== 0) {
      Atomics.store(i32, waiting, 0);
      throw this.#closedError(fn, closed);
    }
    // Publish this end's counter again (it has not changed): if another process overwrote it, the peer could
    // wait for this end while this end waits for the peer. Costs one store per sleep, nothing on the fast path.
    if (this.role === 'producer') Atomics.store(i32, HEAD, this.#head);
    else Atomics.store(i32, TAIL, this.#tail);
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

  /**
   * Checks the peer after a sleep whose slice expired, and at least once per slice of waiting whatever the futex
   * said (a bell that another process keeps ringing must not hide a dead peer). Returns when to check next.
   */
  #afterSleep(fn: string, result: string, checkAt: number): number {
    if (result !== 'timed-out' && performance.now() < checkAt) return checkAt;
    this.#checkPeerAlive(fn);
    return performance.now() + SLICE_MS;
  }

  /** Throws EPIPE when the peer's process is gone (exited or killed without close()). */
  #checkPeerAlive(fn: string): void {
    const producer = this.role === 'producer';
    const pid = this.#readPeer();
    if (pid === 0 || isAlive(pid, this.#peerStart)) return; // 0: no consumer has opened the channel yet
    if (!producer) {
      // Everything the producer published before it died is still delivered.
      if (this.#tryNext() >= 0) return;
    }
    throw this.#peerGone(fn, `the ${producer ? 'consumer' : 'producer'} (pid ${pid}) exited without closing the channel`);
  }

  /**
   * The peer's pid from the header (0: no consumer yet, producer end only), checked against what this end saw
   * before: a peer's pid and start time are written once (the consumer's start time just after its pid), so a
   * different value later, a pid <= 0 where a peer was seen, or a start time that is not one, is EPROTO.
   */
  #readPeer(): number {
    const producer = this.role === 'producer';
    const pid = Atomics.load(this.#i32, producer ? C_PID : P_PID);
    const start = this.#f64[producer ? C_START : P_START];
    const known = this.#peerPid;
    const peer = producer ? 'consumer' : 'producer';
    // Producer, no consumer seen yet: 0 means none opened, unless the tail moved (only a consumer moves it).
    if (pid === 0 && known === 0 && this.#tailSeen === 0) return 0;
    if (pid <= 0 || (known !== 0 && pid !== known)) {
      throw this.#corrupt(`the ${peer} pid in the header is ${pid}${known !== 0 ? `, but it was ${known}` : ''}`);
    }
    if (!validStart(start) || (this.#peerStart !== 0 && start !== this.#peerStart)) {
      throw this.#corrupt(`the ${peer} start time in the header is ${start}${this.#peerStart !== 0 ? `, but it was ${this.#peerStart}` : ''}`);
    }
    this.#peerPid = pid;
    this.#peerStart = start;
    return pid;
  }

  /** Whether the peer closed its end (its flag read once: 0 or 1, anything else is EPROTO). */
  #peerClosed(): boolean {
    const closed = Atomics.load(this.#i32, this.role === 'producer' ? C_CLOSED : P_CLOSED);
    if (closed === 0) return false;
    if (closed !== 1) throw this.#closedError('channel', closed);
    return true;
  }

  /** The error for a peer's closed flag read as `closed` (not 0): EPIPE for 1, EPROTO for anything else. */
  #closedError(fn: string, closed: number): ShmError {
    const peer = this.role === 'producer' ? 'consumer' : 'producer';
    if (closed !== 1) return this.#corrupt(`the ${peer}-closed flag in the header is ${closed} (0 or 1)`);
    return this.#peerGone(fn, `the ${peer} closed the channel`);
  }

  #peerGone(fn: string, why: string): ShmError {
    return usageError('EPIPE', fn, `${fn}: ${why}; nothing more can ${this.role === 'producer' ? 'be received from' : 'arrive on'} channel ${this.id}`, {
      shmid: this.id,
    });
  }

  /**
   * EPROTO: the shared memory is inconsistent, so a buggy or hostile process wrote into it. Final for this end:
   * every later call repeats it (nothing it reads can be trusted any more); close() still works.
   */
  #corrupt(what: string): ShmError {
    if (this.#corruption === undefined) this.#corruption = what;
    this.#unusable = true;
    return usageError(
      'EPROTO',
      'channel',
      `channel ${this.id} is corrupted: ${what}. Another process wrote into the channel's shared memory (a buggy peer, or any process of this user); this ${this.role} end can only be closed now`,
      { shmid: this.id },
    );
  }

  #busy(fn: string): ShmError {
    return usageError('ERR_CHANNEL_BUSY', fn, `${fn}: an async operation on this end is still pending; await it first (or use the async variant, which queues)`, {
      shmid: this.id,
    });
  }

  #assertOpen(fn: string): void {
    if (this.#unusable) {
      if (this.#closed) throw usageError('ERR_CHANNEL_CLOSED', fn, `${fn}: this ${this.role} end of channel ${this.id} is closed`, { shmid: this.id });
      throw usageError('EPROTO', fn, `${fn}: channel ${this.id} was found corrupted earlier (${this.#corruption}); this ${this.role} end can only be closed now`, {
        shmid: this.id,
      });
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
