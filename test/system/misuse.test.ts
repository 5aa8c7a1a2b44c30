// Misuse of the friendly layer. Each case runs in a child process: a misuse that crashed (SIGSEGV, SIGBUS) would
// kill the child, not the runner, and the test asserts that the child exits normally with the expected error codes.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../support/child.js';
import { childResults, procRow, uniqueKey } from '../support/segments.js';
import type { Outcome } from '../fixtures/system/misuse-outcomes.js';

/**
 * Runs test/fixtures/system/misuse-<name>.ts, which records what each call ended with; returns its results. The
 * child must exit normally, print nothing on stderr, and leave no segment.
 */
function inChild(name: string, args: Array<string | number> = []): Record<string, Outcome> {
  const result = runProgram(fileURLToPath(new URL(`../fixtures/system/misuse-${name}.ts`, import.meta.url)), args);
  const results = childResults<Record<string, Outcome>>(result);
  for (const match of result.stdout.matchAll(/^made (\d+)$/gm)) expect(procRow(Number(match[1])), `segment ${match[1]} left behind`).toBeUndefined();
  return results;
}

const failed = (code: string, extra: Record<string, unknown> = {}) => expect.objectContaining({ code, isShmError: true, ...extra });
const gone = () => expect.objectContaining({ code: expect.stringMatching(/^(EINVAL|EIDRM)$/), isShmError: true });

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
    const r = inChild('use-after-detach', ['detach']);
    expectDetachedOutcomes(r);
  });

  it('use after [Symbol.dispose](): the same', () => {
    const r = inChild('use-after-detach', ['dispose']);
    expectDetachedOutcomes(r);
  });

  it('use after the segment’s own [Symbol.dispose]() (detachAll): the same', () => {
    const r = inChild('use-after-detach', ['segment-dispose']);
    expectDetachedOutcomes(r);
  });

  // Node 20 has no `using` itself: tsx compiles the fixture down.
  it('`using` declarations detach at the end of the block, also when it throws; the attachment is then unusable', () => {
    const r = inChild('using-declarations');
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
    const r = inChild('read-only-attachment');
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
    const r = inChild('dispose-twice');
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
    const r = inChild('removed-segment', [uniqueKey()]);
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
    const r = inChild('ipcrm-while-attached', [key]);
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
    const r = inChild('open-or-create-sizes', [key]);
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
    const r = inChild('open-missing', [key]);
    expect(r.open).toEqual(failed('ENOENT', { syscall: 'shmget' }));
    expect((r.open as { message: string }).message).toContain('0x' + (key >>> 0).toString(16).padStart(8, '0'));
    expect(r.openUnsigned).toEqual(failed('ENOENT', { syscall: 'shmget' }));
    expect(r.openPath).toEqual(failed('ENOENT', { syscall: 'ftok' }));
    expect(r.openPrivate).toMatchObject({ name: 'RangeError', isShmError: false });
  });
});
