// Making the two kinds of end: Topic.create writes a new header, Topic.subscribe checks a whole header it did not
// write (each word read once), then claims a slot and asks to join.
//
// Lifetime, as for a channel: the segment is created IPC_PRIVATE, attached, and marked IPC_RMID at once; others
// attach it by id while anybody is still attached; the kernel destroys it at the last detach, whatever is killed.
import { shmdt, type Attachment } from '../../c/index.js';
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
  optionsObject,
  refused,
} from '../channel/segment.js';
import { checkSpin } from '../../common/arguments.js';
import { DEFAULT_SPIN } from '../channel/end.js';
import { Header } from '../channel/header.js';
import { Liveness, ownStartTime } from '../channel/liveness.js';
import * as L from '../ring-layout.js';
import { SpinPolicy } from '../spin-policy.js';
import * as T from './layout.js';
import type { SubscriberParts } from './reader.js';
import { PUBLISHER, freeSlot, reclaimable, slotWord, subscriberSide, topicPlacement } from './slots.js';

const DEFAULT_CAPACITY = 1 << 20;
const DEFAULT_SUBSCRIBERS = 16;
const KIND = 'topic';

export type TopicPolicy = 'block' | 'drop';

export interface TopicCreateOptions {
  /** Ring size in bytes, rounded up to a power of two (at least 64, at most 2^30). Default 1 MiB. */
  capacity?: number;
  /** How many subscribers may be subscribed at once (1..1024). Default 16. */
  subscribers?: number;
  /**
   * What a slow subscriber costs. 'block' (default): the publisher waits for the slowest live subscriber. 'drop':
   * the publisher never waits; a subscriber that falls a ring behind loses the oldest messages (`lost` counts them).
   */
  policy?: TopicPolicy;
  /** Permission bits of the segment (default 0o600: only this user may subscribe). */
  mode?: number;
  /** Spin iterations before sleeping in the kernel (default 4000); 0 sleeps at once. */
  spin?: number;
}

export interface TopicSubscribeOptions {
  /** Spin iterations before sleeping in the kernel (default 4000); 0 sleeps at once. */
  spin?: number;
}

/** What Topic.create hands to the publisher. */
export interface PublisherParts {
  readonly header: Header;
  readonly attachment: Attachment;
  readonly policy: SpinPolicy;
  readonly drop: boolean;
  readonly slots: number;
}

function integerOption(op: string, name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${value === null ? 'null' : typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${op}: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  return value;
}

/** Creates the segment and its header; the publisher's parts. */
export function createTopic(given: TopicCreateOptions | undefined): PublisherParts {
  const op = 'Topic.create';
  const options = optionsObject(op, given);
  const capacity = checkCapacity(op, options.capacity, DEFAULT_CAPACITY);
  const slots = integerOption(op, 'subscribers', options.subscribers, DEFAULT_SUBSCRIBERS, 1, T.MAX_SLOTS);
  const policyName = options.policy ?? 'block';
  if (typeof policyName !== 'string') throw new TypeError(`${op}: policy must be 'block' or 'drop', got ${typeof policyName}`);
  if (policyName !== 'block' && policyName !== 'drop') throw new RangeError(`${op}: policy must be 'block' or 'drop', got ${JSON.stringify(policyName)}`);
  const mode = checkSegmentMode(op, options.mode);
  const spin = checkSpin(op, options.spin, DEFAULT_SPIN);
  const dataOffset = T.dataOffset(slots);
  const attachment = createMarkedSegment(op, dataOffset + capacity, mode);
  const header = new Header(attachment, topicPlacement(capacity, slots, 0), PUBLISHER, subscriberSide(0));
  const { i32, f64 } = header;
  i32[T.i32(T.OFF_VERSION)] = T.VERSION;
  i32[T.i32(T.OFF_CAPACITY)] = capacity;
  i32[T.i32(T.OFF_DATA_OFFSET)] = dataOffset;
  i32[T.i32(T.OFF_MAX_MESSAGE)] = capacity - L.RECORD_HEADER;
  i32[T.i32(T.OFF_SLOTS)] = slots;
  const drop = policyName === 'drop';
  i32[T.i32(T.OFF_POLICY)] = drop ? T.POLICY_DROP : T.POLICY_BLOCK;
  f64[PUBLISHER.start] = ownStartTime();
  i32[PUBLISHER.pid] = process.pid;
  // Stored last: a subscriber that loads the magic first sees the rest of the header.
  Atomics.store(i32, T.i32(T.OFF_MAGIC), T.MAGIC | 0);
  return { header, attachment, policy: new SpinPolicy(spin), drop, slots };
}

interface Checked {
  capacity: number;
  slots: number;
  drop: boolean;
  publisherPid: number;
  publisherStart: number;
}

/**
 * Checks the whole header of a segment that should be a topic whose publisher is alive, reading each word once:
 * the new subscriber uses only these copies (another process could change the words).
 */
function readHeader(attachment: Attachment, creator: number, op: string): Checked {
  const id = attachment.shmid;
  const size = attachment.size;
  if (size < T.dataOffset(1) + L.MIN_CAPACITY) throw refused('EPROTO', op, id, `segment ${id} (${size} bytes) is too small to be a topic`);
  const i32 = new Int32Array(attachment.buffer, 0, T.SLOTS_OFFSET / 4);
  const f64 = new Float64Array(attachment.buffer, 0, T.SLOTS_OFFSET / 8);
  checkMagic(op, id, KIND, Atomics.load(i32, T.i32(T.OFF_MAGIC)), T.MAGIC, i32[T.i32(T.OFF_VERSION)], T.VERSION);
  const capacity = i32[T.i32(T.OFF_CAPACITY)] >>> 0;
  checkRingCapacity(op, id, KIND, capacity);
  const slots = i32[T.i32(T.OFF_SLOTS)];
  if (slots < 1 || slots > T.MAX_SLOTS) throw forged(op, id, KIND, `the header's subscriber slots are ${slots}, not in [1, ${T.MAX_SLOTS}]`);
  const dataOffset = i32[T.i32(T.OFF_DATA_OFFSET)];
  if (dataOffset !== T.dataOffset(slots))
    throw forged(op, id, KIND, `the header's data offset is ${dataOffset}, expected ${T.dataOffset(slots)} for ${slots} slots`);
  if (dataOffset + capacity > size)
    throw forged(op, id, KIND, `the header's capacity ${capacity} does not fit the segment (${size} bytes, ring at ${dataOffset})`);
  const maxMessage = i32[T.i32(T.OFF_MAX_MESSAGE)] >>> 0;
  if (maxMessage !== capacity - L.RECORD_HEADER)
    throw forged(op, id, KIND, `the header's max message is ${maxMessage}, expected ${capacity - L.RECORD_HEADER}`);
  const policy = i32[T.i32(T.OFF_POLICY)];
  if (policy !== T.POLICY_BLOCK && policy !== T.POLICY_DROP) throw forged(op, id, KIND, `the header's policy is ${policy} (1 block, 2 drop)`);
  const publisherPid = Atomics.load(i32, PUBLISHER.pid);
  const publisherStart = f64[PUBLISHER.start];
  checkOwner(op, id, KIND, creator, { role: 'publisher', pid: publisherPid, start: publisherStart, closed: Atomics.load(i32, PUBLISHER.closed) });
  // 'drop': OLDEST lies within the capacity behind HEAD at every instant (checked when HEAD did not move meanwhile).
  // 'block': OLDEST is not used and stays 0.
  const head = Atomics.load(i32, T.i32(T.OFF_HEAD));
  const oldest = Atomics.load(i32, T.i32(T.OFF_OLDEST));
  const still = Atomics.load(i32, T.i32(T.OFF_HEAD)) === head;
  const apart = policy === T.POLICY_BLOCK ? oldest !== 0 : still && (head - oldest) >>> 0 > capacity;
  if (((head | oldest) & (L.RECORD_ALIGN - 1)) !== 0 || apart) {
    throw forged(
      op,
      id,
      KIND,
      `head ${head >>> 0} and oldest ${oldest >>> 0} are not multiples of 8 with oldest within the capacity behind head ('drop') or 0 ('block')`,
    );
  }
  return { capacity, slots, drop: policy === T.POLICY_DROP, publisherPid, publisherStart };
}

/**
 * A free slot, claimed (PID 0 -> own pid): first the free ones, then the ones whose subscriber closed or died
 * (freed here). -1 when every slot holds a live subscriber.
 */
function claimSlot(i32: Int32Array, f64: Float64Array, slots: number): number {
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < slots; k++) {
      const word = slotWord(k, T.SLOT_PID);
      const pid = Atomics.load(i32, word);
      const epoch = Atomics.load(i32, slotWord(k, T.SLOT_EPOCH));
      if (pid !== 0 && (pass === 0 || !reclaimable(i32, f64, k, pid) || !freeSlot(i32, f64, k, pid, pid > 0 ? epoch : undefined))) continue;
      if (Atomics.compareExchange(i32, word, 0, process.pid) === 0) return k;
    }
  }
  return -1;
}

/** Attaches the topic `id`, checks its header, claims a slot and asks the publisher to join it; the subscriber's parts. */
export function subscribeTopic(id: number, given: TopicSubscribeOptions | undefined): SubscriberParts {
  const op = 'Topic.subscribe';
  checkId(op, id);
  const options = optionsObject(op, given);
  const spin = checkSpin(op, options.spin, DEFAULT_SPIN);
  const { attachment, creator } = attachById(
    op,
    id,
    `A topic's segment lives only while one of its ends is attached: Topic.subscribe(${id}) must happen while the publisher is alive`,
  );
  try {
    const { capacity, slots, drop, publisherPid, publisherStart } = readHeader(attachment, creator, op);
    const i32 = new Int32Array(attachment.buffer, 0, T.dataOffset(slots) / 4);
    const f64 = new Float64Array(attachment.buffer, 0, T.dataOffset(slots) / 8);
    const slot = claimSlot(i32, f64, slots);
    if (slot < 0) {
      throw refused(
        'EAGAIN',
        op,
        id,
        `all ${slots} subscriber slots are taken by live subscribers; create the topic with more (subscribers: up to ${T.MAX_SLOTS})`,
      );
    }
    const header = new Header(attachment, topicPlacement(capacity, slots, slot), subscriberSide(slot), PUBLISHER);
    const epoch = Atomics.load(i32, slotWord(slot, T.SLOT_EPOCH));
    // The slot is this subscriber's now: its words as a fresh claim has them, then STATE_JOINING, then JOINS + 1,
    // which the publisher compares before every publish.
    Atomics.store(i32, slotWord(slot, T.SLOT_CLOSED), 0);
    header.selfCell.withdraw();
    f64[T.slotOffset(slot, T.SLOT_START) / 8] = ownStartTime();
    Atomics.store(i32, slotWord(slot, T.SLOT_STATE), T.STATE_JOINING);
    Atomics.add(i32, T.i32(T.OFF_JOINS), 1);
    return { header, liveness: new Liveness(header, publisherPid, publisherStart), policy: new SpinPolicy(spin), drop, slot, epoch };
  } catch (error) {
    shmdt(attachment);
    throw during(op, error);
  }
}
