// Copying short messages out of the ring without allocating. On Node 20, `target.set(ring.subarray(...))` costs
// ~60 ns for 64 bytes (most of it creating the subarray) and a byte loop ~125 ns; copying 32-bit words through
// an Int32Array view of the target costs ~25 ns. The view is kept for the next call, since a receiver usually
// reuses one buffer (that is what receiveInto is for). The kept view holds that buffer alive until another target
// replaces it or the channel is garbage-collected.

/** Messages up to this size are copied word by word; longer ones with TypedArray.prototype.set (a memcpy). */
export const WORD_COPY_MAX = 256;

export class WordCopier {
  #target: Uint8Array | null = null;
  #words: Int32Array<ArrayBufferLike> = new Int32Array(0);

  /**
   * Copies `length` bytes from the ring at byte offset `start` (a multiple of 4) into `target[0..length)`.
   * `ringWords` and `ringBytes` view the same ring memory.
   */
  copyOut(ringWords: Int32Array, ringBytes: Uint8Array, start: number, target: Uint8Array, length: number): void {
    if (length > WORD_COPY_MAX || (target.byteOffset & 3) !== 0) {
      target.set(ringBytes.subarray(start, start + length));
      return;
    }
    const words = this.#wordsOf(target);
    const whole = length >> 2;
    const from = start >> 2;
    for (let k = 0; k < whole; k++) words[k] = ringWords[from + k];
    for (let k = whole << 2; k < length; k++) target[k] = ringBytes[start + k];
  }

  /** An Int32Array over target's whole words; rebuilt when the target changes (or its length did: a resizable buffer). */
  #wordsOf(target: Uint8Array): Int32Array<ArrayBufferLike> {
    let words = this.#words;
    if (target !== this.#target || words.length !== target.length >> 2) {
      words = this.#words = new Int32Array(target.buffer, target.byteOffset, target.length >> 2);
      this.#target = target;
    }
    return words;
  }
}
