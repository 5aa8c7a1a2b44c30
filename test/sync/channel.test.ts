// The channel within one process: both ends over one segment (two attachments), framing, wrap-around,
// backpressure, zero-copy, timeouts and misuse.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Channel, IPC_CREAT, IPC_PRIVATE, ShmError, shmget, type Consumer, type Producer } from '../../lib/index.js';
import { futexCallCounts } from '../../lib/internal.js';
import { procRow, removeAfterTest } from '../support/segments.js';
import { catchError } from '../support/errors.js';

const open: Channel[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function pair(capacity: number, spin = 0): { producer: Producer; consumer: Consumer } {
  const producer = Channel.create({ capacity, spin });
  open.push(producer);
  const consumer = Channel.open(producer.id, { spin });
  open.push(consumer);
  return { producer, consumer };
}

/** Message `seq` of `size` bytes: its content says which message it is. */
function message(seq: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (seq * 131 + i * 7 + 1) & 255;
  return bytes;
}

function check(seq: number, got: Uint8Array | null, size: number): void {
  expect(got).not.toBeNull();
  expect(got!.length).toBe(size);
  const want = message(seq, size);
  for (let i = 0; i < size; i++) if (got![i] !== want[i]) throw new Error(`message ${seq}: byte ${i} is ${got![i]}, expected ${want[i]}`);
}

// A reference model of the framing (docs/channel.md): 8-byte header, payload padded to 8, a wrap marker that
// pads to the end of the ring when a record does not fit before it.
class Model {
  head = 0;
  tail = 0;
  queue: Array<{ seq: number; size: number; start: number; end: number }> = [];
  constructor(readonly capacity: number) {}
  record(n: number) {
    return 8 + Math.ceil(n / 8) * 8;
  }
  /** Whether trySend(n) succeeds, applying it if so. */
  send(seq: number, n: number): boolean {
    const rec = this.record(n);
    const used = this.head - this.tail;
    const pos = this.head % this.capacity;
    const contiguous = this.capacity - pos;
    if (contiguous >= rec) {
      if (used + rec > this.capacity) return false;
      this.queue.push({ seq, size: n, start: this.head, end: this.head + rec });
      this.head += rec;
      return true;
    }
    if (used + contiguous + rec <= this.capacity) {
      this.head += contiguous;
      this.queue.push({ seq, size: n, start: this.head, end: this.head + rec });
      this.head += rec;
      return true;
    }
    if (used + contiguous > this.capacity) return false;
    // Only the marker fits: it is published, the record is not.
    this.head += contiguous;
    return false;
  }
  receive() {
    const next = this.queue.shift();
    // The consumer moves past markers when it looks for a record, whether or not it finds one.
    if (!next) {
      this.tail = this.head;
      return undefined;
    }
    this.tail = next.end;
    return next;
  }
  largest(): number {
    const free = this.capacity - (this.head - this.tail);
    const contiguous = this.capacity - (this.head % this.capacity);
    const best = free <= contiguous ? free : Math.max(contiguous, free - contiguous);
    return best >= 8 ? best - 8 : -1;
  }
}

type Op = { kind: 'send'; size: number } | { kind: 'fill' } | { kind: 'toEnd'; delta: number } | { kind: 'receive'; count: number };

describe('property: every message arrives once, in order, intact', () => {
  it('random sizes, including 0, exactly the free space and records ending at the wrap boundary', () => {
    const capacity = 512;
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('send' as const),
          size: fc.oneof(fc.constantFrom(0, 1, 7, 8, 9, 15, 16, 504, 503), fc.integer({ min: 0, max: 504 })),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('fill' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('toEnd' as const), delta: fc.integer({ min: -9, max: 9 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('receive' as const), count: fc.integer({ min: 1, max: 6 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => {
        const { producer, consumer } = pair(capacity);
        expect(producer.capacity).toBe(capacity);
        const model = new Model(capacity);
        let seq = 0;
        const trySend = (size: number) => {
          if (size < 0 || size > producer.maxMessageSize) return;
          const expected = model.send(seq, size);
          expect(producer.trySend(message(seq, size))).toBe(expected);
          if (expected) seq++;
        };
        const receiveOne = () => {
          const want = model.receive();
          const got = consumer.tryReceive();
          if (!want) expect(got).toBeNull();
          else check(want.seq, got, want.size);
        };
        try {
          for (const o of ops) {
            if (o.kind === 'send') trySend(o.size);
            else if (o.kind === 'fill') {
              // Exactly the free space: the largest message that fits now must go in.
              const n = producer.available;
              expect(n).toBe(model.largest());
              if (n >= 0) {
                trySend(n);
                expect(model.queue.at(-1)?.seq).toBe(seq - 1);
              }
            } else if (o.kind === 'toEnd') {
              // A record that ends exactly at (or just around) the end of the ring.
              const contiguous = capacity - (model.head % capacity);
              trySend(contiguous - 8 + o.delta);
            } else {
              for (let i = 0; i < o.count; i++) receiveOne();
            }
          }
          // Drain: everything sent arrives, then the ring is empty.
          while (model.queue.length > 0) receiveOne();
          expect(consumer.tryReceive()).toBeNull();
        } finally {
          producer.close();
          consumer.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('one message at a time through a small ring, many wraps, sizes up to the maximum', () => {
    const { producer, consumer } = pair(256);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 248 }), { minLength: 1, maxLength: 200 }), (sizes) => {
        sizes.forEach((size, seq) => {
          if (!producer.trySend(message(seq, size))) {
            // The ring is empty but the record must wrap and does not fit after the padding: the wrap marker was
            // published; once the consumer has moved past it (finding no message), the record fits.
            expect(consumer.tryReceive()).toBeNull();
            expect(producer.trySend(message(seq, size))).toBe(true);
          }
          check(seq, consumer.receive({ timeoutMs: 1000 }), size);
        });
      }),
      { numRuns: 50 },
    );
  });
});

describe('channel basics', () => {
  it('capacity is rounded up to a power of two; the segment is already marked for removal', () => {
    const { producer } = pair(1000);
    expect(producer.capacity).toBe(1024);
    expect(producer.maxMessageSize).toBe(1016);
    // SHM_DEST (0o1000) is set at creation: the kernel removes the segment with its last attachment.
    const row = procRow(producer.id)!;
    expect(row.key).toBe(0);
    expect(row.nattch).toBe(2);
    expect(row.perms & 0o1000).toBe(0o1000);
  });

  it('zero-copy: reserve/commit and peek/release, including a shorter commit', () => {
    const { producer, consumer } = pair(1024);
    const view = producer.reserve(100);
    expect(view.length).toBe(100);
    view.set(message(1, 100));
    expect(consumer.tryReceive()).toBeNull(); // nothing is visible before commit
    producer.commit(60);
    const seen = consumer.peek({ timeoutMs: 0 })!;
    expect(seen.length).toBe(60);
    expect([...seen]).toEqual([...message(1, 100).subarray(0, 60)]);
    consumer.release();
    expect(consumer.peek({ timeoutMs: 0 })).toBeNull();
  });

  it('receiveInto copies into a given buffer and leaves a message that does not fit in the ring', () => {
    const { producer, consumer } = pair(1024);
    producer.send(message(5, 40));
    expect(() => consumer.receiveInto(new Uint8Array(10))).toThrow(RangeError);
    const target = new Uint8Array(64);
    expect(consumer.receiveInto(target)).toBe(40);
    check(5, target.subarray(0, 40), 40);
  });

  it('streaming with a spinning peer makes no futex call at all', () => {
    const { producer, consumer } = pair(4096, 1000);
    const before = futexCallCounts();
    for (let i = 0; i < 20_000; i++) {
      producer.send(message(i, i % 100));
      check(i, consumer.receive(), i % 100);
    }
    expect(futexCallCounts()).toEqual(before);
  });

  it('the producer closing lets the consumer drain, then receive fails with EPIPE', () => {
    const { producer, consumer } = pair(1024);
    producer.send(message(1, 10));
    producer.send(message(2, 20));
    producer.close();
    check(1, consumer.receive({ timeoutMs: 1000 }), 10);
    check(2, consumer.tryReceive(), 20);
    expect(() => consumer.receive({ timeoutMs: 1000 })).toThrow(expect.objectContaining({ code: 'EPIPE' }));
    expect(() => consumer.tryReceive()).toThrow(expect.objectContaining({ code: 'EPIPE' }));
  });

  it('the consumer closing makes send fail with EPIPE at once', () => {
    const { producer, consumer } = pair(1024);
    consumer.close();
    expect(() => producer.send(message(1, 10))).toThrow(expect.objectContaining({ code: 'EPIPE' }));
  });

  it('the segment is gone once both ends closed', () => {
    const { producer, consumer } = pair(1024);
    const id = producer.id;
    producer.close();
    expect(procRow(id)).toBeDefined();
    consumer.close();
    expect(procRow(id)).toBeUndefined();
  });
});

describe('timeouts', () => {
  it('receive returns null after timeoutMs', () => {
    const { consumer } = pair(1024, 100);
    const t0 = performance.now();
    expect(consumer.receive({ timeoutMs: 120 })).toBeNull();
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(110);
    expect(elapsed).toBeLessThan(5000);
    expect(consumer.receive({ timeoutMs: 0 })).toBeNull();
  });

  it('send on a full ring throws ETIMEDOUT after timeoutMs; nothing is written', () => {
    const { producer, consumer } = pair(256);
    while (producer.trySend(message(0, 100)));
    const t0 = performance.now();
    expect(() => producer.send(message(9, 100), { timeoutMs: 120 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(110);
    expect(elapsed).toBeLessThan(5000);
    let received = 0;
    while (consumer.tryReceive()) received++;
    expect(received).toBe(2);
  });

  it('receiveAsync waits without blocking timers and gets a message sent later', async () => {
    const { producer, consumer } = pair(1024);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    setTimeout(() => producer.send(message(3, 33)), 150);
    try {
      check(3, await consumer.receiveAsync({ timeoutMs: 5000 }), 33);
      expect(await consumer.receiveAsync({ timeoutMs: 50 })).toBeNull();
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('sendAsync waits for room while the event loop runs', async () => {
    const { producer, consumer } = pair(256);
    while (producer.trySend(message(0, 100)));
    setTimeout(() => consumer.tryReceive(), 100);
    await producer.sendAsync(message(1, 100), { timeoutMs: 5000 });
    await expect(producer.sendAsync(message(2, 200), { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('close() ends a pending receiveAsync of the same end with a clear error', async () => {
    const { consumer } = pair(1024);
    const pending = consumer.receiveAsync();
    setTimeout(() => consumer.close(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });
});

describe('misuse', () => {
  it('send after close', () => {
    const { producer } = pair(1024);
    producer.close();
    expect(() => producer.send(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_CLOSED' }));
    expect(() => producer.close()).not.toThrow();
  });

  it('a message larger than the ring is refused with EMSGSIZE (a ShmError: this channel is too small) before anything is written', () => {
    const { producer, consumer } = pair(256);
    const error = catchError(() => producer.send(new Uint8Array(249)));
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'EMSGSIZE', errno: 90, operation: 'Producer.send', shmid: producer.id });
    expect(error.syscall).toBeUndefined();
    expect(error.message).toMatch(/^EMSGSIZE: Producer\.send: a message of 249 bytes does not fit this channel \(at most 248 bytes/);
    expect(catchError(() => producer.trySend(new Uint8Array(10_000)))).toMatchObject({ code: 'EMSGSIZE', operation: 'Producer.trySend' });
    expect(catchError(() => producer.reserve(249))).toMatchObject({ code: 'EMSGSIZE', operation: 'Producer.reserve' });
    expect(consumer.tryReceive()).toBeNull();
    producer.send(new Uint8Array(248)); // exactly the maximum fits
    expect(consumer.tryReceive()!.length).toBe(248);
  });

  it('reserve: a bad length is a RangeError or TypeError, too large EMSGSIZE; commit without reserve is a TypeError with a code', () => {
    const { producer } = pair(256);
    expect(catchError(() => producer.reserve(257))).toMatchObject({ code: 'EMSGSIZE' });
    expect(() => producer.reserve(-1)).toThrow(RangeError);
    expect(() => producer.reserve(1.5)).toThrow(RangeError);
    expect(() => producer.reserve('1' as never)).toThrow(TypeError);
    expect(() => producer.commit()).toThrow(TypeError);
    expect(() => producer.commit()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_NO_RESERVATION' }));
    producer.reserve(10);
    expect(() => producer.send(new Uint8Array(1))).toThrow(TypeError);
    expect(() => producer.send(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_RESERVED' }));
    expect(() => producer.reserve(1)).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_RESERVED' }));
    expect(() => producer.commit(11)).toThrow(RangeError);
    expect(() => producer.commit(-1)).toThrow(RangeError);
    producer.commit();
    expect(() => producer.commit()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_NO_RESERVATION' }));
  });

  it('release without peek, receive while peeked: TypeErrors with a code', () => {
    const { producer, consumer } = pair(256);
    expect(() => consumer.release()).toThrow(TypeError);
    expect(() => consumer.release()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_NOT_PEEKED' }));
    producer.send(new Uint8Array(3));
    consumer.peek();
    expect(() => consumer.receive()).toThrow(TypeError);
    expect(() => consumer.receive()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_PEEKED' }));
    expect(() => consumer.tryReceive()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_PEEKED' }));
    consumer.release();
  });

  it('the ends are different types: a method of the other end does not exist (and does not compile: channel-types.test.ts)', () => {
    const { producer, consumer } = pair(256);
    expect(producer).toBeInstanceOf(Channel);
    expect(consumer).toBeInstanceOf(Channel);
    for (const name of ['receive', 'tryReceive', 'receiveInto', 'receiveAsync', 'peek', 'release']) expect(name in producer, name).toBe(false);
    for (const name of ['send', 'trySend', 'sendAsync', 'reserve', 'commit', 'available']) expect(name in consumer, name).toBe(false);
    expect(() => (producer as unknown as Consumer).receive()).toThrow(TypeError);
    expect(() => (consumer as unknown as Producer).send(new Uint8Array(1))).toThrow(TypeError);
    expect(() => (consumer as unknown as Producer).reserve(1)).toThrow(TypeError);
    // Neither end has a role to check any more.
    expect('role' in producer).toBe(false);
  });

  it('a second consumer, a segment that is not a channel, a bad id, bad options', () => {
    const { producer } = pair(256);
    expect(() => Channel.open(producer.id)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    const plain = removeAfterTest(shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0o600));
    expect(() => Channel.open(plain)).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    expect(procRow(plain)!.nattch).toBe(0); // the failed open detached again
    expect(() => Channel.open(-1)).toThrow(RangeError);
    expect(() => Channel.open(1.5)).toThrow(RangeError);
    expect(() => Channel.open('1' as never)).toThrow(TypeError);
    expect(() => Channel.create({ capacity: '64' as never })).toThrow(TypeError);
    expect(() => Channel.create({ mode: 0o1000 })).toThrow(RangeError);
    expect(() => Channel.create({ capacity: 0 })).toThrow(RangeError);
    expect(() => Channel.create({ capacity: 2 ** 31 })).toThrow(RangeError);
    expect(() => Channel.create({ spin: -1 })).toThrow(RangeError);
    expect(() => producer.send('text' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('sync calls while an async one is pending are refused; async ones queue', async () => {
    const { producer, consumer } = pair(1024);
    const first = consumer.receiveAsync({ timeoutMs: 5000 });
    const second = consumer.receiveAsync({ timeoutMs: 5000 });
    expect(() => consumer.receive({ timeoutMs: 0 })).toThrow(TypeError);
    expect(() => consumer.receive({ timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_BUSY' }));
    expect(() => consumer.peek({ timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_BUSY' }));
    producer.send(message(1, 5));
    producer.send(message(2, 6));
    check(1, await first, 5);
    check(2, await second, 6);
  });
});

describe('errors of the system, a peer or the state are ShmErrors that name the API call (docs/api.md, "Errors")', () => {
  it('EPIPE, ETIMEDOUT and ERR_CHANNEL_CLOSED: operation set, no syscall (none failed)', () => {
    const { producer, consumer } = pair(256);
    while (producer.trySend(message(0, 100)));
    const timedOut = catchError(() => producer.send(message(1, 100), { timeoutMs: 0 }));
    expect(timedOut).toBeInstanceOf(ShmError);
    expect(timedOut).toMatchObject({ code: 'ETIMEDOUT', errno: 110, operation: 'Producer.send', shmid: producer.id });
    expect(timedOut.syscall).toBeUndefined();
    expect(timedOut.message).toMatch(/^ETIMEDOUT: Producer\.send: the ring stayed full until the timeout/);
    producer.close();
    const closed = catchError(() => producer.trySend(message(1, 1)));
    expect(closed).toBeInstanceOf(ShmError);
    expect(closed).toMatchObject({ code: 'ERR_CHANNEL_CLOSED', operation: 'Producer.trySend' });
    expect(closed.errno).toBeUndefined();
    expect(closed.syscall).toBeUndefined();
    expect(catchError(() => producer.available)).toMatchObject({ code: 'ERR_CHANNEL_CLOSED', operation: 'Producer.available' });
    expect(catchError(() => producer.peerPid)).toMatchObject({ code: 'ERR_CHANNEL_CLOSED', operation: 'Producer.peerPid' });
    for (let i = 0; i < 2; i++) check(0, consumer.tryReceive(), 100); // what the ring held is still delivered
    const gone = catchError(() => consumer.receive({ timeoutMs: 1000 }));
    expect(gone).toBeInstanceOf(ShmError);
    expect(gone).toMatchObject({ code: 'EPIPE', errno: 32, operation: 'Consumer.receive', shmid: consumer.id });
    expect(gone.syscall).toBeUndefined();
    expect(gone.message).toMatch(/^EPIPE: Consumer\.receive: the producer closed the channel/);
  });

  it('misuse comes before state: a bad timeout on a closed end is still a RangeError', () => {
    const { producer, consumer } = pair(256);
    producer.close();
    consumer.close();
    expect(() => producer.send(new Uint8Array(1), { timeoutMs: -1 })).toThrow(RangeError);
    expect(() => consumer.receive({ timeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => producer.send('text' as never)).toThrow(TypeError);
    expect(catchError(() => consumer.receive())).toMatchObject({ code: 'ERR_CHANNEL_CLOSED', operation: 'Consumer.receive' });
  });

  it('Channel.open of a gone segment wraps the shmat error: same code, operation Channel.open, the C error as cause', () => {
    const { producer, consumer } = pair(256);
    const id = producer.id;
    producer.close();
    consumer.close(); // the segment is destroyed with its last attachment
    const error = catchError(() => Channel.open(id));
    expect(error).toBeInstanceOf(ShmError);
    expect(['EINVAL', 'EIDRM']).toContain(error.code);
    expect(error).toMatchObject({ syscall: 'shmat', operation: 'Channel.open' });
    expect((error.cause as ShmError).operation).toBe('shmat');
    expect(error.message).toMatch(/must happen while the producer is alive/);
  });
});

describe('async iteration and disposal', () => {
  it('for await yields every message, then ends when the producer closed', async () => {
    const { producer, consumer } = pair(1024);
    setTimeout(() => {
      for (let i = 0; i < 5; i++) producer.send(message(i, 10 + i));
      producer.close();
    }, 20);
    const got: Uint8Array[] = [];
    for await (const m of consumer) got.push(m);
    expect(got.length).toBe(5);
    got.forEach((m, i) => {
      check(i, m, 10 + i);
    });
  });

  it('breaking out of the loop leaves the consumer open', async () => {
    const { producer, consumer } = pair(1024);
    producer.send(message(1, 8));
    producer.send(message(2, 8));
    for await (const m of consumer) {
      check(1, m, 8);
      break;
    }
    expect(consumer.closed).toBe(false);
    check(2, consumer.tryReceive(), 8);
  });

  it('[Symbol.dispose] closes the end (using)', () => {
    const { producer, consumer } = pair(256);
    {
      using end = consumer;
      expect(end.closed).toBe(false);
    }
    expect(consumer.closed).toBe(true);
    expect(() => producer.send(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'EPIPE' }));
  });
});
