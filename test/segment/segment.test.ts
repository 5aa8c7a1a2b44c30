import { afterAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Segment, ShmError, ftok } from '../../lib/index.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { catchError } from '../support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-segment-'));
const keyFile = join(dir, 'key');
writeFileSync(keyFile, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function track(segment: Segment): Segment {
  removeAfterTest(segment.id);
  return segment;
}

describe('Segment.create / open / openOrCreate / fromId', () => {
  it('creates a private segment, owner-only by default', () => {
    const segment = track(Segment.create({ size: 5000 }));
    expect(segment.created).toBe(true);
    expect(segment.key).toBe(0);
    expect(segment.size).toBe(5000);
    expect(segment.mode).toBe(0o600);
    expect(procRow(segment.id)!.perms & 0o777).toBe(0o600);
  });

  it('creates by key, exclusive by default', () => {
    const key = uniqueKey();
    const segment = track(Segment.create({ key, size: 100, mode: 0o640 }));
    expect(segment.keyHex).toBe('0x' + (key >>> 0).toString(16).padStart(8, '0'));
    expect(catchError(() => Segment.create({ key, size: 100 })).code).toBe('EEXIST');
    const again = Segment.create({ key, size: 100, exclusive: false });
    expect(again.id).toBe(segment.id);
  });

  it('creates and opens by path + projId through ftok', () => {
    const segment = track(Segment.create({ path: keyFile, projId: 7, size: 64 }));
    expect(segment.key).toBe(ftok(keyFile, 7));
    const opened = Segment.open({ path: keyFile, projId: 7 });
    expect(opened.id).toBe(segment.id);
    expect(opened.created).toBe(false);
  });

  it('open() gives the real size whatever size it was created with', () => {
    const key = uniqueKey();
    const segment = track(Segment.create({ key, size: 12_345 }));
    expect(Segment.open(key).size).toBe(12_345);
    expect(Segment.open(key >>> 0).id).toBe(segment.id);
  });

  it('open() of a missing key is ENOENT; of IPC_PRIVATE a RangeError', () => {
    expect(catchError(() => Segment.open(uniqueKey()))).toMatchObject({ code: 'ENOENT', syscall: 'shmget' });
    expect(() => Segment.open(0)).toThrow(RangeError);
    expect(() => Segment.open('x' as never)).toThrow(TypeError);
  });

  it('openOrCreate creates once, then opens; a smaller existing segment is a clear error', () => {
    const key = uniqueKey();
    const first = track(Segment.openOrCreate({ key, size: 1000 }));
    expect(first.created).toBe(true);
    const second = Segment.openOrCreate({ key, size: 500 });
    expect(second.created).toBe(false);
    expect(second.id).toBe(first.id);
    expect(second.size).toBe(1000);
    const error = catchError(() => Segment.openOrCreate({ key, size: 2000 }));
    expect(error).toBeInstanceOf(ShmError);
    expect(error.code).toBe('EINVAL');
    expect(error.message).toMatch(/1000 bytes, smaller than the 2000/);
  });

  it('fromId opens by id, also after the segment was marked for removal', () => {
    const segment = track(Segment.create({ key: uniqueKey(), size: 64 }));
    const attachment = segment.attach();
    segment.remove();
    const byId = Segment.fromId(segment.id);
    expect(byId.size).toBe(64);
    expect(byId.key).toBe(0);
    expect(byId.markedForRemoval).toBe(true);
    const second = byId.attach();
    expect(segment.numberAttached).toBe(2);
    second.detach();
    attachment.detach();
    expect(procRow(segment.id)).toBeUndefined();
  });

  it('rejects bad options before any syscall', () => {
    expect(() => Segment.create({ size: -1 })).toThrow(RangeError);
    expect(() => Segment.create({ size: 10, mode: 0o1000 })).toThrow(RangeError);
    expect(() => Segment.create({ size: 10, key: 1, path: keyFile, projId: 1 })).toThrow(TypeError);
    expect(() => Segment.create({ size: 10, path: keyFile })).toThrow(/projId/);
    expect(() => Segment.create({ size: 10, hugePages: '4KB' as never })).toThrow(TypeError);
    expect(() => Segment.create(undefined as never)).toThrow(TypeError);
  });
});

describe('Segment status and control', () => {
  it('stat() decodes everything in friendly form', () => {
    const key = uniqueKey();
    const segment = track(Segment.create({ key, size: 4096, mode: 0o640 }));
    const before = segment.stat();
    expect(before).toMatchObject({
      id: segment.id,
      key,
      size: 4096,
      mode: 0o640,
      uid: 0,
      gid: 0,
      cuid: 0,
      cgid: 0,
      creatorPid: process.pid,
      lastPid: 0,
      attached: 0,
      lastAttachTime: null,
      lastDetachTime: null,
      markedForRemoval: false,
      locked: false,
    });
    expect(before.lastChangeTime).toBeInstanceOf(Date);
    expect(Math.abs(before.lastChangeTime!.getTime() - Date.now())).toBeLessThan(5000);
    const attachment = segment.attach();
    const during = segment.stat();
    expect(during.attached).toBe(1);
    expect(during.lastAttachTime).toBeInstanceOf(Date);
    expect(during.lastPid).toBe(process.pid);
    attachment.detach();
    expect(segment.lastDetachTime).toBeInstanceOf(Date);
  });

  it('attribute getters read live values (sysv_ipc vocabulary)', () => {
    const segment = track(Segment.create({ size: 64 }));
    expect(segment.numberAttached).toBe(0);
    const a = segment.attach();
    expect(segment.numberAttached).toBe(1);
    expect(segment.lastAttachTime).toBeInstanceOf(Date);
    expect(segment.lastDetachTime).toBeNull();
    expect(segment.lastChangeTime).toBeInstanceOf(Date);
    expect(segment.creatorPid).toBe(process.pid);
    expect(segment.lastPid).toBe(process.pid);
    expect([segment.uid, segment.gid, segment.cuid, segment.cgid]).toEqual([0, 0, 0, 0]);
    expect(segment.locked).toBe(false);
    expect(segment.markedForRemoval).toBe(false);
    a.detach();
  });

  it('chmod and setOwner change one thing each', () => {
    const segment = track(Segment.create({ size: 64 }));
    segment.chmod(0o644);
    expect(segment.stat()).toMatchObject({ mode: 0o644, uid: 0 });
    segment.setOwner(1234, 5678);
    expect(segment.stat()).toMatchObject({ mode: 0o644, uid: 1234, gid: 5678, cuid: 0 });
  });

  it('lock and unlock', () => {
    const segment = track(Segment.create({ size: 4096 }));
    segment.lock();
    expect(segment.locked).toBe(true);
    segment.unlock();
    expect(segment.locked).toBe(false);
  });

  it('remove() while attached marks; the key becomes 0; the last detach destroys it', () => {
    const key = uniqueKey();
    const segment = track(Segment.create({ key, size: 64 }));
    const a = segment.attach();
    segment.remove();
    expect(segment.stat()).toMatchObject({ markedForRemoval: true, key: 0 });
    expect(catchError(() => Segment.open(key)).code).toBe('ENOENT');
    a.detach();
    expect(catchError(() => segment.stat()).code).toBe('EINVAL');
  });

  it('removeOnceAttached removes as soon as enough attachments exist', async () => {
    const segment = track(Segment.create({ size: 64 }));
    const a = segment.attach();
    const removal = segment.removeOnceAttached(2, { timeoutMs: 5000 });
    setTimeout(() => segment.attach(), 20);
    await removal;
    expect(segment.markedForRemoval).toBe(true);
    segment.detachAll();
    expect(a.detached).toBe(true);
    expect(procRow(segment.id)).toBeUndefined();
  });

  it('removeOnceAttached times out with ETIMEDOUT and leaves the segment', async () => {
    const segment = track(Segment.create({ size: 64 }));
    await expect(segment.removeOnceAttached(1, { timeoutMs: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(procRow(segment.id)).toBeDefined();
  });

  it('prints readably', () => {
    const segment = track(Segment.create({ key: 0x1234_5678 ^ (process.pid & 0xfff), size: 100, mode: 0o640 }));
    const a = segment.attach();
    const text = inspect(segment);
    expect(text).toMatch(/^Segment \{ id: \d+, key: 0x[0-9a-f]{8}, size: 100, mode: 0640, attached: 1, attached here: 1 \}$/);
    expect(inspect(a)).toMatch(/^SegmentAttachment \{ id: \d+, size: 100, at 0x[0-9a-f]+ \}$/);
    a.detach();
    expect(inspect(a)).toContain('detached');
    segment.remove();
    expect(inspect(segment)).toContain('gone (EINVAL)');
  });

  it('dispose detaches the attachments made through the segment', () => {
    const segment = track(Segment.create({ size: 64 }));
    {
      using s = Segment.fromId(segment.id);
      s.attach();
      s.attach({ readOnly: true });
      expect(segment.numberAttached).toBe(2);
    }
    expect(segment.numberAttached).toBe(0);
  });
});

describe('removeOnExit bookkeeping', () => {
  it('removesOnExit reflects removeOnExit() and cancelRemoveOnExit()', () => {
    const segment = Segment.create({ size: 64, removeOnExit: true });
    removeAfterTest(segment.id);
    expect(segment.removesOnExit).toBe(true);
    segment.cancelRemoveOnExit();
    expect(segment.removesOnExit).toBe(false);
    segment.removeOnExit();
    expect(segment.removesOnExit).toBe(true);
    segment.remove();
    expect(segment.removesOnExit).toBe(false);
  });
});
