// The layout of a topic segment (one publisher, many subscribers): a header, a line per shared counter, the
// publisher's wake-up cell, one slot per possible subscriber, then one power-of-two ring of framed records that all
// subscribers read in place. Records, wrap markers and wake-up cells are the channel's (ring-layout.ts); the second
// word of a record, reserved in a channel, holds the message's sequence number here. The protocol is in
// docs/topic.md, precise enough for another language. Every offset is a multiple of 4; words are native-endian.
import { LINE } from '../ring-layout.js';

/** "SHMT" read as a little-endian u32 (bytes 53 48 4d 54). */
export const MAGIC = 0x544d4853;
export const VERSION = 1;

// Line 0: written at creation (and PUBLISHER_CLOSED once, at close); read-mostly.
export const OFF_MAGIC = 0;
export const OFF_VERSION = 4;
export const OFF_CAPACITY = 8;
export const OFF_DATA_OFFSET = 12;
export const OFF_MAX_MESSAGE = 16;
/** The number of subscriber slots. */
export const OFF_SLOTS = 20;
/** POLICY_BLOCK or POLICY_DROP. */
export const OFF_POLICY = 24;
export const OFF_PUBLISHER_PID = 28;
export const OFF_PUBLISHER_CLOSED = 32;
/** Clock ticks since boot (/proc/<pid>/stat field 22), float64: guards against pid reuse. */
export const OFF_PUBLISHER_START = 40;

// Line 1: the publisher's free-running byte count (what is published).
export const OFF_HEAD = LINE * 1;
// Line 2 (drop policy): the start of the oldest record still intact, and its sequence number. The publisher stores
// both before it overwrites anything older; a subscriber that reads them after copying a record knows whether its
// copy is intact.
export const OFF_OLDEST = LINE * 2;
export const OFF_OLDEST_SEQ = LINE * 2 + 4;
// Line 3: bumped by every subscriber that asks to join (the publisher compares it on every publish).
export const OFF_JOINS = LINE * 3;
// Line 4: the publisher's wake-up cell ('block': it waits there for the slowest subscriber).
export const OFF_PUBLISHER_CELL = LINE * 4;

/** Slot k starts at SLOTS_OFFSET + k * SLOT_SIZE: three lines (claim words, cursor, cell). */
export const SLOTS_OFFSET = LINE * 5;
export const SLOT_SIZE = LINE * 3;
// Within a slot. PID: 0 free, > 0 the subscriber's pid, < 0 being reset by process -PID.
export const SLOT_PID = 0;
/** STATE_CLAIMED, STATE_JOINING (the subscriber asks), STATE_JOINED (the publisher placed its cursor). */
export const SLOT_STATE = 4;
/** 1 once the subscriber called close(). */
export const SLOT_CLOSED = 8;
/** Bumped by whoever frees the slot, before it resets the other words: a reader of the slot sees the change. */
export const SLOT_EPOCH = 12;
/** The subscriber's start time (float64). */
export const SLOT_START = 16;
/** Written by the publisher at the join: the sequence number of the first message the subscriber receives. */
export const SLOT_BASE_SEQ = 24;
/** Written by the publisher at the join (the head then), afterwards by a 'block' subscriber (what it has read). */
export const SLOT_CURSOR = LINE;
export const SLOT_CELL = LINE * 2;

export const STATE_CLAIMED = 0;
export const STATE_JOINING = 1;
export const STATE_JOINED = 2;

export const POLICY_BLOCK = 1;
export const POLICY_DROP = 2;

export const MAX_SLOTS = 1024;

/** Where the ring starts for `slots` subscriber slots (a multiple of LINE). */
export function dataOffset(slots: number): number {
  return SLOTS_OFFSET + slots * SLOT_SIZE;
}

/** Byte offset of slot `k`'s word at `field`. */
export function slotOffset(k: number, field: number): number {
  return SLOTS_OFFSET + k * SLOT_SIZE + field;
}

/** Int32 index of a byte offset. */
export function i32(offset: number): number {
  return offset >> 2;
}
