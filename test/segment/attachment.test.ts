import { describe, expect, it } from 'vitest';
import { Segment, ReadOnlySegmentAttachment } from '../../lib/index.js';
import { removeAfterTest } from '../support/segments.js';
import { catchError } from '../support/errors.js';

function segment(size = 256): Segment {
  const s = Segment.create({ size });
  removeAfterTest(s.id);
  return s;
}

describe('SegmentAttachment', () => {
  it('bytes, buffer, dataView, nodeBuffer and view() all see the same memory, zero copy', () => {
    const s = segment(64);
    const a = s.attach();
    a.bytes[0] = 0x11;
    expect(a.dataView.getUint8(0)).toBe(0x11);
    expect(a.nodeBuffer[0]).toBe(0x11);
    expect(new Uint8Array(a.buffer)[0]).toBe(0x11);
    const words = a.view(Int32Array, 8, 2);
    words[1] = -5;
    expect(a.dataView.getInt32(12, true)).toBe(-5);
    expect(a.view(Float64Array).length).toBe(8);
    expect(a.bytes).toBe(a.bytes);
    a.detach();
  });

  it('view() checks alignment and bounds', () => {
    const a = segment(64).attach();
    expect(() => a.view(Int32Array, 2)).toThrow(/multiple of/);
    expect(() => a.view(Int32Array, 0, 17)).toThrow(RangeError);
    expect(() => a.view(Int32Array, 68)).toThrow(RangeError);
    expect(() => a.view(Object as never)).toThrow(TypeError);
    expect(a.view(BigInt64Array, 56).length).toBe(1);
    a.detach();
  });

  it('write, read, readString and fill copy in and out', () => {
    const a = segment(64).attach();
    expect(a.write('héllo', 4)).toBe(6);
    expect(a.readString(4)).toBe('héllo');
    expect(a.readString(4, 2)).toBe('h\ufffd'); // a length that cuts a UTF-8 sequence decodes as U+FFFD
    expect(a.write(new Uint16Array([0x0102]), 20)).toBe(2);
    expect([...a.read(20, 2)]).toEqual([0x02, 0x01]);
    a.fill(0xff, 30, 4);
    expect([...a.read(29, 6)]).toEqual([0, 255, 255, 255, 255, 0]);
    a.fill('ab', 40, 5);
    expect(a.readString(40, 5, 'latin1')).toBe('ababa');
    expect(a.write(Buffer.from('hex'), 0)).toBe(3);
    const copy = a.read(0, 3);
    copy[0] = 0;
    expect(a.bytes[0]).toBe('h'.charCodeAt(0));
    expect(() => a.write('x'.repeat(65))).toThrow(RangeError);
    expect(() => a.write(42 as never)).toThrow(TypeError);
    expect(() => a.fill(1, 60, 10)).toThrow(RangeError);
    a.detach();
  });

  it('after detach every accessor throws ERR_SHM_DETACHED; dispose and detach twice are harmless, like close()', () => {
    const a = segment(64).attach();
    const bytes = a.bytes;
    a.detach();
    for (const access of [
      () => a.bytes,
      () => a.buffer,
      () => a.dataView,
      () => a.nodeBuffer,
      () => a.view(Uint8Array),
      () => a.read(),
      () => a.readString(),
      () => a.write('x'),
      () => a.fill(0),
    ]) {
      expect(catchError(access).code).toBe('ERR_SHM_DETACHED');
    }
    bytes[0] = 1; // harmless
    a[Symbol.dispose]();
    a[Symbol.dispose]();
    a.detach();
    expect(a.detached).toBe(true);
  });

  it('`using` detaches at the end of the block', () => {
    const s = segment(64);
    {
      using a = s.attach();
      a.write('x');
      expect(s.numberAttached).toBe(1);
    }
    expect(s.numberAttached).toBe(0);
  });
});

describe('ReadOnlySegmentAttachment', () => {
  it('reads by copy and has no way to write', () => {
    const s = segment(64);
    const w = s.attach();
    w.write('read me', 8);
    const r = s.attach({ readOnly: true });
    expect(r).toBeInstanceOf(ReadOnlySegmentAttachment);
    expect(r.readOnly).toBe(true);
    expect(r.readString(8)).toBe('read me');
    expect(r.read(8, 4)).toEqual(new Uint8Array([...'read'].map((c) => c.charCodeAt(0))));
    for (const name of ['bytes', 'buffer', 'dataView', 'nodeBuffer', 'view', 'write', 'fill']) {
      expect(name in r).toBe(false);
    }
    r.detach();
    expect(catchError(() => r.read()).code).toBe('ERR_SHM_DETACHED');
    w.detach();
  });
});
