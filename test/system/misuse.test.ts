// Misuse of the friendly layer. Each case runs in a child process: a misuse that crashed (SIGSEGV, SIGBUS) would
// kill the child, not the runner, and the test asserts that the child exits normally with the expected error codes.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIB, runChild } from '../support/child.js';
import { childResults, procRow, uniqueKey } from '../support/segments.js';

type Outcome = { ok: unknown } | { code: string; name: string; syscall?: string; operation?: string; message: string; isShmError: boolean };

const PRELUDE = `
  import { Segment, SegmentAttachment, ReadOnlySegmentAttachment, ShmError, list } from LIB;
  import { execFileSync } from 'node:child_process';
  import { inspect } from 'node:util';
  const results = {};
  const made = [];
  const track = (segment) => { made.push(segment.id); console.log('made ' + segment.id); return segment; };
  const report = (name, fn) => {
    try {
      const value = fn();
      results[name] = { ok: value === undefined ? null : value };
    } catch (e) {
      results[name] = { code: e.code, name: e.name, syscall: e.syscall, operation: e.operation, message: e.message, isShmError: e instanceof ShmError };
    }
  };
`;

/** Runs the body in a child; returns its `results`. The child must exit normally, print nothing on stderr, and leave no segment. */
function inChild(body: string, options: { preamble?: string } = {}): Record<string, Outcome> {
  const result = runChild(`${PRELUDE}\n${options.preamble ?? ''}\n${body}\nconsole.log('results ' + JSON.stringify(results));`);
  const results = childResults<Record<string, Outcome>>(result);
  for (const match of result.stdout.matchAll(/^made (\d+)$/gm)) expect(procRow(Number(match[1])), `segment ${match[1]} left behind`).toBeUndefined();
  return results;
}

const failed = (code: string, extra: Record<string, unknown> = {}) => expect.objectContaining({ code, isShmError: true, ...extra });
const gone = () => expect.objectContaining({ code: expect.stringMatching(/^(EINVAL|EIDRM)$/), isShmError: true });

// The same checks for a detached attachment, however it was detached.
const AFTER_DETACH_CHECKS = `
  for (const name of ['bytes', 'buffer', 'dataView', 'nodeBuffer']) report(name, () => { a[name]; return 'reachable'; });
  report('view', () => { a.view(Int32Array); return 'reachable'; });
  report('read', () => a.read(0, 4).length);
  report('readString', () => a.readString(8));
  report('write', () => a.write('x'));
  report('fill', () => { a.fill(1); return 'filled'; });
  report('detached', () => a.detached);
  report('inspect', () => inspect(a));
  report('attachedHere', () => segment.attachments.length);
  // Views taken before the detach stay harmless: they read zeros, and writes through them reach nothing shared.
  report('staleRead', () => [view[0], bytes[8], dataView.getUint8(8), nodeBuffer[8]]);
  report('staleWrite', () => { view[0] = 7; bytes[9] = 7; nodeBuffer[10] = 7; dataView.setUint8(11, 7); return 'no crash'; });
  const b = segment.attach();
  report('segmentAfter', () => [b.view(Int32Array)[0], b.readString(8), b.read(9, 3).join(',')]);
  b.detach();
  report('nattch', () => segment.numberAttached);
  segment.remove();
`;

const SETUP_ATTACHMENT = `
  const segment = track(Segment.create({ size: 4096 }));
  const a = segment.attach();
  const view = a.view(Int32Array);
  const bytes = a.bytes;
  const dataView = a.dataView;
  const nodeBuffer = a.nodeBuffer;
  view[0] = 42;
  a.write('hello', 8);
`;

function expectDetachedOutcomes(r: Record<string, Outcome>) {
  for (const name of ['bytes', 'buffer', 'dataView', 'nodeBuffer', 'view', 'read', 'readString', 'write', 'fill']) {
    expect(r[name], name).toEqual(failed('ERR_SHM_DETACHED'));
  }
  expect((r.read as { message: string }).message).toMatch(/detached/);
  expect(r.detached).toEqual({ ok: true });
  expect(r.inspect).toEqual({ ok: expect.stringContaining('detached') });
  expect(r.attachedHere).toEqual({ ok: 0 });
  expect(r.staleRead).toEqual({ ok: [0, 0, 0, 0] });
  expect(r.staleWrite).toEqual({ ok: 'no crash' });
  // The segment still holds what was written before the detach ("hello" at 8, so "ell" at 9..11), and nothing
  // written through the stale views (which wrote 7s there).
  expect(r.segmentAfter).toEqual({ ok: [42, 'hello', '101,108,108'] });
  expect(r.nattch).toEqual({ ok: 0 });
}

describe('misuse, each in a child process', () => {
  it('use after detach: every accessor throws ERR_SHM_DETACHED; views kept from before read zeros and write nowhere', () => {
    const r = inChild(`${SETUP_ATTACHMENT}\n a.detach();\n${AFTER_DETACH_CHECKS}`);
    expectDetachedOutcomes(r);
  });

  it('use after [Symbol.dispose](): the same', () => {
    const r = inChild(`${SETUP_ATTACHMENT}\n a[Symbol.dispose]();\n${AFTER_DETACH_CHECKS}`);
    expectDetachedOutcomes(r);
  });

  it('use after the segment’s own [Symbol.dispose]() (detachAll): the same', () => {
    const r = inChild(`${SETUP_ATTACHMENT}\n segment[Symbol.dispose]();\n${AFTER_DETACH_CHECKS}`);
    expectDetachedOutcomes(r);
  });

  // `using` is not supported by Node 20 itself, and tsx does not transform -e code: the child imports a
  // .mts module (which tsx compiles down) from a temporary directory.
  const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-using-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('`using` declarations detach at the end of the block, also when it throws; the attachment is then unusable', () => {
    const module = join(dir, 'using.mts');
    writeFileSync(
      module,
      `import { Segment } from ${JSON.stringify(LIB)};
      export function run(report: (name: string, fn: () => unknown) => void, track: (s: Segment) => Segment) {
        const segment = track(Segment.create({ size: 4096 }));
        let escaped: ReturnType<Segment['attach']> | undefined;
        let view: Int32Array | undefined;
        {
          using a = segment.attach();
          escaped = a;
          view = a.view(Int32Array);
          view[0] = 5;
          report('inside', () => segment.numberAttached);
        }
        report('after', () => segment.numberAttached);
        report('escapedRead', () => escaped!.read(0, 4).length);
        report('staleView', () => view![0]);
        try {
          using b = segment.attach();
          using c = segment.attach({ readOnly: true });
          report('both', () => segment.numberAttached + (b.readOnly ? 10 : 0) + (c.readOnly ? 100 : 0));
          throw new Error('thrown inside the block');
        } catch (error) {
          report('caught', () => (error as Error).message);
        }
        report('afterThrow', () => segment.numberAttached);
        {
          using s2 = segment; // a Segment's dispose detaches what it attached, and does not remove it
          s2.attach();
          s2.attach();
        }
        report('segmentDisposed', () => [segment.numberAttached, segment.stat().markedForRemoval]);
        const fresh = segment.attach({ readOnly: true });
        report('data', () => fresh.read(0, 4).join(','));
        fresh.detach();
        segment.remove();
      }`,
    );
    const r = inChild(`const m = await import(${JSON.stringify(module)}); m.run(report, track);`);
    expect(r).toEqual({
      inside: { ok: 1 },
      after: { ok: 0 },
      escapedRead: failed('ERR_SHM_DETACHED'),
      staleView: { ok: 0 },
      both: { ok: 2 + 0 + 100 },
      caught: { ok: 'thrown inside the block' },
      afterThrow: { ok: 0 },
      segmentDisposed: { ok: [0, false] },
      data: { ok: '5,0,0,0' },
    });
  });

  it('a read-only attachment has no way to write: no write/fill/view/bytes/buffer/dataView/nodeBuffer, and no back door', () => {
    const r = inChild(`
      const segment = track(Segment.create({ size: 4096 }));
      const rw = segment.attach();
      rw.write('original');
      const ro = segment.attach({ readOnly: true });
      report('class', () => [ro instanceof ReadOnlySegmentAttachment, ro instanceof SegmentAttachment, ro.readOnly]);
      report('members', () => ['write', 'fill', 'view', 'bytes', 'buffer', 'dataView', 'nodeBuffer'].filter((name) => name in ro || ro[name] !== undefined));
      report('reads', () => [ro.readString(0), ro.read(0, 3).join(','), ro.size]);
      // The copy a read returns is the caller's own: changing it changes nothing shared.
      report('copy', () => { const copy = ro.read(0, 8); copy.fill(0x21); return ro.readString(0); });
      // Borrowing the writable class's methods does not help: they need a buffer, which a read-only attachment never has.
      report('borrowedWrite', () => SegmentAttachment.prototype.write.call(ro, 'XXXX'));
      report('borrowedFill', () => SegmentAttachment.prototype.fill.call(ro, 0));
      report('borrowedBytes', () => Object.getOwnPropertyDescriptor(SegmentAttachment.prototype, 'bytes').get.call(ro));
      report('borrowedView', () => { const v = SegmentAttachment.prototype.view.call(ro, Uint8Array); v.fill?.(0x58); return { length: v.length, readBack: ro.readString(0) }; });
      report('rawBuffer', () => ro.raw.buffer);
      report('unchanged', () => rw.readString(0));
      ro.detach();
      rw.detach();
      segment.remove();
    `);
    expect(r.class).toEqual({ ok: [true, false, true] });
    expect(r.members).toEqual({ ok: [] });
    expect(r.reads).toEqual({ ok: ['original', '111,114,105', 4096] });
    expect(r.copy).toEqual({ ok: 'original' });
    // view() borrowed onto a read-only attachment finds no buffer getter there (undefined) and builds an empty,
    // unrelated Uint8Array: useless, but it reaches no memory. Anything else must be an error.
    if ('ok' in r.borrowedView) expect(r.borrowedView).toEqual({ ok: { length: 0, readBack: 'original' } });
    for (const name of ['borrowedWrite', 'borrowedFill', 'borrowedBytes', 'rawBuffer', ...('ok' in r.borrowedView ? [] : ['borrowedView'])]) {
      const outcome = r[name] as { code?: string; name?: string };
      // Either our read-only error or a TypeError from a private field of the other class: never a write.
      expect(outcome.code === 'ERR_SHM_READ_ONLY' || outcome.name === 'TypeError', `${name}: ${JSON.stringify(outcome)}`).toBe(true);
    }
    expect(r.rawBuffer).toEqual(failed('ERR_SHM_READ_ONLY'));
    expect(r.unchanged).toEqual({ ok: 'original' });
  });

  it('a second dispose or detach is a no-op, in any order (like close())', () => {
    const r = inChild(`
      const segment = track(Segment.create({ size: 4096 }));
      const a = segment.attach();
      report('dispose1', () => a[Symbol.dispose]());
      report('dispose2', () => a[Symbol.dispose]());
      report('detachAfterDispose', () => a.detach());
      const b = segment.attach({ readOnly: true });
      report('detach1', () => b.detach());
      report('detach2', () => b.detach());
      report('disposeAfterDetach', () => b[Symbol.dispose]());
      report('segmentDispose1', () => segment[Symbol.dispose]());
      report('segmentDispose2', () => segment[Symbol.dispose]());
      report('detachAll', () => segment.detachAll());
      report('nattch', () => segment.numberAttached);
      segment.remove();
    `);
    expect(r).toEqual({
      dispose1: { ok: null },
      dispose2: { ok: null },
      detachAfterDispose: { ok: null },
      detach1: { ok: null },
      detach2: { ok: null },
      disposeAfterDetach: { ok: null },
      segmentDispose1: { ok: null },
      segmentDispose2: { ok: null },
      detachAll: { ok: null },
      nattch: { ok: 0 },
    });
  });

  it('operations on a removed segment fail with ShmError EINVAL/EIDRM, naming the id', () => {
    const r = inChild(`
      const segment = track(Segment.create({ size: 4096, key: ${uniqueKey()} }));
      segment.remove();
      report('stat', () => segment.stat());
      report('attach', () => segment.attach());
      report('attachReadOnly', () => segment.attach({ readOnly: true }));
      report('remove', () => segment.remove());
      report('chmod', () => segment.chmod(0o644));
      report('setOwner', () => segment.setOwner(1, 1));
      report('lock', () => segment.lock());
      report('numberAttached', () => segment.numberAttached);
      report('fromId', () => Segment.fromId(segment.id));
      report('open', () => Segment.open(segment.key));
      report('inspect', () => inspect(segment));
      report('listed', () => list().some((s) => s.id === segment.id));
    `);
    for (const name of ['stat', 'attach', 'attachReadOnly', 'remove', 'chmod', 'setOwner', 'lock', 'numberAttached', 'fromId']) {
      expect(r[name], name).toEqual(gone());
    }
    expect(r.stat).toMatchObject({ syscall: 'shmctl', message: expect.stringMatching(/no segment with id \d+|was removed/) });
    expect(r.attach).toMatchObject({ syscall: 'shmat' });
    expect(r.open).toEqual(failed('ENOENT', { syscall: 'shmget' }));
    expect(r.inspect).toEqual({ ok: expect.stringMatching(/gone \((EINVAL|EIDRM)\)/) });
    expect(r.listed).toEqual({ ok: false });
  });

  it('a segment removed by another process (ipcrm -m) while attached: views keep working until detach; stat shows it marked', () => {
    const key = uniqueKey();
    const r = inChild(`
      const segment = track(Segment.create({ size: 4096, key: ${key} }));
      const a = segment.attach();
      const view = a.view(Uint32Array);
      view[0] = 0xdeadbeef;
      execFileSync('ipcrm', ['-m', String(segment.id)]);
      report('marked', () => { const s = segment.stat(); return [s.markedForRemoval, s.key, s.keyHex, s.attached]; });
      report('listed', () => list().filter((s) => s.id === segment.id).map((s) => [s.markedForRemoval, s.keyHex]));
      report('viewWorks', () => { view[1] = 0xcafef00d; return [view[0].toString(16), view[1].toString(16), a.read(4, 4).join(',')]; });
      report('write', () => a.write('still here', 100));
      report('readString', () => a.readString(100));
      report('openByKey', () => Segment.open(${key}));
      // Linux still lets a process attach a marked segment by id until the last detach.
      report('attachById', () => { const b = Segment.fromId(segment.id).attach({ readOnly: true }); const v = b.read(0, 4).join(','); b.detach(); return v; });
      report('inspect', () => inspect(segment));
      a.detach();
      report('statAfter', () => segment.stat());
      report('listedAfter', () => list().some((s) => s.id === segment.id));
      report('removeAfter', () => segment.remove());
    `);
    expect(r.marked).toEqual({ ok: [true, 0, '0x00000000', 1] });
    expect(r.listed).toEqual({ ok: [[true, '0x00000000']] });
    expect(r.viewWorks).toEqual({ ok: ['deadbeef', 'cafef00d', '13,240,254,202'] });
    expect(r.write).toEqual({ ok: 10 });
    expect(r.readString).toEqual({ ok: 'still here' });
    expect(r.openByKey).toEqual(failed('ENOENT'));
    expect(r.attachById).toEqual({ ok: '239,190,173,222' });
    expect(r.inspect).toEqual({ ok: expect.stringContaining('marked for removal') });
    expect(r.statAfter).toEqual(gone());
    expect(r.listedAfter).toEqual({ ok: false });
    expect(r.removeAfter).toEqual(gone());
  });

  it('openOrCreate asking for more than an existing segment holds: EINVAL naming both sizes; less opens it at its real size', () => {
    const key = uniqueKey();
    const r = inChild(`
      const existing = track(Segment.create({ key: ${key}, size: 4096 }));
      report('larger', () => Segment.openOrCreate({ key: ${key}, size: 10000 }));
      report('smaller', () => { const s = Segment.openOrCreate({ key: ${key}, size: 100 }); return [s.id === existing.id, s.size, s.created]; });
      report('same', () => { const s = Segment.openOrCreate({ key: ${key}, size: 4096 }); return [s.id === existing.id, s.size, s.created]; });
      report('count', () => list().filter((s) => s.key === ${key}).length);
      report('size', () => existing.stat().size);
      existing.remove();
      report('createdWhenMissing', () => { const s = track(Segment.openOrCreate({ key: ${key}, size: 10000 })); const v = [s.created, s.size]; s.remove(); return v; });
    `);
    expect(r.larger).toEqual(failed('EINVAL', { operation: 'Segment.openOrCreate' }));
    const message = (r.larger as { message: string }).message;
    expect(message).toMatch(/^EINVAL: /);
    expect(message).toContain('4096 bytes');
    expect(message).toContain('10000');
    expect(message).toContain('0x' + (key >>> 0).toString(16).padStart(8, '0'));
    expect(r.smaller).toEqual({ ok: [true, 4096, false] });
    expect(r.same).toEqual({ ok: [true, 4096, false] });
    expect(r.count).toEqual({ ok: 1 });
    expect(r.size).toEqual({ ok: 4096 });
    expect(r.createdWhenMissing).toEqual({ ok: [true, 10000] });
  });

  it('Segment.open of a key nobody created: ENOENT naming the key; of a missing ftok path: ENOENT from ftok', () => {
    const key = uniqueKey();
    const r = inChild(`
      report('open', () => Segment.open(${key}));
      report('openUnsigned', () => Segment.open(${key >>> 0}));
      report('openPath', () => Segment.open({ path: '/nonexistent/sysv-shm-test', projId: 1 }));
      report('openPrivate', () => Segment.open(0));
    `);
    expect(r.open).toEqual(failed('ENOENT', { syscall: 'shmget' }));
    expect((r.open as { message: string }).message).toContain('0x' + (key >>> 0).toString(16).padStart(8, '0'));
    expect(r.openUnsigned).toEqual(failed('ENOENT', { syscall: 'shmget' }));
    expect(r.openPath).toEqual(failed('ENOENT', { syscall: 'ftok' }));
    expect(r.openPrivate).toMatchObject({ name: 'RangeError', isShmError: false });
  });
});
