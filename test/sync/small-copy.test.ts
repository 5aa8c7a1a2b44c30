// Copying short messages out of the ring word by word: every length, aligned and unaligned targets, a target
// that changes, and the memcpy path for long messages, checked against a plain byte copy.
import { describe, expect, it } from 'vitest';
import { WORD_COPY_MAX, WordCopier } from '../../lib/internal.js';

function ring(size: number): { bytes: Uint8Array; words: Int32Array } {
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + 17) & 255;
  return { bytes, words: new Int32Array(buffer) };
}

describe('WordCopier', () => {
  it('copies every length up to beyond WORD_COPY_MAX exactly, leaving the rest of the target alone', () => {
    const { bytes, words } = ring(4096);
    const copier = new WordCopier();
    const target = new Uint8Array(WORD_COPY_MAX + 64);
    for (let length = 0; length <= WORD_COPY_MAX + 64; length++) {
      for (const start of [0, 8, 1024 + 4]) {
        target.fill(0xee);
        copier.copyOut(words, bytes, start, target, length);
        expect(Array.from(target.subarray(0, length))).toEqual(Array.from(bytes.subarray(start, start + length)));
        expect(target.subarray(length).every((b) => b === 0xee)).toBe(true);
      }
    }
  });

  it('handles targets at unaligned offsets and targets that change between calls', () => {
    const { bytes, words } = ring(1024);
    const copier = new WordCopier();
    const backing = new Uint8Array(200);
    for (const offset of [0, 1, 2, 3, 4, 5, 8]) {
      const target = backing.subarray(offset, offset + 100);
      copier.copyOut(words, bytes, 16, target, 99);
      expect(Array.from(target.subarray(0, 99))).toEqual(Array.from(bytes.subarray(16, 115)));
    }
    // The same object again after another target: still right.
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    copier.copyOut(words, bytes, 0, a, 64);
    copier.copyOut(words, bytes, 64, b, 64);
    copier.copyOut(words, bytes, 128, a, 64);
    expect(Array.from(a)).toEqual(Array.from(bytes.subarray(128, 192)));
    expect(Array.from(b)).toEqual(Array.from(bytes.subarray(64, 128)));
  });

  it('follows a target whose length changed (a view over a resizable buffer)', () => {
    const { bytes, words } = ring(1024);
    const copier = new WordCopier();
    const buffer = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(16, {
      maxByteLength: 256,
    });
    const target = new Uint8Array(buffer); // length-tracking
    copier.copyOut(words, bytes, 0, target, 16);
    buffer.resize(128);
    copier.copyOut(words, bytes, 32, target, 100);
    expect(Array.from(target.subarray(0, 100))).toEqual(Array.from(bytes.subarray(32, 132)));
  });
});
