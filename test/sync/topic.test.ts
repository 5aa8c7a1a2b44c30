// The Topic in one process: creation and subscription checks, both policies, late subscribers, peek/release, the
// async calls and iteration, leaving. Real processes: topic-processes.test.ts; forged shared memory: topic-hostile.
import { afterEach, describe, expect, it } from 'vitest';
import { ShmError, Topic, type Publisher, type Subscriber } from '../../lib/index.js';
import { procRow } from '../support/segments.js';
import { catchError } from '../support/errors.js';
import { checkMessage, makeMessage } from '../fixtures/sync/topic-messages.js';

const ends: Array<Publisher | Subscriber> = [];
afterEach(() => {
  for (const end of ends.splice(0)) end.close();
});

function create(options: Parameters<typeof Topic.create>[0] = {}): Publisher {
  const publisher = Topic.create(options);
  ends.push(publisher);
  return publisher;
}

function subscribe(id: number): Subscriber {
  const subscriber = Topic.subscribe(id);
  ends.push(subscriber);
  return subscriber;
}

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('Topic.create and Topic.subscribe check their arguments before any syscall', () => {
  it.each([
    [{ capacity: '1' }, TypeError],
    [{ capacity: 0 }, RangeError],
    [{ capacity: 1.5 }, RangeError],
    [{ capacity: 2 ** 30 + 1 }, RangeError],
    [{ subscribers: 0 }, RangeError],
    [{ subscribers: 1025 }, RangeError],
    [{ subscribers: '2' }, TypeError],
    [{ policy: 'fast' }, RangeError],
    [{ policy: 1 }, TypeError],
    [{ mode: 0o1000 }, RangeError],
    [{ spin: -1 }, RangeError],
  ])('create(%o): %s', (options, type) => {
    expect(() => Topic.create(options as never)).toThrow(type);
  });

  it('subscribe: a bad id or options', () => {
    expect(() => Topic.subscribe('1' as never)).toThrow(TypeError);
    expect(() => Topic.subscribe(-1)).toThrow(RangeError);
    expect(() => Topic.subscribe(1.5)).toThrow(RangeError);
    expect(() => Topic.subscribe(0, { spin: 'x' } as never)).toThrow(TypeError);
  });

  it('capacity is rounded up to a power of two; defaults', () => {
    const p = create({ capacity: 100 });
    expect([p.capacity, p.maxMessageSize, p.policy, p.closed]).toEqual([128, 120, 'block', false]);
    const d = create();
    expect([d.capacity, d.policy]).toEqual([1 << 20, 'block']);
  });

  it('subscribe to a segment that is not a topic: EPROTO; a publisher that closed: EPIPE', () => {
    const p = create();
    const id = p.id;
    p.close();
    expect(catchError(() => Topic.subscribe(id)).code).toMatch(/EINVAL|EIDRM/);
    const q = create();
    const s = subscribe(q.id);
    q.close();
    // The segment lives while the subscriber is attached: a new subscriber learns that the publisher closed.
    const error = catchError(() => Topic.subscribe(q.id));
    expect(error).toBeInstanceOf(ShmError);
    expect([error.code, error.operation]).toEqual(['EPIPE', 'Topic.subscribe']);
    s.close();
  });

  it('EAGAIN when every slot holds a live subscriber; a slot freed by close() is taken again', () => {
    const p = create({ subscribers: 2 });
    const a = subscribe(p.id);
    subscribe(p.id);
    expect(catchError(() => Topic.subscribe(p.id)).code).toBe('EAGAIN');
    a.close();
    const c = subscribe(p.id);
    expect(p.subscribers).toBe(2);
    p.publish(bytes(9));
    expect(c.receive({ timeoutMs: 1000 })).toEqual(bytes(9));
  });

  it('EMSGSIZE for a message larger than maxMessageSize, nothing written; no subscriber: messages go nowhere', () => {
    const p = create({ capacity: 64 });
    expect(catchError(() => p.publish(new Uint8Array(57))).code).toBe('EMSGSIZE');
    for (let i = 0; i < 100; i++) p.publish(new Uint8Array(56), { timeoutMs: 0 });
    expect(p.subscribers).toBe(0);
  });
});

describe.each(['block', 'drop'] as const)('policy %s', (policy) => {
  it('every subscriber receives every message published after it subscribed, in order', () => {
    const p = create({ capacity: 1 << 16, policy });
    p.publish(bytes(0)); // before anybody subscribed: nobody receives it
    const a = subscribe(p.id);
    const b = subscribe(p.id);
    for (let i = 1; i <= 50; i++) p.publish(makeMessage(i), { timeoutMs: 1000 });
    const late = subscribe(p.id);
    for (let i = 51; i <= 60; i++) p.publish(makeMessage(i), { timeoutMs: 1000 });
    for (const [s, from] of [
      [a, 1],
      [b, 1],
      [late, 51],
    ] as const) {
      for (let i = from; i <= 60; i++) expect(checkMessage(s.receive({ timeoutMs: 1000 })!)).toBe(i);
      expect(s.tryReceive()).toBeNull();
      expect(s.lost).toBe(0);
    }
    expect(p.subscribers).toBe(3);
  });

  it('receiveInto, peek + release, and the sequence errors', () => {
    const p = create({ capacity: 1024, policy });
    const s = subscribe(p.id);
    p.publish(bytes(1, 2, 3));
    p.publish(bytes(4, 5));
    p.publish(bytes(6));
    const target = new Uint8Array(2);
    expect(() => s.receiveInto(target)).toThrow(RangeError); // 3 bytes: stays in the topic
    const view = s.peek({ timeoutMs: 0 })!;
    expect(view).toEqual(bytes(1, 2, 3));
    expect(() => s.receive()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_PEEKED' }));
    expect(s.release()).toBe(true);
    expect(() => s.release()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_NOT_PEEKED' }));
    expect(s.receiveInto(target, { timeoutMs: 0 })).toBe(2);
    expect(target).toEqual(bytes(4, 5));
    expect(s.receive({ timeoutMs: 0 })).toEqual(bytes(6));
    expect(s.receive({ timeoutMs: 0 })).toBeNull();
  });

  it('async receive, for await, AbortSignal; the publisher closing ends the iteration quietly', async () => {
    const p = create({ capacity: 1024, policy });
    const s = subscribe(p.id);
    const controller = new AbortController();
    const pending = s.receiveAsync({ signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(s.receiveAsync({ timeoutMs: 5 })).resolves.toBeNull();
    const got: number[] = [];
    const iteration = (async () => {
      for await (const m of s) got.push(m[0]);
    })();
    for (let i = 0; i < 20; i++) await p.publishAsync(bytes(i), { timeoutMs: 1000 });
    p.close();
    await iteration;
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await expect(s.receiveAsync()).rejects.toMatchObject({ code: 'EPIPE' });
    expect(() => s.receive()).toThrow(expect.objectContaining({ code: 'EPIPE' }));
  });

  it('receiveIntoAsync and close() ending a pending wait (ERR_CHANNEL_CLOSED)', async () => {
    const p = create({ capacity: 1024, policy });
    const s = subscribe(p.id);
    const target = new Uint8Array(16);
    const first = s.receiveIntoAsync(target, { timeoutMs: 5000 });
    p.publish(bytes(7, 7));
    await expect(first).resolves.toBe(2);
    const pending = s.receiveIntoAsync(target);
    s.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    expect(s.closed).toBe(true);
    expect(p.subscribers).toBe(0);
  });

  it('nothing is left behind: the segment goes with the last end', () => {
    const p = Topic.create({ policy });
    const s = Topic.subscribe(p.id);
    p.close();
    expect(procRow(p.id)).toBeDefined();
    s.close();
    expect(procRow(p.id)).toBeUndefined();
  });
});

describe("'block'", () => {
  it('the publisher waits for the slowest subscriber, times out (ETIMEDOUT), and resumes once it reads', () => {
    const p = create({ capacity: 64 }); // four 16-byte records
    const fast = subscribe(p.id);
    const slow = subscribe(p.id);
    for (let i = 0; i < 4; i++) {
      p.publish(bytes(i));
      expect(fast.receive({ timeoutMs: 0 })).toEqual(bytes(i));
    }
    expect(p.tryPublish(bytes(4))).toBe(false);
    const error = catchError(() => p.publish(bytes(4), { timeoutMs: 20 }));
    expect([error.code, error.operation]).toEqual(['ETIMEDOUT', 'Publisher.publish']);
    expect(error.message).toMatch(new RegExp(`slowest subscriber \\(pid ${process.pid}`));
    expect(slow.receive({ timeoutMs: 0 })).toEqual(bytes(0));
    expect(p.tryPublish(bytes(4))).toBe(true);
    expect(p.tryPublish(bytes(5))).toBe(false);
    slow.close(); // leaving frees the publisher at once
    expect(p.tryPublish(bytes(5))).toBe(true);
    for (let i = 4; i <= 5; i++) expect(fast.receive({ timeoutMs: 0 })).toEqual(bytes(i));
  });

  it('publishAsync waits without blocking the event loop, and is cancelled by its signal', async () => {
    const p = create({ capacity: 64 });
    const s = subscribe(p.id);
    for (let i = 0; i < 4; i++) p.publish(bytes(i));
    const controller = new AbortController();
    const aborted = p.publishAsync(bytes(9), { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    const waiting = p.publishAsync(bytes(4), { timeoutMs: 5000 });
    expect(() => p.publish(bytes(5))).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_BUSY' }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(s.receive({ timeoutMs: 0 })).toEqual(bytes(0));
    await waiting;
    for (let i = 1; i <= 4; i++) expect(s.receive({ timeoutMs: 0 })).toEqual(bytes(i));
  });

  it('large records wrap around the ring (markers) for every subscriber', () => {
    const p = create({ capacity: 256 });
    const a = subscribe(p.id);
    const b = subscribe(p.id);
    for (let i = 0; i < 200; i++) {
      const m = makeMessage(i, 200);
      if (!p.tryPublish(m)) {
        // A wrap marker went out alone (the record does not fit before the end of the ring, nor behind the
        // marker until the subscribers have moved past it): they move past it, then the record fits.
        expect([a.tryReceive(), b.tryReceive()]).toEqual([null, null]);
        expect(p.tryPublish(m)).toBe(true);
      }
      expect(checkMessage(a.receive({ timeoutMs: 0 })!, 200)).toBe(i);
      expect(checkMessage(b.receive({ timeoutMs: 0 })!, 200)).toBe(i);
    }
  });
});

describe("'drop'", () => {
  it('the publisher never waits; a lagging subscriber loses the oldest messages and counts them exactly', () => {
    const p = create({ capacity: 256, policy: 'drop' });
    const lagging = subscribe(p.id);
    const keeping = subscribe(p.id);
    const total = 1000;
    const got: number[] = [];
    for (let i = 0; i < total; i++) {
      expect(p.tryPublish(makeMessage(i, 40))).toBe(true);
      expect(checkMessage(keeping.receive({ timeoutMs: 0 })!, 40)).toBe(i);
      if (i % 97 === 0) {
        const m = lagging.tryReceive();
        if (m) got.push(checkMessage(m, 40) as number);
      }
    }
    for (let m = lagging.tryReceive(); m !== null; m = lagging.tryReceive()) got.push(checkMessage(m, 40) as number);
    expect(got.every((index, k) => k === 0 || index > got[k - 1])).toBe(true);
    expect(got.at(-1)).toBe(total - 1);
    expect(lagging.lost + got.length).toBe(total);
    expect(lagging.lost).toBeGreaterThan(900);
    expect(keeping.lost).toBe(0);
  });

  it('release() says false when the publisher overwrote a peeked message; it counts as lost', () => {
    const p = create({ capacity: 64, policy: 'drop' });
    const s = subscribe(p.id);
    p.publish(bytes(0));
    expect(s.peek({ timeoutMs: 0 })).toEqual(bytes(0));
    for (let i = 1; i <= 4; i++) p.publish(bytes(i)); // four records fill the ring: record 0 is overwritten
    expect(s.release()).toBe(false);
    const rest: number[] = [];
    for (let m = s.tryReceive(); m !== null; m = s.tryReceive()) rest.push(m[0]);
    expect(rest).toEqual([1, 2, 3, 4]);
    expect(s.lost).toBe(1);
  });

  it('a subscriber left more than 2 GiB behind (stopped while it held a peeked message) loses it, resumes at the oldest, no EPROTO', () => {
    // Byte positions are 32-bit and compare within 2 GiB only: sequence numbers must decide, not an EPROTO.
    const p = create({ capacity: 1 << 20, policy: 'drop' });
    const s = subscribe(p.id);
    const half = new Uint8Array((1 << 19) - 8); // a record of exactly half the ring
    p.publish(half);
    expect(s.peek({ timeoutMs: 0 })?.length).toBe(half.length);
    const published = 2 ** 31 / (1 << 19) + 100; // 2 GiB and 50 MiB more
    for (let i = 1; i <= published; i++) {
      half[0] = i & 255;
      p.publish(half);
    }
    expect(s.release()).toBe(false); // overwritten long ago
    const first = s.receive({ timeoutMs: 0 });
    const second = s.receive({ timeoutMs: 0 });
    expect([first?.[0], second?.[0]]).toEqual([(published - 1) & 255, published & 255]);
    expect(s.lost).toBe(published - 1);
    expect(s.tryReceive()).toBeNull();
  });

  it('a message that fills the whole ring', () => {
    const p = create({ capacity: 64, policy: 'drop' });
    const s = subscribe(p.id);
    for (let i = 0; i < 10; i++) p.publish(new Uint8Array(56).fill(i));
    expect(s.receive({ timeoutMs: 0 })).toEqual(new Uint8Array(56).fill(9));
    expect(s.lost).toBe(9);
  });
});
