// Random sequences of API calls, checked against a simple model of the kernel's semantics:
// create, attach (read-write or read-only), write, read, detach, remove, stat.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Segment, type ReadOnlySegmentAttachment, type SegmentAttachment } from '../../lib/index.js';
import { procRow } from '../support/segments.js';
import { catchError } from '../support/errors.js';

interface ModelSegment {
  size: number;
  data: Uint8Array;
  attached: number;
  removed: boolean;
  destroyed: boolean;
}
interface ModelAttachment {
  segment: number;
  readOnly: boolean;
  detached: boolean;
}
interface Model {
  segments: ModelSegment[];
  attachments: ModelAttachment[];
}
interface Real {
  segments: Segment[];
  attachments: Array<SegmentAttachment | ReadOnlySegmentAttachment>;
}

type Cmd = fc.Command<Model, Real>;
const pick = <T>(list: T[], index: number): [T, number] | undefined => (list.length ? [list[index % list.length], index % list.length] : undefined);

class Create implements Cmd {
  constructor(readonly size: number) {}
  check = () => true;
  run(m: Model, r: Real) {
    r.segments.push(Segment.create({ size: this.size }));
    m.segments.push({ size: this.size, data: new Uint8Array(this.size), attached: 0, removed: false, destroyed: false });
  }
  toString = () => `create(${this.size})`;
}

class Attach implements Cmd {
  constructor(
    readonly index: number,
    readonly readOnly: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.segments.length > 0;
  run(m: Model, r: Real) {
    const [segment, i] = pick(m.segments, this.index)!;
    if (segment.destroyed) {
      expect(['EINVAL', 'EIDRM']).toContain(catchError(() => r.segments[i].attach({ readOnly: this.readOnly })).code);
      return;
    }
    r.attachments.push(r.segments[i].attach({ readOnly: this.readOnly }));
    m.attachments.push({ segment: i, readOnly: this.readOnly, detached: false });
    segment.attached++;
  }
  toString = () => `attach(#${this.index}${this.readOnly ? ', ro' : ''})`;
}

class Write implements Cmd {
  constructor(
    readonly index: number,
    readonly offset: number,
    readonly bytes: Uint8Array,
  ) {}
  check = (m: Readonly<Model>) => m.attachments.length > 0;
  run(m: Model, r: Real) {
    const [attachment, i] = pick(m.attachments, this.index)!;
    const real = r.attachments[i];
    if (attachment.readOnly) {
      expect('write' in real).toBe(false);
      return;
    }
    const segment = m.segments[attachment.segment];
    const offset = this.offset % (segment.size + 1);
    const bytes = this.bytes.subarray(0, segment.size - offset);
    if (attachment.detached) {
      expect(catchError(() => (real as SegmentAttachment).write(bytes, offset)).code).toBe('ERR_SHM_DETACHED');
      return;
    }
    (real as SegmentAttachment).write(bytes, offset);
    segment.data.set(bytes, offset);
  }
  toString = () => `write(@${this.index}, ${this.offset}, ${this.bytes.length} B)`;
}

class Read implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.attachments.length > 0;
  run(m: Model, r: Real) {
    const [attachment, i] = pick(m.attachments, this.index)!;
    if (attachment.detached) {
      expect(catchError(() => r.attachments[i].read()).code).toBe('ERR_SHM_DETACHED');
      return;
    }
    expect(r.attachments[i].read()).toEqual(m.segments[attachment.segment].data);
  }
  toString = () => `read(@${this.index})`;
}

class Detach implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.attachments.length > 0;
  run(m: Model, r: Real) {
    const [attachment, i] = pick(m.attachments, this.index)!;
    if (attachment.detached) {
      // Detaching again does nothing, like close() (shmdt twice stays EINVAL, as in C): nothing changes.
      expect(() => r.attachments[i].detach()).not.toThrow();
      expect(r.attachments[i].detached).toBe(true);
      return;
    }
    r.attachments[i].detach();
    attachment.detached = true;
    const segment = m.segments[attachment.segment];
    segment.attached--;
    if (segment.removed && segment.attached === 0) segment.destroyed = true;
  }
  toString = () => `detach(@${this.index})`;
}

class Remove implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.segments.length > 0;
  run(m: Model, r: Real) {
    const [segment, i] = pick(m.segments, this.index)!;
    if (segment.destroyed) {
      expect(['EINVAL', 'EIDRM']).toContain(catchError(() => r.segments[i].remove()).code);
      return;
    }
    r.segments[i].remove(); // removing a marked segment again is allowed, as in C
    segment.removed = true;
    if (segment.attached === 0) segment.destroyed = true;
  }
  toString = () => `remove(#${this.index})`;
}

class Stat implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.segments.length > 0;
  run(m: Model, r: Real) {
    const [segment, i] = pick(m.segments, this.index)!;
    const real = r.segments[i];
    if (segment.destroyed) {
      expect(['EINVAL', 'EIDRM']).toContain(catchError(() => real.stat()).code);
      expect(procRow(real.id)).toBeUndefined();
      return;
    }
    const status = real.stat();
    expect({ size: status.size, attached: status.attached, markedForRemoval: status.markedForRemoval }).toEqual({
      size: segment.size,
      attached: segment.attached,
      markedForRemoval: segment.removed,
    });
    expect(procRow(real.id)?.nattch).toBe(segment.attached);
  }
  toString = () => `stat(#${this.index})`;
}

const index = fc.nat(20);
const commands = [
  fc.integer({ min: 1, max: 10_000 }).map((size) => new Create(size)),
  fc.tuple(index, fc.boolean()).map(([i, ro]) => new Attach(i, ro)),
  fc.tuple(index, fc.nat(10_000), fc.uint8Array({ minLength: 0, maxLength: 300 })).map(([i, o, b]) => new Write(i, o, b)),
  index.map((i) => new Read(i)),
  index.map((i) => new Detach(i)),
  index.map((i) => new Remove(i)),
  index.map((i) => new Stat(i)),
];

describe('random API sequences against a model of the kernel', () => {
  it('agree with the kernel on data, attachment counts and removal', () => {
    let executed = 0;
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60, size: 'large' }), (cmds) => {
        const real: Real = { segments: [], attachments: [] };
        executed += [...cmds].length;
        try {
          fc.modelRun(() => ({ model: { segments: [], attachments: [] }, real }), cmds);
        } finally {
          for (const a of real.attachments) a[Symbol.dispose]();
          for (const s of real.segments) {
            try {
              s.remove();
            } catch {
              // already destroyed
            }
          }
        }
      }),
      { numRuns: 100 },
    );
    expect(executed).toBeGreaterThan(1000); // the sequences are long enough to reach interesting states
    console.log(`model test: ${executed} commands in 100 sequences`);
  });
});
