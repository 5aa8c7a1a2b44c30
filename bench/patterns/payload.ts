// Message contents and integrity checks shared by every transport and pattern.
//
// Each message carries a header and stamps that the receiver checks on every message of every repetition (a
// few loads and compares, whatever the size):
//
//   [0, 4)  seq         index of the message within its repetition
//   [4, 8)  remaining   messages still to come in this repetition (0 = last)
//   [8, 12) flags | rep << 8   FULL_VERIFY (bit 0)
//   [12,16) tag         a hash of the three words above
//   a rotating word     tag again, at an offset that moves with the tag (16 .. size - 8)
//   the last 4 bytes    tag ^ TAIL_XOR
//
// This catches dropped, duplicated, reordered, truncated and stale messages at O(1) cost. The first repetition
// of every size (FULL_VERIFY) also checksums every byte of every message on both sides and compares the two
// chained checksums, so a transport that corrupts or skips bytes anywhere fails the run before it is timed.
// Messages are at least MIN_MESSAGE bytes.

export const MIN_MESSAGE = 32;
export const FULL_VERIFY = 1;
const TAIL_XOR = 0xa5a5a5a5 | 0;
export const CHECKSUM_SEED = 0x811c9dc5 | 0;

export function put32(m: Uint8Array, off: number, v: number): void {
  m[off] = v;
  m[off + 1] = v >>> 8;
  m[off + 2] = v >>> 16;
  m[off + 3] = v >>> 24;
}

export function get32(m: Uint8Array, off: number): number {
  return m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24) | 0;
}

function tagOf(seq: number, remaining: number, flagsWord: number): number {
  let h = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ remaining ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ flagsWord ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15)) | 0;
}

export function rotatingOffset(tag: number, size: number): number {
  // 4-byte aligned, in [16, size - 8].
  const room = ((size - 8 - 16) >>> 2) + 1;
  return 16 + ((tag >>> 0) % room) * 4;
}

export function stamp(m: Uint8Array, seq: number, remaining: number, flags: number, rep: number): void {
  const flagsWord = flags | (rep << 8);
  const tag = tagOf(seq, remaining, flagsWord);
  put32(m, 0, seq);
  put32(m, 4, remaining);
  put32(m, 8, flagsWord);
  put32(m, 12, tag);
  put32(m, rotatingOffset(tag, m.length), tag);
  put32(m, m.length - 4, tag ^ TAIL_XOR);
}

export interface Header {
  seq: number;
  remaining: number;
  flags: number;
  rep: number;
}

export const STAMP_OK = 0;
// The same codes and texts as PROBLEMS in bench/c/harness.h.
const PROBLEMS = [
  '',
  'wrong length (truncated or merged)',
  'header tag mismatch (corrupted header)',
  'wrong sequence number (dropped, duplicated or reordered)',
  'rotating stamp wrong (stale or corrupted payload)',
  'tail stamp wrong (truncated, stale or corrupted)',
  'full checksum mismatch (corrupted payload)',
  'payload bytes differ from what the producer wrote (corrupted payload)',
];
export const CHECKSUM_MISMATCH = 6;
export const PAYLOAD_DIFFERS = 7;

export function describeProblem(code: number): string {
  return PROBLEMS[code] ?? `problem ${code}`;
}

/** Reads the header into `out` and checks every stamp; returns STAMP_OK or a problem code (describeProblem). */
export function checkStamps(m: Uint8Array, size: number, expectedSeq: number, out: Header): number {
  if (m.length !== size) return 1;
  const seq = get32(m, 0);
  const remaining = get32(m, 4);
  const flagsWord = get32(m, 8);
  out.seq = seq;
  out.remaining = remaining;
  out.flags = flagsWord & 0xff;
  out.rep = flagsWord >>> 8;
  const tag = tagOf(seq, remaining, flagsWord);
  if (get32(m, 12) !== tag) return 2;
  if (seq !== expectedSeq) return 3;
  if (get32(m, rotatingOffset(tag, size)) !== tag) return 4;
  if (get32(m, size - 4) !== (tag ^ TAIL_XOR)) return 5;
  return STAMP_OK;
}

/** Messages up to this size are compared in JavaScript, longer ones with one memcmp. */
const SHORT_COMPARE = 256;

/**
 * What a zero-copy consumer does with a message where it lies: reads every byte, comparing it with what the
 * producer wrote (the base pattern with the stamps of `header`), with one memcmp, as bench/c/harness.h does.
 * `expected` is the consumer's own copy of the base pattern; it is stamped for the comparison and put back.
 */
export class InPlaceReader {
  readonly #base: Uint8Array;
  readonly #expected: Buffer;
  readonly #expectedWords: Int32Array;

  constructor(size: number) {
    this.#base = basePattern(size);
    this.#expected = Buffer.from(basePattern(size).buffer);
    this.#expectedWords = new Int32Array(this.#expected.buffer, 0, size >>> 2);
  }

  /** True when every byte of `m` is what the producer wrote. */
  matches(m: Uint8Array, h: Header): boolean {
    const e = this.#expected;
    stamp(e, h.seq, h.remaining, h.flags, h.rep);
    const same = m.length <= SHORT_COMPARE && (m.byteOffset & 3) === 0 ? this.#sameWords(m) : e.equals(m);
    // Put back the four stamped places (the rotating one is found from the tag, still in e[12..16)).
    const at = rotatingOffset(get32(e, 12), e.length);
    const base = this.#base;
    for (let i = 0; i < 16; i++) e[i] = base[i];
    for (let i = at; i < at + 4; i++) e[i] = base[i];
    for (let i = e.length - 4; i < e.length; i++) e[i] = base[i];
    return same;
  }

  /** Short messages: word by word in JavaScript (a memcmp through Buffer.equals costs more in its call than in its work). */
  #sameWords(m: Uint8Array): boolean {
    const e = this.#expected;
    if (m.length !== e.length) return false;
    const expected = this.#expectedWords;
    const words = new Int32Array(m.buffer, m.byteOffset, m.length >>> 2);
    for (let i = 0; i < words.length; i++) if (words[i] !== expected[i]) return false;
    for (let i = words.length << 2; i < m.length; i++) if (m[i] !== e[i]) return false;
    return true;
  }
}

/** Pseudo-random bytes, the same in every process for a given size. */
export function basePattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (size * 2654435761) | 0 || 1;
  const words = size >>> 2;
  const u32 = new Uint32Array(out.buffer, 0, words);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    u32[i] = x;
  }
  for (let i = words * 4; i < size; i++) out[i] = i;
  return out;
}

let scratch = new Int32Array(1024);

/**
 * Chained checksum over every byte: h = (h ^ word) * FNV prime, word by word. Each step is a bijection of both
 * h and the word, so any single changed word changes the result.
 */
export function checksum(h: number, b: Uint8Array): number {
  const n4 = b.length >>> 2;
  let w: Int32Array;
  if ((b.byteOffset & 3) === 0) {
    w = new Int32Array(b.buffer, b.byteOffset, n4);
  } else {
    if (scratch.length < n4) scratch = new Int32Array(n4);
    new Uint8Array(scratch.buffer, 0, n4 * 4).set(b.subarray(0, n4 * 4));
    w = scratch;
  }
  for (let i = 0; i < n4; i++) h = Math.imul(h ^ w[i], 0x01000193);
  for (let i = n4 * 4; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return Math.imul(h ^ b.length, 0x01000193);
}

// The acknowledgement a throughput consumer sends after the last message of a repetition.
export const ACK_SIZE = 32;
const ACK_MAGIC = 0x214b4341; // "ACK!"

export interface Ack {
  ok: boolean;
  checksum: number;
  received: number;
  endNs: bigint;
  /** When !ok: index of the message where the first problem was seen, and its code (describeProblem). */
  failedAt: number;
  problem: number;
}

export function encodeAck(m: Uint8Array, a: Ack): void {
  put32(m, 0, ACK_MAGIC);
  put32(m, 4, a.ok ? 1 : 0);
  put32(m, 8, a.checksum);
  put32(m, 12, a.received);
  put32(m, 16, Number(a.endNs & 0xffffffffn));
  put32(m, 20, Number(a.endNs >> 32n));
  put32(m, 24, a.failedAt);
  put32(m, 28, a.problem);
}

export function decodeAck(m: Uint8Array): Ack {
  if (m.length !== ACK_SIZE || get32(m, 0) !== ACK_MAGIC) throw new Error('throughput: the consumer answered something that is not an acknowledgement');
  return {
    ok: get32(m, 4) === 1,
    checksum: get32(m, 8),
    received: get32(m, 12) >>> 0,
    endNs: (BigInt(get32(m, 20) >>> 0) << 32n) | BigInt(get32(m, 16) >>> 0),
    failedAt: get32(m, 24),
    problem: get32(m, 28),
  };
}

export class IntegrityError extends Error {
  override name = 'IntegrityError';
}
