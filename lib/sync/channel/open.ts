// Making the two ends: Channel.create writes a new header, Channel.open checks a whole header it did not write.
//
// Lifetime: the segment is created with IPC_PRIVATE, attached, and marked IPC_RMID at once. Linux lets a marked
// segment be attached by id while it still has an attachment, so Channel.open(id) works as long as the producer
// is alive (attached), and the kernel destroys the segment at the last detach or exit, whatever happens.
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, IPC_STAT, ShmError, shmat, shmctl, shmdt, shmget, stateError, type Attachment } from '../../c/index.js';
import { checkSpin } from '../../common/arguments.js';
import * as L from '../ring-layout.js';
import { SpinPolicy } from '../spin-policy.js';
import { DEFAULT_SPIN, type ChannelCreateOptions, type ChannelOpenOptions, type EndParts } from './end.js';
import { CONSUMER, Header, PRODUCER } from './header.js';
import { Liveness, isAlive, ownStartTime, validStart } from './liveness.js';

const DEFAULT_CAPACITY = 1 << 20;
const HEAD = L.i32(L.OFF_HEAD);
const TAIL = L.i32(L.OFF_TAIL);

/** A C-layer error raised while `operation` ran: the same error, named after the API call, wrapping the original. */
function during(operation: string, error: unknown, advice = ''): unknown {
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

/** Creates the segment and its header; the parts of the producer end. */
export function createChannel(options: ChannelCreateOptions): EndParts {
  const op = 'Channel.create';
  const requested = options.capacity ?? DEFAULT_CAPACITY;
  if (typeof requested !== 'number') throw new TypeError(`${op}: capacity must be a number of bytes, got ${typeof requested}`);
  if (!Number.isInteger(requested) || requested < 1 || requested > L.MAX_CAPACITY) {
    throw new RangeError(`${op}: capacity must be an integer in [1, ${L.MAX_CAPACITY}], got ${requested}`);
  }
  const mode = options.mode ?? 0o600;
  if (typeof mode !== 'number') throw new TypeError(`${op}: mode must be permission bits (a number), got ${typeof mode}`);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new RangeError(`${op}: mode must be permission bits (0..0o777), got ${mode}`);
  const spin = checkSpin(op, options.spin, DEFAULT_SPIN);
  const capacity = L.ringCapacity(requested);
  let attachment: Attachment;
  try {
    const id = shmget(IPC_PRIVATE, L.DATA_OFFSET + capacity, IPC_CREAT | mode);
    try {
      attachment = shmat(id);
    } finally {
      // Marked at once: from here on the kernel removes the segment with its last attachment, even after SIGKILL.
      shmctl(id, IPC_RMID);
    }
  } catch (error) {
    throw during(op, error);
  }
  const header = new Header(attachment, capacity, PRODUCER, CONSUMER);
  const { i32, f64 } = header;
  i32[L.i32(L.OFF_VERSION)] = L.VERSION;
  i32[L.i32(L.OFF_CAPACITY)] = capacity;
  i32[L.i32(L.OFF_DATA_OFFSET)] = L.DATA_OFFSET;
  i32[L.i32(L.OFF_MAX_MESSAGE)] = capacity - L.RECORD_HEADER;
  f64[PRODUCER.start] = ownStartTime();
  i32[PRODUCER.pid] = process.pid;
  // Stored last: a consumer that loads the magic first sees the rest of the header.
  Atomics.store(i32, L.i32(L.OFF_MAGIC), L.MAGIC | 0);
  return { header, liveness: new Liveness(header, 0, 0), policy: new SpinPolicy(spin), head: 0 };
}

/** Attaches the channel `id`, checks its whole header and claims the consumer's slot; the parts of the consumer end. */
export function openChannel(id: number, options: ChannelOpenOptions): EndParts {
  const op = 'Channel.open';
  if (typeof id !== 'number') throw new TypeError(`${op}: id must be a shmid (an integer >= 0), got ${typeof id}`);
  if (!Number.isInteger(id) || id < 0) throw new RangeError(`${op}: id must be a shmid (an integer >= 0), got ${id}`);
  const spin = checkSpin(op, options.spin, DEFAULT_SPIN);
  let attachment: Attachment;
  let creator: number;
  try {
    attachment = shmat(id);
  } catch (error) {
    const gone = error instanceof ShmError && (error.code === 'EINVAL' || error.code === 'EIDRM');
    throw during(
      op,
      error,
      gone ? `. A channel's segment lives only while one of its ends is attached: Channel.open(${id}) must happen while the producer is alive` : '',
    );
  }
  try {
    // The kernel's creator pid, which no process can forge (0: the creator is outside this pid namespace).
    creator = shmctl(id, IPC_STAT).cpid;
    const { capacity, head, producerPid, producerStart } = readHeader(attachment, creator, op);
    const header = new Header(attachment, capacity, CONSUMER, PRODUCER);
    const previous = Atomics.compareExchange(header.i32, CONSUMER.pid, 0, process.pid);
    if (previous < 0) throw forged(op, id, `the header's consumer pid is ${previous}`);
    if (previous !== 0) throw busy(op, id, previous);
    header.f64[CONSUMER.start] = ownStartTime();
    return { header, liveness: new Liveness(header, producerPid, producerStart), policy: new SpinPolicy(spin), head };
  } catch (error) {
    shmdt(attachment);
    throw during(op, error);
  }
}

function refused(code: string, op: string, id: number, message: string): ShmError {
  return stateError(code, op, `${op}(${id}): ${message}`, { shmid: id });
}

function forged(op: string, id: number, what: string): ShmError {
  return refused('EPROTO', op, id, `${what} (another process wrote into the channel's header?)`);
}

function busy(op: string, id: number, pid: number): ShmError {
  return refused('EBUSY', op, id, `the channel already has a consumer (pid ${pid}); a channel has exactly one consumer`);
}

/**
 * Checks the whole header of a segment that should be a channel whose producer is alive and whose consumer slot
 * is free, reading each word once: the new end uses only these copies (another process could change the words).
 */
function readHeader(attachment: Attachment, creator: number, op: string): { capacity: number; head: number; producerPid: number; producerStart: number } {
  const id = attachment.shmid;
  const size = attachment.size;
  if (size < L.DATA_OFFSET + L.MIN_CAPACITY) throw refused('EPROTO', op, id, `segment ${id} (${size} bytes) is too small to be a channel`);
  const i32 = new Int32Array(attachment.buffer, 0, L.DATA_OFFSET / 4);
  const f64 = new Float64Array(attachment.buffer, 0, L.DATA_OFFSET / 8);
  // The creator stores the magic last (Atomics.store): loading it first makes the rest of its header visible.
  const magic = Atomics.load(i32, L.i32(L.OFF_MAGIC));
  if (magic !== (L.MAGIC | 0)) {
    throw refused('EPROTO', op, id, `segment ${id} is not a channel (magic 0x${(magic >>> 0).toString(16)}, expected 0x${L.MAGIC.toString(16)})`);
  }
  const version = i32[L.i32(L.OFF_VERSION)];
  if (version !== L.VERSION)
    throw refused('EPROTO', op, id, `segment ${id} holds channel format version ${version}; this library speaks version ${L.VERSION} only`);
  const capacity = i32[L.i32(L.OFF_CAPACITY)] >>> 0;
  if (capacity < L.MIN_CAPACITY || capacity > L.MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw forged(op, id, `the header's capacity is ${capacity}, not a power of two in [${L.MIN_CAPACITY}, ${L.MAX_CAPACITY}]`);
  }
  if (L.DATA_OFFSET + capacity > size)
    throw forged(op, id, `the header's capacity ${capacity} does not fit the segment (${size} bytes, ring at ${L.DATA_OFFSET})`);
  const dataOffset = i32[L.i32(L.OFF_DATA_OFFSET)];
  if (dataOffset !== L.DATA_OFFSET) throw forged(op, id, `the header's data offset is ${dataOffset}, expected ${L.DATA_OFFSET}`);
  const maxMessage = i32[L.i32(L.OFF_MAX_MESSAGE)] >>> 0;
  if (maxMessage !== capacity - L.RECORD_HEADER) {
    throw forged(op, id, `the header's max message is ${maxMessage}, expected ${capacity - L.RECORD_HEADER} (capacity ${capacity} - ${L.RECORD_HEADER})`);
  }
  // The producer: the segment's creator, and alive. A dead producer is EPIPE, as after close().
  const producerPid = Atomics.load(i32, PRODUCER.pid);
  const producerStart = f64[PRODUCER.start];
  if (producerPid <= 0) throw forged(op, id, `the header's producer pid is ${producerPid}`);
  if (!validStart(producerStart)) throw forged(op, id, `the header's producer start time is ${producerStart}`);
  if (creator !== 0 && creator !== producerPid)
    throw forged(op, id, `the header names pid ${producerPid} as the producer, but segment ${id} was created by pid ${creator}`);
  const producerClosed = Atomics.load(i32, PRODUCER.closed);
  if (producerClosed !== 0 && producerClosed !== 1) throw forged(op, id, `the header's producer-closed flag is ${producerClosed} (0 or 1)`);
  if (producerClosed === 1) throw refused('EPIPE', op, id, 'the producer has already closed this channel');
  if (!isAlive(producerPid, producerStart)) throw refused('EPIPE', op, id, `the producer (pid ${producerPid}) exited without closing the channel`);
  // The consumer's slot: free, and untouched, since only a consumer writes the consumer's words.
  const consumerPid = Atomics.load(i32, CONSUMER.pid);
  if (consumerPid < 0) throw forged(op, id, `the header's consumer pid is ${consumerPid}`);
  if (consumerPid > 0) throw busy(op, id, consumerPid);
  const consumerClosed = Atomics.load(i32, CONSUMER.closed);
  if (consumerClosed !== 0) throw forged(op, id, `the header's consumer-closed flag is ${consumerClosed} but no consumer has opened the channel`);
  const tail = Atomics.load(i32, TAIL);
  if (tail !== 0) throw forged(op, id, `tail is ${tail >>> 0} but no consumer has opened the channel (only the consumer writes it, starting from 0)`);
  // The producer may have sent before this open (that is fine): at most a ring's worth, in whole records.
  const head = Atomics.load(i32, HEAD);
  if (head >>> 0 > capacity || (head & (L.RECORD_ALIGN - 1)) !== 0) {
    throw forged(op, id, `head is ${head >>> 0}, not a multiple of ${L.RECORD_ALIGN} within ${capacity} bytes (the capacity) of tail 0`);
  }
  return { capacity, head, producerPid, producerStart };
}
