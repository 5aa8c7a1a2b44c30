// Shared by the child programs of the hostile-channel tests: a second attachment of a channel's segment through
// which a test writes what a buggy or hostile process would, and the message format of the fuzz test (each
// message carries its sequence number and a checksum, so that the consumer can tell a message that was sent byte
// for byte from anything else).
import { shmat, shmdt, type Attachment } from '../../../lib/index.js';
import * as L from '../../../lib/sync/ring-layout.js';

export { L };

/** Word offsets of the header fields (bytes / 4), for writing through a Uint32Array of the whole segment. */
export const W = {
  magic: L.OFF_MAGIC / 4,
  version: L.OFF_VERSION / 4,
  capacity: L.OFF_CAPACITY / 4,
  dataOffset: L.OFF_DATA_OFFSET / 4,
  producerPid: L.OFF_PRODUCER_PID / 4,
  consumerPid: L.OFF_CONSUMER_PID / 4,
  producerClosed: L.OFF_PRODUCER_CLOSED / 4,
  consumerClosed: L.OFF_CONSUMER_CLOSED / 4,
  maxMessage: L.OFF_MAX_MESSAGE / 4,
  head: L.OFF_HEAD / 4,
  tail: L.OFF_TAIL / 4,
  consumerWaiting: L.OFF_CONSUMER_WAITING / 4,
  consumerBell: L.OFF_CONSUMER_BELL / 4,
  producerWaiting: L.OFF_PRODUCER_WAITING / 4,
  producerBell: L.OFF_PRODUCER_BELL / 4,
} as const;

/** Another attachment of the segment `id`, as a process other than the two ends would have it. */
export class Hostile {
  readonly attachment: Attachment;
  /** The whole segment as 32-bit words. */
  readonly words: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  constructor(id: number) {
    this.attachment = shmat(id);
    this.words = new Uint32Array(this.attachment.buffer);
    this.i32 = new Int32Array(this.attachment.buffer);
    this.f64 = new Float64Array(this.attachment.buffer, 0, L.DATA_OFFSET / 8);
  }

  /** Writes a header word (index in W). */
  set(word: number, value: number): void {
    this.words[word] = value >>> 0;
  }

  /** Writes the 32-bit word at byte offset `ringOffset` of the ring. */
  setRing(ringOffset: number, value: number): void {
    this.words[(L.DATA_OFFSET + ringOffset) / 4] = value >>> 0;
  }

  ring(ringOffset: number): number {
    return this.words[(L.DATA_OFFSET + ringOffset) / 4];
  }

  detach(): void {
    if (!this.attachment.detached) shmdt(this.attachment);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages of the fuzz test: [u32 seq][u32 checksum][bytes derived from seq], at least 8 bytes.
// ---------------------------------------------------------------------------------------------------------------

/** Size of message `seq` on a channel whose largest message is `max`: mostly small, some at or near the maximum. */
export function sizeOf(seq: number, max: number): number {
  const h = Math.imul(seq + 1, 2654435761) >>> 0;
  const pick = h % 16;
  if (pick === 0) return max;
  if (pick === 1) return Math.max(8, max - (h % 24));
  if (pick < 5) return 8 + (h % Math.max(1, max - 7));
  return 8 + (h % Math.min(57, max - 7));
}

function checksum(bytes: Uint8Array, seq: number): number {
  let sum = (2166136261 ^ seq ^ Math.imul(bytes.length, 16777619)) >>> 0;
  for (let k = 8; k < bytes.length; k++) sum = Math.imul(sum ^ bytes[k], 16777619) >>> 0;
  return sum;
}

export function fillMessage(bytes: Uint8Array, seq: number): Uint8Array {
  for (let k = 8; k < bytes.length; k++) bytes[k] = (seq * 31 + k * 7) & 255;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, seq, true);
  view.setUint32(4, checksum(bytes, seq), true);
  return bytes;
}

/** The sequence number of a message that is intact (as sent, byte for byte), or -1. */
export function intactSeq(bytes: Uint8Array, max: number): number {
  if (bytes.length < 8) return -1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seq = view.getUint32(0, true);
  if (bytes.length !== sizeOf(seq, max) || view.getUint32(4, true) !== checksum(bytes, seq)) return -1;
  for (let k = 8; k < bytes.length; k++) if (bytes[k] !== ((seq * 31 + k * 7) & 255)) return -1;
  return seq;
}

/** Reads lines from stdin and hands each to `onLine` (awaited one after another). */
export function readLines(onLine: (line: string) => Promise<void> | void): void {
  let buffered = '';
  let chain = Promise.resolve();
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) chain = chain.then(() => onLine(line));
    }
  });
  process.stdin.on('end', () => void chain.then(() => process.exit(0)));
}

/** Sleeps without the event loop (for pauses shorter than a timer's resolution). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** What a call ended with, as the programs report it. */
export interface Outcome {
  /** Error code, or 'ok' (a message or null came back). */
  code: string;
  /** Length of the message returned (receive family), null for "no message". */
  length?: number | null;
  message?: string;
  ms: number;
}

export async function outcomeOf(call: () => unknown): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const value = await call();
    const length = value === null ? null : value instanceof Uint8Array ? value.length : typeof value === 'number' ? value : undefined;
    return { code: 'ok', length, ms: performance.now() - t0 };
  } catch (error) {
    const e = error as { code?: string; message?: string; name?: string };
    return { code: e.code ?? e.name ?? 'unknown', message: e.message, ms: performance.now() - t0 };
  }
}
