// Stamps and checks for many clients. Every message carries the harness's stamps (bench/patterns/payload.ts:
// sequence number, messages still to come, a tag, a rotating stamp and a tail stamp, all checked on every message),
// with the repetition word holding (repetition << 8) | client: the server tells whose message it holds from the
// message itself and checks each client's sequence on its own (and a Mailbox's sender id against it). In the
// verification repetition every byte of every message is checksummed on both sides, per client.
import {
  CHECKSUM_SEED,
  FULL_VERIFY,
  IntegrityError,
  STAMP_OK,
  checkStamps,
  checksum,
  describeProblem,
  get32,
  rotatingOffset,
  stamp,
  type Header,
} from '../patterns/payload.js';

/** Client indices fit the stamps' byte. */
export const MAX_CLIENTS = 255;

/** Stamps message `seq` of `count` of repetition `rep` from `client` (the verification repetition is repetition 0). */
export function stampMessage(m: Uint8Array, seq: number, count: number, rep: number, client: number): void {
  stamp(m, seq, count - 1 - seq, rep === 0 ? FULL_VERIFY : 0, (rep << 8) | client);
}

/**
 * Puts back the bytes of the base pattern where the stamps of the last message went (the first 16, the rotating
 * word, the last 4): a publisher that reuses its buffer then sends the base pattern and this message's stamps only,
 * what a subscriber reading in place compares with (bench/patterns/payload.ts, InPlaceReader).
 */
export function unstamp(m: Uint8Array, base: Uint8Array): void {
  const at = rotatingOffset(get32(m, 12), m.length);
  for (let i = 0; i < 16; i++) m[i] = base[i];
  for (let i = at; i < at + 4; i++) m[i] = base[i];
  for (let i = m.length - 4; i < m.length; i++) m[i] = base[i];
}

/** The client index in a message's stamps, read before they are checked (-1: too short to carry one). */
export function clientOf(m: Uint8Array): number {
  return m.length >= 12 ? (get32(m, 8) >>> 8) & 0xff : -1;
}

/** Test only: flips the middle byte of `m` (after it was stamped and checksummed). */
export function flipMiddle(m: Uint8Array): void {
  m[m.length >> 1] ^= 0x40;
}

/** StreamChecker.check's `from` for a message whose sender the server does not know. */
export const UNKNOWN_SENDER = -2;

/** What a sending client reports after a repetition. */
export interface SentReport {
  sent: number;
  /** Checksum of every byte it sent (verification repetition; CHECKSUM_SEED otherwise). */
  checksum: number;
}

/**
 * The server's check of the messages of N clients in one repetition: each client's sequence, every message's
 * stamps and repetition, the sender the transport names (when it names one), and in the verification repetition
 * a checksum of every byte per client. A problem is recorded and the repetition runs to its end (so that every
 * process stays in step); finish() throws it.
 */
export class StreamChecker {
  readonly #next: Int32Array;
  readonly #sums: Int32Array;
  readonly #header: Header = { seq: 0, remaining: 0, flags: 0, rep: 0 };
  #rep = 0;
  #count = 0;
  #received = 0;
  #problem: string | null = null;
  /** Over the whole part: messages whose stamps were checked, and those checksummed. */
  messages = 0;
  checksummed = 0;

  constructor(
    readonly clients: number,
    readonly size: number,
    readonly what: string,
  ) {
    this.#next = new Int32Array(clients);
    this.#sums = new Int32Array(clients);
  }

  begin(rep: number, count: number): void {
    this.#next.fill(0);
    this.#sums.fill(CHECKSUM_SEED);
    this.#rep = rep;
    this.#count = count;
    this.#received = 0;
    this.#problem = null;
  }

  /** Messages each client sends in this repetition. */
  get count(): number {
    return this.#count;
  }

  /** Every client's messages of this repetition have arrived (or as many messages, if some were misattributed). */
  get done(): boolean {
    return this.#received >= this.clients * this.#count;
  }

  #fail(text: string): void {
    this.#problem ??= text;
  }

  /**
   * Checks one message; `from` is the client the transport says sent it (-1: it does not say; UNKNOWN_SENDER: a
   * sender that never introduced itself). Returns the client index in its stamps (-1 when that is no client's).
   */
  check(m: Uint8Array, from = -1): number {
    this.#received++;
    if (from === UNKNOWN_SENDER) this.#fail('a message from a sender that never said which client it is');
    const client = clientOf(m);
    if (client < 0 || client >= this.clients) {
      this.#fail(`a message stamped with client index ${client} (${describeProblem(2)})`);
      return -1;
    }
    if (from >= 0 && from !== client) this.#fail(`client ${from}'s message ${this.#next[from]} carries client ${client}'s stamps`);
    const h = this.#header;
    const code = checkStamps(m, this.size, this.#next[client], h);
    if (code !== STAMP_OK) this.#fail(`client ${client}'s message ${this.#next[client]} arrived with ${describeProblem(code)}`);
    else if (h.rep >>> 8 !== this.#rep) this.#fail(`client ${client}'s message ${this.#next[client]} is from repetition ${h.rep >>> 8}, not ${this.#rep}`);
    if (h.flags & FULL_VERIFY) {
      this.#sums[client] = checksum(this.#sums[client], m);
      this.checksummed++;
    }
    this.#next[client]++;
    this.messages++;
    return client;
  }

  /** After the repetition: the counts and checksums the clients report against what arrived; throws the first problem. */
  finish(reports: SentReport[]): void {
    const where = `${this.what}, ${this.size}-byte messages, repetition ${this.#rep}`;
    if (this.#problem) throw new IntegrityError(`${where}: ${this.#problem}`);
    for (let c = 0; c < this.clients; c++) {
      const r = reports[c];
      if (r.sent !== this.#count || this.#next[c] !== this.#count)
        throw new IntegrityError(`${where}: client ${c} sent ${r.sent} messages, ${this.#next[c]} arrived (expected ${this.#count})`);
      if (this.#rep === 0 && r.checksum !== this.#sums[c])
        throw new IntegrityError(
          `${where}: ${describeProblem(6)} for client ${c}: sent 0x${(r.checksum >>> 0).toString(16)}, received 0x${(this.#sums[c] >>> 0).toString(16)}`,
        );
    }
  }
}

/**
 * A receiving client's check of one ordered stream (its replies, or what a publisher published): sequence,
 * stamps, the repetition and the sender's index; in the verification repetition a checksum of every byte.
 */
export class OrderChecker {
  readonly #header: Header = { seq: 0, remaining: 0, flags: 0, rep: 0 };
  #expected = 0;
  #rep = 0;
  #client = 0;
  sum = CHECKSUM_SEED;
  problem: string | null = null;
  messages = 0;
  checksummed = 0;

  constructor(readonly size: number) {}

  begin(rep: number, client: number): void {
    this.#expected = 0;
    this.#rep = rep;
    this.#client = client;
    this.sum = CHECKSUM_SEED;
    this.problem = null;
  }

  get header(): Header {
    return this.#header;
  }

  /** Checks the next message; false (and `problem` set, the first one kept) when it is not what was expected. */
  check(m: Uint8Array): boolean {
    const h = this.#header;
    const code = checkStamps(m, this.size, this.#expected, h);
    let ok = code === STAMP_OK;
    if (!ok) this.problem ??= `message ${this.#expected} arrived with ${describeProblem(code)}`;
    else if (h.rep !== ((this.#rep << 8) | this.#client)) {
      ok = false;
      this.problem ??= `message ${this.#expected} is repetition ${h.rep >>> 8}'s of client ${h.rep & 0xff}, not repetition ${this.#rep}'s of client ${this.#client}`;
    }
    if (h.flags & FULL_VERIFY) {
      this.sum = checksum(this.sum, m);
      this.checksummed++;
    }
    this.#expected++;
    this.messages++;
    return ok;
  }

  get received(): number {
    return this.#expected;
  }
}
