// The layout of a mailbox segment (docs/design/many-processes.md): a header, a lane per sender (its claim, its
// counters and its wake-up cell), then the lanes' rings. Each lane is a channel ring between one sender and the
// receiver (same records, wrap markers and cells: ring-layout.ts); the receiver sleeps on one cell for all lanes.
import type { RingPlacement, Side } from '../channel/header.js';
import * as L from '../ring-layout.js';

/** "SHMB" read as a little-endian u32. */
export const MAGIC = 0x424d4853;
export const VERSION = 1;

// Line 0: written at creation (and the receiver's identity and closed flag); read-mostly.
export const OFF_MAGIC = 0;
export const OFF_VERSION = 4;
/** How many lanes (the most senders connected at once). */
export const OFF_LANES = 8;
/** Each lane's ring size in bytes (a power of two). */
export const OFF_LANE_CAPACITY = 12;
/** Byte offset of lane 0's ring (a multiple of LINE). */
export const OFF_RINGS_OFFSET = 16;
/** Largest message: lane capacity - RECORD_HEADER. */
export const OFF_MAX_MESSAGE = 20;
export const OFF_RECEIVER_PID = 24;
export const OFF_RECEIVER_CLOSED = 28;
/** The receiver's start time (float64, clock ticks since boot), against pid reuse. */
export const OFF_RECEIVER_START = 40;
/** The last sender id handed out: a connecting sender adds 1 and takes the result. */
export const OFF_NEXT_SENDER_ID = 48;
/** Bumped by every connect (after READY): the receiver rescans the lanes when it changes. */
export const OFF_CONNECTS = 52;
// Line 1: the receiver's wake-up cell.
export const OFF_RECEIVER_CELL = L.LINE;

/** Lanes start here; each takes LANE_SIZE bytes (four lines: written by different parties). */
export const OFF_LANES_START = 2 * L.LINE;
export const LANE_SIZE = 4 * L.LINE;
// Within a lane. Line 0, written by its sender at connect and close (and by the receiver when it frees the lane):
/** The claim: 0 when free; a connecting sender compare-exchanges its pid in. */
export const LANE_PID = 0;
/** 1 once the sender has written its identity (stored last at connect). */
export const LANE_READY = 4;
/** 1 once the sender called close(). */
export const LANE_CLOSED = 8;
export const LANE_SENDER_ID = 12;
/** float64. */
export const LANE_START = 16;
// Line 1: HEAD (the sender's), line 2: TAIL (the receiver's), line 3: the sender's wake-up cell.
export const LANE_HEAD = L.LINE;
export const LANE_TAIL = 2 * L.LINE;
export const LANE_CELL = 3 * L.LINE;

export const MAX_LANES = 1024;
export const DEFAULT_LANES = 16;
export const DEFAULT_LANE_CAPACITY = 64 * 1024;

/** Byte offset of lane k's words. */
export function laneOffset(k: number): number {
  return OFF_LANES_START + k * LANE_SIZE;
}

/** Where the rings start for `lanes` lanes: after the lanes' words, on a line boundary. */
export function ringsOffset(lanes: number): number {
  return laneOffset(lanes);
}

/** The segment size of a mailbox of `lanes` lanes of `capacity` bytes each. */
export function segmentSize(lanes: number, capacity: number): number {
  return ringsOffset(lanes) + lanes * capacity;
}

/** Lane k's ring, as a Header places it. */
export function lanePlacement(k: number, lanes: number, capacity: number): RingPlacement {
  const lane = laneOffset(k);
  return {
    kind: 'mailbox',
    capacity,
    dataOffset: ringsOffset(lanes) + k * capacity,
    controlSize: ringsOffset(lanes),
    head: L.i32(lane + LANE_HEAD),
    tail: L.i32(lane + LANE_TAIL),
  };
}

/** The receiver's words, as a Side of every lane. */
export const RECEIVER: Side = {
  name: 'receiver',
  writes: false,
  pid: L.i32(OFF_RECEIVER_PID),
  start: OFF_RECEIVER_START / 8,
  closed: L.i32(OFF_RECEIVER_CLOSED),
  cellOffset: OFF_RECEIVER_CELL,
};

/** Lane k's sender's words, as a Side. */
export function senderSide(k: number): Side {
  const lane = laneOffset(k);
  return {
    name: 'sender',
    writes: true,
    pid: L.i32(lane + LANE_PID),
    start: (lane + LANE_START) / 8,
    closed: L.i32(lane + LANE_CLOSED),
    cellOffset: lane + LANE_CELL,
  };
}
