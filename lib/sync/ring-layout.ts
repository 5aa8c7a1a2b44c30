// The layout of a channel segment: a header, then a power-of-two ring of framed records. Shared by both ends
// (and by any other language that wants to speak the protocol: see docs/channel.md). All fields are
// little-endian/native 32-bit words unless said otherwise; every offset is a multiple of 4.

/** "SHMC" read as a little-endian u32 (bytes 53 48 4d 43 in memory on little-endian machines). */
export const MAGIC = 0x434d4853;
export const VERSION = 1;

/** Spacing between fields written by different parties: two 64-byte lines, against adjacent-line prefetch. */
export const LINE = 128;

// Line 0: written once at creation and at open/close; read-mostly.
export const OFF_MAGIC = 0;
export const OFF_VERSION = 4;
/** Ring capacity in bytes (a power of two). */
export const OFF_CAPACITY = 8;
/** Byte offset of the ring from the start of the segment. */
export const OFF_DATA_OFFSET = 12;
export const OFF_PRODUCER_PID = 16;
export const OFF_CONSUMER_PID = 20;
/** 1 once that end called close(). */
export const OFF_PRODUCER_CLOSED = 24;
export const OFF_CONSUMER_CLOSED = 28;
/** Largest payload: capacity - RECORD_HEADER. */
export const OFF_MAX_MESSAGE = 32;
/** Process start times (clock ticks since boot, /proc/<pid>/stat field 22) as float64: guards against pid reuse. */
export const OFF_PRODUCER_START = 40;
export const OFF_CONSUMER_START = 48;

// Line 1: written by the producer only.
/** Free-running u32 count of bytes the producer has published. */
export const OFF_HEAD = LINE * 1;
// Line 2: written by the consumer only.
/** Free-running u32 count of bytes the consumer has released. */
export const OFF_TAIL = LINE * 2;
// Line 3: the consumer's sleep: it sets WAITING to 1 and sleeps on BELL; the producer bumps BELL and wakes it.
export const OFF_CONSUMER_WAITING = LINE * 3;
export const OFF_CONSUMER_BELL = LINE * 3 + 4;
// Line 4: the producer's sleep (waiting for room), the mirror image.
export const OFF_PRODUCER_WAITING = LINE * 4;
export const OFF_PRODUCER_BELL = LINE * 4 + 4;

/** The ring starts here (a multiple of LINE). */
export const DATA_OFFSET = LINE * 8;

/** Each record: u32 payload length, u32 reserved (0), payload, zero to seven bytes of padding to a multiple of 8. */
export const RECORD_HEADER = 8;
export const RECORD_ALIGN = 8;
/** A length of 0xFFFFFFFF marks the rest of the ring as padding: the next record starts at ring offset 0. */
export const WRAP_MARKER = 0xffffffff;

export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 2 ** 30;

/** Bytes a record of `n` payload bytes occupies in the ring. */
export function recordSize(n: number): number {
  return RECORD_HEADER + ((n + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1));
}

/** The capacity actually used for a requested one: the next power of two, at least MIN_CAPACITY. */
export function ringCapacity(requested: number): number {
  let c = MIN_CAPACITY;
  while (c < requested) c *= 2;
  return c;
}

/** Int32 index of a byte offset. */
export function i32(offset: number): number {
  return offset >> 2;
}
