// Making the two ends: Channel.create writes a new header, Channel.open checks a whole header it did not write.
//
// Lifetime: the segment is created with IPC_PRIVATE, attached, and marked IPC_RMID at once. Linux lets a marked
// segment be attached by id while it still has an attachment, so Channel.open(id) works as long as the producer
// is alive (attached), and the kernel destroys the segment at the last detach or exit, whatever happens.
import { shmdt, type Attachment, type ShmError } from '../../c/index.js';
import { checkSpin } from '../../common/arguments.js';
import * as L from '../ring-layout.js';
import { SpinPolicy } from '../spin-policy.js';
import { DEFAULT_SPIN, type ChannelCreateOptions, type ChannelOpenOptions, type EndParts } from './end.js';
import { CONSUMER, Header, PRODUCER, channelPlacement } from './header.js';
import { Liveness, ownStartTime } from './liveness.js';
import {
  attachById,
  checkCapacity,
  checkId,
  checkMagic,
  checkOwner,
  checkRingCapacity,
  checkSegmentMode,
  createMarkedSegment,
  during,
  forged,
  refused,
} from './segment.js';

const DEFAULT_CAPACITY = 1 << 20;
const KIND = 'channel';
const HEAD = L.i32(L.OFF_HEAD);
const TAIL = L.i32(L.OFF_TAIL);

/** Creates the segment and its header; the parts of the producer end. */
export function createChannel(options: ChannelCreateOptions): EndParts {
  const op = 'Channel.create';
  const capacity = checkCapacity(op, options.capacity, DEFAULT_CAPACITY);
  const mode = checkSegmentMode(op, options.mode);
  const spin = checkSpin(op, options.spin, DEFAULT_SPIN);
  const attachment = createMarkedSegment(op, L.DATA_OFFSET + capacity, mode);
  const header = new Header(attachment, channelPlacement(capacity), PRODUCER, CONSUMER);
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
  checkId(op, id);
  const spin = checkSpin(op, options.spin, DEFAULT_SPIN);
  const { attachment, creator } = attachById(
    op,
    id,
    `A channel's segment lives only while one of its ends is attached: Channel.open(${id}) must happen while the producer is alive`,
  );
  try {
    const { capacity, head, producerPid, producerStart } = readHeader(attachment, creator, op);
    const header = new Header(attachment, channelPlacement(capacity), CONSUMER, PRODUCER);
    const previous = Atomics.compareExchange(header.i32, CONSUMER.pid, 0, process.pid);
    if (previous < 0) throw forged(op, id, KIND, `the header's consumer pid is ${previous}`);
    if (previous !== 0) throw busy(op, id, previous);
    header.f64[CONSUMER.start] = ownStartTime();
    return { header, liveness: new Liveness(header, producerPid, producerStart), policy: new SpinPolicy(spin), head };
  } catch (error) {
    shmdt(attachment);
    throw during(op, error);
  }
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
  checkMagic(op, id, KIND, Atomics.load(i32, L.i32(L.OFF_MAGIC)), L.MAGIC, i32[L.i32(L.OFF_VERSION)], L.VERSION);
  const capacity = i32[L.i32(L.OFF_CAPACITY)] >>> 0;
  checkRingCapacity(op, id, KIND, capacity);
  if (L.DATA_OFFSET + capacity > size)
    throw forged(op, id, KIND, `the header's capacity ${capacity} does not fit the segment (${size} bytes, ring at ${L.DATA_OFFSET})`);
  const dataOffset = i32[L.i32(L.OFF_DATA_OFFSET)];
  if (dataOffset !== L.DATA_OFFSET) throw forged(op, id, KIND, `the header's data offset is ${dataOffset}, expected ${L.DATA_OFFSET}`);
  const maxMessage = i32[L.i32(L.OFF_MAX_MESSAGE)] >>> 0;
  if (maxMessage !== capacity - L.RECORD_HEADER) {
    throw forged(op, id, KIND, `the header's max message is ${maxMessage}, expected ${capacity - L.RECORD_HEADER} (capacity ${capacity} - ${L.RECORD_HEADER})`);
  }
  // The producer: the segment's creator, and alive. A dead producer is EPIPE, as after close().
  const producerPid = Atomics.load(i32, PRODUCER.pid);
  const producerStart = f64[PRODUCER.start];
  checkOwner(op, id, KIND, creator, { role: 'producer', pid: producerPid, start: producerStart, closed: Atomics.load(i32, PRODUCER.closed) });
  // The consumer's slot: free, and untouched, since only a consumer writes the consumer's words.
  const consumerPid = Atomics.load(i32, CONSUMER.pid);
  if (consumerPid < 0) throw forged(op, id, KIND, `the header's consumer pid is ${consumerPid}`);
  if (consumerPid > 0) throw busy(op, id, consumerPid);
  const consumerClosed = Atomics.load(i32, CONSUMER.closed);
  if (consumerClosed !== 0) throw forged(op, id, KIND, `the header's consumer-closed flag is ${consumerClosed} but no consumer has opened the channel`);
  const tail = Atomics.load(i32, TAIL);
  if (tail !== 0) throw forged(op, id, KIND, `tail is ${tail >>> 0} but no consumer has opened the channel (only the consumer writes it, starting from 0)`);
  // The producer may have sent before this open (that is fine): at most a ring's worth, in whole records.
  const head = Atomics.load(i32, HEAD);
  if (head >>> 0 > capacity || (head & (L.RECORD_ALIGN - 1)) !== 0) {
    throw forged(op, id, KIND, `head is ${head >>> 0}, not a multiple of ${L.RECORD_ALIGN} within ${capacity} bytes (the capacity) of tail 0`);
  }
  return { capacity, head, producerPid, producerStart };
}
