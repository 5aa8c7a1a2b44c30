// The layout of a channel segment: a header, then a power-of-two ring of framed records. Shared by both ends
// (and by any other language that wants to speak the protocol: see docs/channel.md). All fields are
// little-endian/native 32-bit words unless said otherwise; every offset is a multiple of 4.

/** "SHMC" read as a little-endian u32 (bytes 53 48 4d 43 in memory on little-endian machines). */
export const MAGIC = 0x434d4853;
/**
 * 2: the wake-up words are cells (below), so that an end can sleep in its event loop (a doorbell socket) as well as
 * in the kernel (a futex). Version 1 had a WAITING flag and a BELL word per end; its peers are refused (EPROTO).
 */
export const VERSION = 2;

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
// Line 3: the consumer's wake-up cell (it waits for records); line 4: the producer's (it waits for room).
export const OFF_CONSUMER_CELL = LINE * 3;
export const OFF_PRODUCER_CELL = LINE * 4;

// A wake-up cell: 8 words, written by the end that sleeps (except BELL and the STATE exchange, which its peer does).
//
//   waiter, synchronous:  bell = load(BELL); store(STATE, FUTEX); if the condition holds: store(STATE, IDLE), done;
//                         futex_wait(&BELL, bell, slice); store(STATE, IDLE); repeat
//   waiter, asynchronous: store KIND, PID, NONCE_A, NONCE_B, TOKEN; store(STATE, DOORBELL); if the condition holds:
//                         store(STATE, IDLE), done; else return to the event loop, which watches the doorbell
//   waker (after publishing its counter):
//                         if load(STATE) != IDLE: s = exchange(STATE, IDLE); add(BELL, 1);
//                         s == FUTEX: futex_wake(&BELL, 1); s == DOORBELL: send TOKEN (4 bytes) to the doorbell
//
// All sequentially consistent: either the waiter's re-check sees the publish, or the waker sees STATE set.
/** Futex word: the waker adds 1 before every wake-up, so that a FUTEX_WAIT on an old value returns at once. */
export const CELL_BELL = 0;
/** CELL_IDLE, CELL_FUTEX or CELL_DOORBELL. */
export const CELL_STATE = 4;
/** How the doorbell is reached: CELL_KIND_SOCKET (the only kind so far). */
export const CELL_KIND = 8;
/** The doorbell's process id and 64-bit nonce: the abstract socket is named doorbellName(pid, a, b). */
export const CELL_PID = 12;
export const CELL_NONCE_A = 16;
export const CELL_NONCE_B = 20;
/** 4 bytes the waker sends, as they are in memory: they tell the doorbell's owner which of its waits to check. */
export const CELL_TOKEN = 24;
export const CELL_SIZE = 32;

export const CELL_IDLE = 0;
export const CELL_FUTEX = 1;
export const CELL_DOORBELL = 2;
/**
 * An abstract-namespace Unix stream socket (no file; it vanishes with its process), listening, named
 * doorbellName(pid, a, b): DOORBELL_NAME_LENGTH bytes, so that the address fills sun_path exactly (addrlen =
 * sizeof(struct sockaddr_un)), which every way of binding gives the same name. Wakers connect once and keep the
 * connection; sends use MSG_NOSIGNAL | MSG_DONTWAIT.
 */
export const CELL_KIND_SOCKET = 1;

/** The length of a doorbell's name: sun_path (108 bytes on Linux) less the abstract namespace's leading NUL. */
export const DOORBELL_NAME_LENGTH = 107;

/**
 * The abstract socket name of a doorbell (without the leading NUL): "sysv-shm-bell/<pid>/<a><b as 16 hex digits>/"
 * padded with '.' to DOORBELL_NAME_LENGTH bytes.
 */
export function doorbellName(pid: number, a: number, b: number): string {
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `sysv-shm-bell/${pid}/${hex(a)}${hex(b)}/`.padEnd(DOORBELL_NAME_LENGTH, '.');
}

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
