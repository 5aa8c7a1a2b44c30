// One policy for timeouts, counts and byte values across the API (docs/api.md, "Errors"): the wrong type is a
// TypeError, out of range a RangeError, both before any syscall; no limit is undefined, Infinity or any timeout
// beyond 2^31 - 1 seconds; nothing is silently truncated.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Channel, Segment, notify, wait, waitAsync, type SegmentAttachment } from '../../lib/index.js';
import { MAX_TIMEOUT_MS, futexCallCounts } from '../../lib/internal.js';
import { killChildren, recordProgram } from '../support/child.js';
import { removeAfterTest } from '../support/segments.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/system/${name}`, import.meta.url));
const open: Array<SegmentAttachment | Channel> = [];

afterEach(async () => {
  for (const thing of open.splice(0)) {
    if (thing instanceof Channel) thing.close();
    else if (!thing.detached) thing.detach();
  }
  await killChildren();
});

function word(): { segment: Segment; view: Int32Array } {
  const segment = Segment.create({ size: 4096 });
  removeAfterTest(segment.id);
  const attachment = segment.attach();
  open.push(attachment);
  return { segment, view: attachment.view(Int32Array, 0, 4) };
}

const BAD_TIMEOUTS: Array<[unknown, ErrorConstructor]> = [
  [Number.NaN, RangeError],
  [-1, RangeError],
  [-Infinity, RangeError],
  ['10', TypeError],
  [10n, TypeError],
  [null, TypeError],
  [{}, TypeError],
];

describe('timeouts', () => {
  it('wait and waitAsync refuse a bad timeout before any syscall, even when the word already differs', async () => {
    const { view } = word();
    const before = futexCallCounts();
    for (const [timeout, kind] of BAD_TIMEOUTS) {
      expect(() => wait(view, 0, 1, timeout as number), String(timeout)).toThrow(kind);
      await expect(waitAsync(view, 0, 1, timeout as number), String(timeout)).rejects.toThrow(kind);
      expect(() => wait(view, 0, 0, timeout as number), String(timeout)).toThrow(kind);
    }
    expect(futexCallCounts()).toEqual(before);
  });

  it('a timeout beyond 2^31 - 1 seconds means no limit (1e300 used to time out at once, 1e22 to be EINVAL)', async () => {
    expect(MAX_TIMEOUT_MS).toBe((2 ** 31 - 1) * 1000);
    for (const timeout of [1e300, 1e22, MAX_TIMEOUT_MS + 1, Infinity]) {
      const { segment, view } = word();
      const child = recordProgram(program('notify-later.ts'), [segment.id, 300]);
      // It waits for the child (never 'timed-out' at once): 'ok' when the notify found it asleep, 'not-equal' when
      // the word changed between two of its sleeps (a sliced wait re-compares the word when it sleeps again).
      expect(wait(view, 0, 0, timeout), String(timeout)).not.toBe('timed-out');
      expect(Atomics.load(view, 0)).toBe(1);
      expect((await child.exit).code).toBe(0);
    }
    const { segment, view } = word();
    const child = recordProgram(program('notify-later.ts'), [segment.id, 300]);
    expect(await waitAsync(view, 0, 0, 1e300)).not.toBe('timed-out');
    expect(Atomics.load(view, 0)).toBe(1);
    expect((await child.exit).code).toBe(0);
  });

  it('a long finite timeout within the range is honoured as given (not cut to an int32 of ms)', () => {
    const { view } = word();
    // 2^31 ms + 50 ms is above what setTimeout takes; the futex wait gets it whole. The word differs: no sleep.
    view[0] = 5;
    expect(wait(view, 0, 0, 2 ** 31 + 50)).toBe('not-equal');
    expect(wait(view, 0, 5, 0)).toBe('timed-out');
  });

  it('every Channel operation checks timeoutMs before anything else, also when no wait is needed', async () => {
    const producer = Channel.create({ capacity: 4096 });
    open.push(producer);
    const consumer = Channel.open(producer.id);
    open.push(consumer);
    producer.send(new Uint8Array(8));
    for (const [timeoutMs, kind] of BAD_TIMEOUTS) {
      const options = { timeoutMs: timeoutMs as number };
      expect(() => producer.send(new Uint8Array(1), options), `send ${String(timeoutMs)}`).toThrow(kind);
      expect(() => producer.reserve(1, options), `reserve ${String(timeoutMs)}`).toThrow(kind);
      await expect(producer.sendAsync(new Uint8Array(1), options)).rejects.toThrow(kind);
      expect(() => consumer.receive(options), `receive ${String(timeoutMs)}`).toThrow(kind);
      expect(() => consumer.receiveInto(new Uint8Array(64), options)).toThrow(kind);
      expect(() => consumer.peek(options)).toThrow(kind);
      await expect(consumer.receiveAsync(options)).rejects.toThrow(kind);
    }
    // Nothing was sent or taken by the refused calls: the one message is still there, alone.
    expect(consumer.tryReceive()).toEqual(new Uint8Array(8));
    expect(consumer.tryReceive()).toBeNull();
  });

  it('a Channel receive with a timeout beyond the range waits without limit for a message from another process', async () => {
    const child = recordProgram(program('send-later.ts'), [300]);
    const id = Number((await child.line(/^id (\d+)$/m))[1]);
    const consumer = Channel.open(id);
    open.push(consumer);
    expect(new TextDecoder().decode(consumer.receive({ timeoutMs: 1e300 })!)).toBe('late');
    expect((await child.exit).code).toBe(0);
  });

  it('removeOnceAttached refuses NaN, negative and non-number timeouts, counts and poll intervals at once', async () => {
    const segment = Segment.create({ size: 64 });
    removeAfterTest(segment.id);
    await expect(segment.removeOnceAttached(1, { timeoutMs: Number.NaN })).rejects.toThrow(RangeError);
    await expect(segment.removeOnceAttached(1, { timeoutMs: -5 })).rejects.toThrow(RangeError);
    await expect(segment.removeOnceAttached(1, { timeoutMs: '5' as never })).rejects.toThrow(TypeError);
    await expect(segment.removeOnceAttached(0)).rejects.toThrow(RangeError);
    await expect(segment.removeOnceAttached(1.5)).rejects.toThrow(RangeError);
    await expect(segment.removeOnceAttached(1, { pollMs: 0 })).rejects.toThrow(RangeError);
    await expect(segment.removeOnceAttached(1, { pollMs: Number.NaN })).rejects.toThrow(RangeError);
    // A valid call still works: 0 ms with nobody attached times out at once, nothing removed.
    await expect(segment.removeOnceAttached(1, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(segment.stat().markedForRemoval).toBe(false);
  });
});

describe('counts and byte values', () => {
  it('notify takes an integer count >= 0 or Infinity', () => {
    const { view } = word();
    for (const [count, kind] of [
      [-1, RangeError],
      [1.5, RangeError],
      [Number.NaN, RangeError],
      ['1', TypeError],
    ] as const) {
      expect(() => notify(view, 0, count as number), String(count)).toThrow(kind);
    }
    expect(notify(view, 0, 0)).toBe(0);
    expect(notify(view, 0, Infinity)).toBe(0);
    expect(notify(view, 0, 2 ** 40)).toBe(0); // more than the kernel takes: all of them
  });

  it('spins are integers >= 0 (wait, Channel.create, Channel.open, channel.spin)', () => {
    const { view } = word();
    expect(() => wait(view, 0, 1, 0, { spin: -1 })).toThrow(RangeError);
    expect(() => wait(view, 0, 1, 0, { spin: 0.5 })).toThrow(RangeError);
    expect(() => Channel.create({ spin: Number.NaN })).toThrow(RangeError);
    const producer = Channel.create({ capacity: 64 });
    open.push(producer);
    expect(() => Channel.open(producer.id, { spin: '1' as never })).toThrow(TypeError);
    expect(() => (producer.spin = -3)).toThrow(RangeError);
    producer.spin = 10;
    expect(producer.spin).toBe(10);
  });

  it('fill takes a byte 0..255 or a non-empty string; fill(256) is a RangeError, not 0x00', () => {
    const segment = Segment.create({ size: 64 });
    removeAfterTest(segment.id);
    const attachment = segment.attach();
    open.push(attachment);
    for (const [value, kind] of [
      [256, RangeError],
      [-1, RangeError],
      [1.5, RangeError],
      [Number.NaN, RangeError],
      ['', RangeError],
      [null, TypeError],
      [7n, TypeError],
    ] as const) {
      expect(() => attachment.fill(value as number), String(value)).toThrow(kind);
    }
    expect(attachment.read(0, 64).every((b) => b === 0)).toBe(true); // nothing written by the refused calls
    attachment.fill(255, 0, 2).fill('ab', 2, 3);
    expect([...attachment.read(0, 6)]).toEqual([255, 255, 97, 98, 97, 0]);
  });
});
