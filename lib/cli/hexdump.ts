// hexdump -C, streamed: bytes go in a chunk at a time, each chunk comes out as one Buffer of lines, byte for byte
// what util-linux's `hexdump -C` prints (squeezed "*" lines included), into one output buffer the caller reuses.
//
// util-linux's format for -C is
//   "%08.8_Ax\n"  "%08.8_ax  " 8/1 "%02x " "  " 8/1 "%02x " "  |" 16/1 "%_p" "|\n"
// so a full line is 79 bytes: the offset (at least 8 hex digits), two spaces, 16 "xx " with one more space after
// the eighth, " |", 16 characters (printable ASCII as is, anything else "."), "|\n". A 16-byte line identical to
// the one before is not printed: the first of such a run prints "*" instead. A last line of fewer than 16 bytes is
// never squeezed; its missing bytes print as blanks. The end offset closes the dump on a line of its own, unless
// nothing was read from offset 0.

const DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** The character hexdump's %_p prints for each byte value. */
const PRINTABLE = Uint8Array.from({ length: 256 }, (_, b) => (b >= 0x20 && b < 0x7f ? b : 0x2e));
/** A byte's two hex digits, as a little-endian 16-bit store writes them. */
const HEX2 = Uint16Array.from({ length: 256 }, (_, b) => DIGITS[b >>> 4] | (DIGITS[b & 15] << 8));
/** A byte's two hex digits and a space (and a fourth byte the next store overwrites), for a 32-bit store. */
const HEX3 = Uint32Array.from({ length: 256 }, (_, b) => HEX2[b] | (0x20 << 16));
const SPACE = 0x20;
const BAR = 0x7c;
const NEWLINE = 0x0a;
const STAR = 0x2a;
/** The longest line: 79 bytes with an 8-digit offset, up to 14 digits below 2^53. */
const LONGEST_LINE = 79 + 6;
const TWO_32 = 2 ** 32;

/** What the formatting loop carries from one chunk to the next. */
interface State {
  /** The offset the next row is printed at. */
  address: number;
  /** Whether a row was seen (printed or squeezed) yet; `previous` holds the last one. */
  havePrevious: boolean;
  /** Whether the last row was squeezed (its "*" is out). */
  squeezing: boolean;
}

export class HexdumpStream {
  readonly #state: State;
  /** The last row seen, kept between chunks for the comparison with the next one. */
  readonly #previous = new Uint8Array(16);
  /** Bytes of an incomplete row carried over to the next chunk. */
  readonly #pending = new Uint8Array(16);
  #pendingLength = 0;

  /** `address` is the offset of the first byte, as printed (hexdump -s prints the file's offsets). */
  constructor(address = 0) {
    this.#state = { address, havePrevious: false, squeezing: false };
  }

  /** The largest output push() can make of `length` bytes. */
  static outputBound(length: number): number {
    return (Math.floor(length / 16) + 2) * LONGEST_LINE;
  }

  /**
   * The lines for these bytes (they follow the ones given before), written into `out` (at least
   * outputBound(chunk.length) bytes: one buffer serves every chunk); a row cut by the chunk's end waits for the next.
   */
  push(chunk: Uint8Array, out: Buffer = Buffer.allocUnsafe(HexdumpStream.outputBound(chunk.length))): Buffer {
    if (chunk.length === 0) return out.subarray(0, 0);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let bytes = chunk;
    let p = 0;
    if (this.#pendingLength > 0) {
      const take = Math.min(16 - this.#pendingLength, bytes.length);
      this.#pending.set(bytes.subarray(0, take), this.#pendingLength);
      this.#pendingLength += take;
      bytes = bytes.subarray(take);
      if (this.#pendingLength < 16) return out.subarray(0, 0);
      p = formatRows(this.#pending, 16, this.#previous, this.#state, out, view, p);
      this.#pendingLength = 0;
    }
    const whole = bytes.length - (bytes.length % 16);
    if (whole > 0) p = formatRows(bytes, whole, this.#previous, this.#state, out, view, p);
    if (whole < bytes.length) {
      this.#pending.set(bytes.subarray(whole));
      this.#pendingLength = bytes.length - whole;
    }
    return out.subarray(0, p);
  }

  /**
   * The last, incomplete row if any, and the end offset. Like hexdump, which prints the end offset even when it read
   * nothing after skipping (hexdump -C -s 100 of a 100-byte file prints "00000064"), this prints nothing only when
   * no byte was pushed from offset 0.
   */
  end(): Buffer {
    const state = this.#state;
    if (state.address === 0 && this.#pendingLength === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(2 * LONGEST_LINE);
    let p = 0;
    if (this.#pendingLength > 0) {
      p = partialLine(this.#pending, this.#pendingLength, state.address, out, p);
      state.address += this.#pendingLength;
      this.#pendingLength = 0;
    }
    p = writeAddress(state.address, out, new DataView(out.buffer, out.byteOffset, out.byteLength), p);
    out[p++] = NEWLINE;
    return out.subarray(0, p);
  }
}

/**
 * Formats the first `length` bytes of `bytes` (a multiple of 16) into `out` from `p`; returns the new end. `previous`
 * holds the row before the first one and is updated to the last one.
 */
function formatRows(bytes: Uint8Array, length: number, previous: Uint8Array, state: State, out: Uint8Array, view: DataView, p: number): number {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, length);
  let address = state.address;
  let squeezing = state.squeezing;
  let at = 0;
  // The first row compares with the row kept from before; the others with the row before them in `bytes`.
  if (state.havePrevious && sameAs(bytes, 0, previous, 0)) {
    at = skipRun(input, 0, length);
    address += at;
    if (!squeezing) {
      out[p++] = STAR;
      out[p++] = NEWLINE;
      squeezing = true;
    }
  }
  while (at < length) {
    if (at > 0 && sameAs(bytes, at, bytes, at - 16)) {
      const end = skipRun(input, at, length);
      address += end - at;
      at = end;
      if (!squeezing) {
        out[p++] = STAR;
        out[p++] = NEWLINE;
        squeezing = true;
      }
      continue;
    }
    squeezing = false;
    if (address < TWO_32) {
      view.setUint32(p, HEX2[address >>> 24] | (HEX2[(address >>> 16) & 255] << 16), true);
      view.setUint32(p + 4, HEX2[(address >>> 8) & 255] | (HEX2[address & 255] << 16), true);
      p += 8;
    } else {
      p = writeAddress(address, out, view, p);
    }
    out[p] = SPACE;
    out[p + 1] = SPACE;
    p += 2;
    for (let i = at; i < at + 8; i++) {
      view.setUint32(p, HEX3[bytes[i]], true);
      p += 3;
    }
    out[p++] = SPACE;
    for (let i = at + 8; i < at + 16; i++) {
      view.setUint32(p, HEX3[bytes[i]], true);
      p += 3;
    }
    out[p] = SPACE;
    out[p + 1] = BAR;
    p += 2;
    for (let i = at; i < at + 16; i += 4) {
      view.setUint32(p, PRINTABLE[bytes[i]] | (PRINTABLE[bytes[i + 1]] << 8) | (PRINTABLE[bytes[i + 2]] << 16) | (PRINTABLE[bytes[i + 3]] << 24), true);
      p += 4;
    }
    out[p] = BAR;
    out[p + 1] = NEWLINE;
    p += 2;
    address += 16;
    at += 16;
  }
  previous.set(bytes.subarray(length - 16, length));
  state.address = address;
  state.squeezing = squeezing;
  state.havePrevious = true;
  return p;
}

function sameAs(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): boolean {
  for (let i = 0; i < 16; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

/**
 * The end of the run of rows equal to the one before `at` (which is known to equal it): where the first different
 * row starts, or `length`. Stretches are compared with themselves 16 bytes earlier (memcmp), in growing steps and
 * then narrowing ones, so that a squeezed megabyte costs a few comparisons, not 65536 loops.
 */
function skipRun(input: Buffer, at: number, length: number): number {
  let next = at + 16;
  let step = 16;
  const equal = (from: number, n: number) => input.compare(input, from - 16, from - 16 + n, from, from + n) === 0;
  while (next + step <= length && equal(next, step)) {
    next += step;
    step *= 2;
  }
  for (step /= 2; step >= 16; step /= 2) if (next + step <= length && equal(next, step)) next += step;
  return next;
}

/** A last line of 1..15 bytes: blanks for the missing ones, text only for the present ones. */
function partialLine(bytes: Uint8Array, count: number, address: number, out: Buffer, p: number): number {
  p = writeAddress(address, out, new DataView(out.buffer, out.byteOffset, out.byteLength), p);
  out[p++] = SPACE;
  out[p++] = SPACE;
  for (let i = 0; i < 16; i++) {
    out[p] = i < count ? DIGITS[bytes[i] >>> 4] : SPACE;
    out[p + 1] = i < count ? DIGITS[bytes[i] & 15] : SPACE;
    out[p + 2] = SPACE;
    p += 3;
    if (i === 7) out[p++] = SPACE;
  }
  out[p++] = SPACE;
  out[p++] = BAR;
  for (let i = 0; i < count; i++) out[p++] = PRINTABLE[bytes[i]];
  out[p++] = BAR;
  out[p++] = NEWLINE;
  return p;
}

/** printf("%08x") of an offset below 2^53. */
function writeAddress(address: number, out: Uint8Array, view: DataView, p: number): number {
  let low = address;
  if (address >= TWO_32) {
    const high = Math.floor(address / TWO_32);
    low = address - high * TWO_32;
    for (const c of high.toString(16)) out[p++] = c.charCodeAt(0);
  }
  view.setUint32(p, HEX2[low >>> 24] | (HEX2[(low >>> 16) & 255] << 16), true);
  view.setUint32(p + 4, HEX2[(low >>> 8) & 255] | (HEX2[low & 255] << 16), true);
  return p + 8;
}
