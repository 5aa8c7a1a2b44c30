// The two ends are different types: a method of one end called on the other does not compile. Each
// `// @ts-expect-error` line below must be an error for `npx tsc --noEmit -p .` (which covers test/**): if a line
// compiled, tsc would report the directive as unused. At run time the same calls throw a TypeError (the method
// does not exist), which the tests check too.
import { afterEach, describe, expect, it } from 'vitest';
import * as lib from '../../lib/index.js';
import { Channel, type Consumer, type Producer } from '../../lib/index.js';

const open: Channel[] = [];
afterEach(() => {
  for (const end of open.splice(0)) end.close();
});

function pair(): { producer: Producer; consumer: Consumer } {
  const producer = Channel.create({ capacity: 256 });
  open.push(producer);
  const consumer = Channel.open(producer.id);
  open.push(consumer);
  return { producer, consumer };
}

describe('Producer and Consumer are separate types', () => {
  it('Channel.create gives a Producer, Channel.open a Consumer; both are Channels', () => {
    const { producer, consumer } = pair();
    const ends: Channel[] = [producer, consumer];
    const p: Producer = producer;
    const c: Consumer = consumer;
    // @ts-expect-error: a Consumer is not a Producer
    const notProducer: Producer = consumer;
    // @ts-expect-error: a Producer is not a Consumer
    const notConsumer: Consumer = producer;
    expect(ends.every((end) => end instanceof Channel)).toBe(true);
    expect([p, c, notProducer, notConsumer].length).toBe(4);
  });

  it("a consumer's method on the producer does not compile (and throws a TypeError)", () => {
    const { producer } = pair();
    // @ts-expect-error: receive() belongs to the consumer
    expect(() => producer.receive()).toThrow(TypeError);
    // @ts-expect-error: tryReceive() belongs to the consumer
    expect(() => producer.tryReceive()).toThrow(TypeError);
    // @ts-expect-error: receiveInto() belongs to the consumer
    expect(() => producer.receiveInto(new Uint8Array(8))).toThrow(TypeError);
    // @ts-expect-error: receiveAsync() belongs to the consumer
    expect(() => producer.receiveAsync()).toThrow(TypeError);
    // @ts-expect-error: peek() belongs to the consumer
    expect(() => producer.peek()).toThrow(TypeError);
    // @ts-expect-error: release() belongs to the consumer
    expect(() => producer.release()).toThrow(TypeError);
    // @ts-expect-error: a producer cannot be iterated
    expect(() => producer[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it("a producer's method on the consumer does not compile (and throws a TypeError)", () => {
    const { consumer } = pair();
    // @ts-expect-error: send() belongs to the producer
    expect(() => consumer.send(new Uint8Array(1))).toThrow(TypeError);
    // @ts-expect-error: trySend() belongs to the producer
    expect(() => consumer.trySend(new Uint8Array(1))).toThrow(TypeError);
    // @ts-expect-error: sendAsync() belongs to the producer
    expect(() => consumer.sendAsync(new Uint8Array(1))).toThrow(TypeError);
    // @ts-expect-error: reserve() belongs to the producer
    expect(() => consumer.reserve(1)).toThrow(TypeError);
    // @ts-expect-error: commit() belongs to the producer
    expect(() => consumer.commit()).toThrow(TypeError);
    // @ts-expect-error: available belongs to the producer
    expect(consumer.available).toBeUndefined();
  });

  it('what both ends share is on Channel; an end is made by create/open only', () => {
    const { producer, consumer } = pair();
    for (const end of [producer, consumer] as Channel[]) {
      expect(typeof end.id).toBe('number');
      expect(end.capacity).toBe(256);
      expect(end.maxMessageSize).toBe(248);
      expect(end.spin).toBe(4000);
      expect(end.peerPid).toBe(process.pid);
      expect(end.closed).toBe(false);
    }
    // @ts-expect-error: Channel is abstract (and its constructor protected)
    expect(() => new Channel()).toThrow(TypeError);
    // @ts-expect-error: an end has no role to check: its type says which end it is
    expect(producer.role).toBeUndefined();
  });

  it('the tuning globals and role type are gone from the package entry', () => {
    // @ts-expect-error: futexDefaults was a mutable global; wait/waitAsync take options instead
    expect(lib.futexDefaults).toBeUndefined();
    // @ts-expect-error: futexCallCounts is internal (lib/internal.ts)
    expect(lib.futexCallCounts).toBeUndefined();
    // @ts-expect-error: the channel's default spin is documented (4000), not exported
    expect(lib.CHANNEL_DEFAULT_SPIN).toBeUndefined();
    // @ts-expect-error: the liveness slice is documented (50 ms), not exported
    expect(lib.CHANNEL_SLICE_MS).toBeUndefined();
    expect(typeof lib.Producer).toBe('function');
    expect(typeof lib.Consumer).toBe('function');
  });
});
