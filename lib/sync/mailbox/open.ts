// Making the ends of a mailbox: Mailbox.create writes a new header (the receiving end), Mailbox.connect checks a
// whole header it did not write and claims a free lane (a sending end). Lifetime as for a channel (channel/open.ts):
// IPC_PRIVATE, attached, marked IPC_RMID at once; senders attach by id while the receiver is attached.
import { shmdt, type Attachment } from '../../c/index.js';
import { checkInteger, checkSpin } from '../../common/arguments.js';
import { DEFAULT_SPIN, type EndParts } from '../channel/end.js';
import { Header } from '../channel/header.js';
import { Liveness, ownStartTime } from '../channel/liveness.js';
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
import * as L from '../ring-layout.js';
import { SpinPolicy } from '../spin-policy.js';
import * as M from './layout.js';

const KIND = 'mailbox';

export interface MailboxCreateOptions {
  /** Each sender's lane, in bytes: rounded up to a power of two (64 .. 2^30). Default 64 KiB. */
  capacity?: number;
  /** The most senders connected at once (1 .. 1024), a lane each. Default 16. */
  senders?: number;
  /** Permission bits of the segment (default 0o600: only this user may connect). */
  mode?: number;
  /** Spin iterations before sleeping in the kernel (default 4000); 0 sleeps at once. */
  spin?: number;
}

export interface MailboxConnectOptions {
  /** Spin iterations before sleeping in the kernel while the lane is full (default 4000); 0 sleeps at once. */
  spin?: number;
}

/** What Mailbox.create hands to the receiving end. */
export interface ReceiverParts {
  readonly attachment: Attachment;
  readonly lanes: number;
  readonly capacity: number;
  readonly policy: SpinPolicy;
}

/** Creates the segment and writes its header; the parts of the receiving end. */
export function createMailbox(options: MailboxCreateOptions): ReceiverParts {
  const op = 'Mailbox.create';
  const given = optionsObject(op, options);
  const capacity = checkCapacity(op, given.capacity, M.DEFAULT_LANE_CAPACITY);
  const lanes = given.senders === undefined ? M.DEFAULT_LANES : checkInteger(op, 'senders', given.senders, 1, M.MAX_LANES);
  const mode = checkSegmentMode(op, given.mode);
  const spin = checkSpin(op, given.spin, DEFAULT_SPIN);
  const size = M.segmentSize(lanes, capacity);
  const attachment = createMarkedSegment(
    op,
    size,
    mode,
    size > 2 ** 31 ? ` (${lanes} lanes of ${capacity} bytes: ${size} bytes; fewer senders or smaller lanes?)` : '',
  );
  const i32 = new Int32Array(attachment.buffer, 0, M.ringsOffset(lanes) / 4);
  const f64 = new Float64Array(attachment.buffer, 0, M.ringsOffset(lanes) / 8);
  i32[L.i32(M.OFF_VERSION)] = M.VERSION;
  i32[L.i32(M.OFF_LANES)] = lanes;
  i32[L.i32(M.OFF_LANE_CAPACITY)] = capacity;
  i32[L.i32(M.OFF_RINGS_OFFSET)] = M.ringsOffset(lanes);
  i32[L.i32(M.OFF_MAX_MESSAGE)] = capacity - L.RECORD_HEADER;
  f64[M.RECEIVER.start] = ownStartTime();
  i32[M.RECEIVER.pid] = process.pid;
  Atomics.store(i32, L.i32(M.OFF_MAGIC), M.MAGIC | 0); // last: a sender that loads it first sees the rest
  return { attachment, lanes, capacity, policy: new SpinPolicy(spin) };
}

/** Attaches mailbox `id`, checks its header and claims a free lane; the parts of a sending end (a lane's producer). */
export function connectMailbox(id: number, options: MailboxConnectOptions): EndParts & { lane: number; sender: number } {
  const op = 'Mailbox.connect';
  checkId(op, id);
  const spin = checkSpin(op, optionsObject(op, options).spin, DEFAULT_SPIN);
  const { attachment, creator } = attachById(op, id, `A mailbox's segment lives only while somebody is attached: connect while its receiver is alive`);
  try {
    const { lanes, capacity, receiverPid, receiverStart } = readHeader(attachment, creator, op);
    const i32 = new Int32Array(attachment.buffer, 0, M.ringsOffset(lanes) / 4);
    const f64 = new Float64Array(attachment.buffer, 0, M.ringsOffset(lanes) / 8);
    const lane = claimLane(i32, lanes, id, op);
    const side = M.senderSide(lane);
    const base = M.laneOffset(lane);
    try {
      // The receiver left the lane clean when it freed it; anything else was written by another process.
      const head = Atomics.load(i32, L.i32(base + M.LANE_HEAD));
      const tail = Atomics.load(i32, L.i32(base + M.LANE_TAIL));
      const closed = Atomics.load(i32, side.closed);
      if (head !== 0 || tail !== 0 || closed !== 0) {
        throw refused(
          'EPROTO',
          op,
          id,
          `lane ${lane} is free but not clean (head ${head >>> 0}, tail ${tail >>> 0}, closed ${closed}): another process wrote into the mailbox`,
        );
      }
      f64[side.start] = ownStartTime();
      const sender = (Atomics.add(i32, L.i32(M.OFF_NEXT_SENDER_ID), 1) + 1) >>> 0;
      Atomics.store(i32, L.i32(base + M.LANE_SENDER_ID), sender);
      Atomics.store(i32, L.i32(base + M.LANE_READY), 1);
      Atomics.add(i32, L.i32(M.OFF_CONNECTS), 1);
      const header = new Header(attachment, M.lanePlacement(lane, lanes, capacity), side, M.RECEIVER);
      return {
        header,
        liveness: new Liveness(header, receiverPid, receiverStart),
        policy: new SpinPolicy(spin),
        head: 0,
        name: 'MailboxSender',
        lane,
        sender,
      };
    } catch (error) {
      Atomics.store(i32, side.pid, 0); // gives the claim back
      throw error;
    }
  } catch (error) {
    shmdt(attachment);
    throw during(op, error);
  }
}

/** Claims the first free lane (its PID word 0 -> this pid); EAGAIN when every lane is taken. */
function claimLane(i32: Int32Array, lanes: number, id: number, op: string): number {
  for (let k = 0; k < lanes; k++) {
    const pid = L.i32(M.laneOffset(k) + M.LANE_PID);
    if (Atomics.load(i32, pid) === 0 && Atomics.compareExchange(i32, pid, 0, process.pid) === 0) return k;
  }
  throw refused(
    'EAGAIN',
    op,
    id,
    `all ${lanes} sender lanes of mailbox ${id} are taken (it was created with senders: ${lanes}). A lane is freed when its sender closes, ` +
      'or, when its sender died, once the receiver has noticed (while it receives); try again later, or create the mailbox with more senders',
  );
}

/** Checks the whole header of a segment that should be a mailbox with a live receiver, each word read once. */
function readHeader(attachment: Attachment, creator: number, op: string): { lanes: number; capacity: number; receiverPid: number; receiverStart: number } {
  const id = attachment.shmid;
  const size = attachment.size;
  if (size < M.segmentSize(1, L.MIN_CAPACITY)) throw refused('EPROTO', op, id, `segment ${id} (${size} bytes) is too small to be a mailbox`);
  const i32 = new Int32Array(attachment.buffer, 0, M.OFF_LANES_START / 4);
  const f64 = new Float64Array(attachment.buffer, 0, M.OFF_LANES_START / 8);
  checkMagic(op, id, KIND, Atomics.load(i32, L.i32(M.OFF_MAGIC)), M.MAGIC, i32[L.i32(M.OFF_VERSION)], M.VERSION);
  const lanes = i32[L.i32(M.OFF_LANES)];
  if (!(lanes >= 1 && lanes <= M.MAX_LANES)) throw forged(op, id, KIND, `the header's lane count is ${lanes}, not in [1, ${M.MAX_LANES}]`);
  const capacity = i32[L.i32(M.OFF_LANE_CAPACITY)] >>> 0;
  checkRingCapacity(op, id, KIND, capacity, 'lane capacity');
  if (M.segmentSize(lanes, capacity) > size) throw forged(op, id, KIND, `${lanes} lanes of ${capacity} bytes do not fit the segment (${size} bytes)`);
  const rings = i32[L.i32(M.OFF_RINGS_OFFSET)];
  if (rings !== M.ringsOffset(lanes)) throw forged(op, id, KIND, `the header's rings offset is ${rings}, expected ${M.ringsOffset(lanes)}`);
  const maxMessage = i32[L.i32(M.OFF_MAX_MESSAGE)] >>> 0;
  if (maxMessage !== capacity - L.RECORD_HEADER)
    throw forged(op, id, KIND, `the header's max message is ${maxMessage}, expected ${capacity - L.RECORD_HEADER}`);
  const receiverPid = Atomics.load(i32, M.RECEIVER.pid);
  const receiverStart = f64[M.RECEIVER.start];
  checkOwner(op, id, KIND, creator, { role: 'receiver', pid: receiverPid, start: receiverStart, closed: Atomics.load(i32, M.RECEIVER.closed) });
  return { lanes, capacity, receiverPid, receiverStart };
}
