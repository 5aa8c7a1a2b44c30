// Streams on the channel (docs/channel.md, "Streams"): producer.writable() (backpressure on sendAsync, chunks split
// into messages, object mode, close/destroy), Readable.from(consumer) and consumer.readable(), and async iteration
// that ends when the producer closed and throws EPIPE when it died. Across processes where it matters; no test
// depends on timing (children are driven by lines on stdin and stdout, waits have generous limits only).
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Channel, ShmError, type Consumer, type Producer } from '../../lib/index.js';
import { killChildren, recordProgram, type RecordedChild } from '../support/child.js';
import { procRow } from '../support/segments.js';
import { streamChunks, streamDigest } from '../fixtures/sync/stream-data.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

const ends: Array<Producer | Consumer> = [];
const dirs: string[] = [];

afterEach(async () => {
  await killChildren();
  for (const end of ends.splice(0)) end.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function track<T extends Producer | Consumer>(end: T): T {
  ends.push(end);
  return end;
}

/** A producer and its consumer in this process. */
function pair(capacity: number): { producer: Producer; consumer: Consumer } {
  const producer = track(Channel.create({ capacity }));
  const consumer = track(Channel.open(producer.id));
  return { producer, consumer };
}

/** What test/fixtures/sync/stream-consumer.ts prints at the end. */
async function summary(child: RecordedChild): Promise<{ bytes: number; messages: number; largest: number; sha256: string }> {
  const [, bytes, messages, largest, sha256] = await child.line(/bytes (\d+) messages (\d+) largest (\d+) sha256 ([0-9a-f]+)/, 60_000);
  return { bytes: Number(bytes), messages: Number(messages), largest: Number(largest), sha256 };
}

/** Starts test/fixtures/sync/stream-producer.ts, opens its channel and lets it stream. */
async function streamingProducer(total: number, maxChunk: number, seed: number, end: 'close' | 'exit' | 'stay') {
  const child = recordProgram(program('stream-producer'), [total, maxChunk, seed, end]);
  const id = Number((await child.line(/id (\d+)/))[1]);
  const consumer = track(Channel.open(id));
  child.child.stdin!.write('go\n');
  return { child, consumer, id };
}

function sha256(chunks: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

function concat(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}

/** Every message until the producer closed (for await). */
async function drain(consumer: Consumer): Promise<Uint8Array[]> {
  const messages: Uint8Array[] = [];
  for await (const message of consumer) messages.push(message);
  return messages;
}

/** Settles with the error a promise rejects with, or undefined. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** Resolves once `condition` holds (polled; the limit is a generous one, not a timing assumption). */
async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('producer.writable()', () => {
  it('stream.pipeline(Readable.from(data), producer.writable()) reaches a consumer in another process byte-exact', async () => {
    const total = 24 << 20;
    const maxChunk = 200_000; // chunks up to three times maxMessageSize: split
    const producer = track(Channel.create({ capacity: 64 * 1024 }));
    const id = producer.id;
    const child = recordProgram(program('stream-consumer'), [id, 'hash']);
    await child.line(/open/);
    await pipeline(Readable.from(streamChunks(1, total, maxChunk)), producer.writable());
    // The stream closed the producer when it finished; the consumer drains the ring, then its stream ends.
    expect(producer.closed).toBe(true);
    const got = await summary(child);
    expect(got.bytes).toBe(total);
    expect(got.sha256).toBe(streamDigest(1, total, maxChunk));
    expect(got.largest).toBeLessThanOrEqual(producer.maxMessageSize);
    expect((await child.exit).code).toBe(0);
    expect(procRow(id)).toBeUndefined();
  });

  it('backpressure: with a consumer that stops, write() returns false, drain follows, and what is buffered stays bounded', async () => {
    const capacity = 64 * 1024;
    const highWaterMark = 16 * 1024;
    const maxChunk = 32 * 1024;
    const every = 256 * 1024; // the consumer stops after every 256 KiB until this test lets it go on
    const total = 16 << 20; // 32 times what the bound below allows in flight
    const producer = track(Channel.create({ capacity }));
    const child = recordProgram(program('stream-consumer'), [producer.id, 'pause', every]);
    await child.line(/open/);
    const writable = producer.writable({ highWaterMark });
    let drains = 0;
    writable.on('drain', () => drains++);
    let produced = 0;
    let acknowledged = 0; // bytes the consumer said it had received when it last stopped
    let sourceDone = false;
    let mostAhead = 0;
    let mostBuffered = 0;
    function* source() {
      for (const chunk of streamChunks(2, total, maxChunk)) {
        mostAhead = Math.max(mostAhead, produced - acknowledged);
        mostBuffered = Math.max(mostBuffered, writable.writableLength);
        produced += chunk.length;
        yield chunk;
      }
      sourceDone = true;
    }
    // Each time the consumer stops, wait until the writer is full (backpressure engaged), then let it go on.
    let stops = 0;
    const reports = () => [...child.stdout().matchAll(/at (\d+)\n/g)].map((match) => Number(match[1]));
    const finished = () => /bytes \d+/.test(child.stdout());
    const driver = (async () => {
      for (;;) {
        await until(() => reports().length > stops || finished(), 'the consumer to stop or finish', 60_000);
        if (reports().length === stops) return;
        acknowledged = reports()[stops++];
        await until(() => writable.writableNeedDrain || sourceDone || writable.destroyed, 'the writer to fill up', 60_000);
        child.child.stdin!.write('go\n');
      }
    })();
    const piped = pipeline(Readable.from(source()), writable);
    await piped;
    await driver;
    // The writer's buffer: below highWaterMark when the source is asked for more, plus the chunk that crossed it.
    expect(mostBuffered).toBeLessThanOrEqual(highWaterMark + maxChunk);
    // Everything between the source and the consumer: that buffer, the ring, the chunks Readable.from holds, and what
    // the consumer may have read past its last report (a stride plus one message).
    expect(mostAhead).toBeLessThanOrEqual(highWaterMark + capacity + every + producer.maxMessageSize + 4 * maxChunk);
    expect(mostAhead).toBeLessThan(total / 16);
    // The consumer really stopped, each time until the writer was full.
    expect(stops).toBeGreaterThanOrEqual(Math.floor(total / (every + producer.maxMessageSize)));
    expect(drains).toBeGreaterThan(0);
    const got = await summary(child);
    expect(got.bytes).toBe(total);
    expect(got.sha256).toBe(streamDigest(2, total, maxChunk));
  });

  it('a chunk larger than the largest message is split into messages (a byte stream has no boundaries to keep)', async () => {
    const { producer, consumer } = pair(1024);
    const big = Buffer.from(Array.from({ length: 10_000 }, (_, k) => (k * 7) & 255));
    const received = drain(consumer);
    const writable = producer.writable();
    await pipeline(Readable.from([big, Buffer.from('tail')]), writable);
    const messages = await received;
    expect(concat(messages)).toEqual(Buffer.concat([big, Buffer.from('tail')]));
    expect(messages.length).toBeGreaterThanOrEqual(Math.ceil(10_000 / producer.maxMessageSize));
    for (const message of messages) expect(message.length).toBeLessThanOrEqual(producer.maxMessageSize);
  });

  it('messageSize bounds the messages; small buffered chunks are joined up to it', async () => {
    const { producer, consumer } = pair(4096);
    const writable = producer.writable({ messageSize: 100, close: false });
    // Corked: the 50 chunks reach the channel together (writev), as they would behind a full ring.
    writable.cork();
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(7 + (i % 5), i));
    for (const chunk of chunks) writable.write(chunk);
    writable.write(Buffer.alloc(250, 0xee)); // larger than messageSize: split
    writable.uncork();
    await new Promise<void>((resolve, reject) => writable.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const messages: Uint8Array[] = [];
    for (let m = consumer.tryReceive(); m !== null; m = consumer.tryReceive()) messages.push(m);
    expect(concat(messages)).toEqual(Buffer.concat([...chunks, Buffer.alloc(250, 0xee)]));
    for (const message of messages) expect(message.length).toBeLessThanOrEqual(100);
    expect(messages.length).toBeLessThan(20); // joined: 450 + 250 bytes in messages of up to 100 bytes
    expect(producer.closed).toBe(false);
  });

  it('strings are bytes in their encoding (defaultEncoding, or the one given to write)', async () => {
    const { producer, consumer } = pair(1024);
    const received = drain(consumer);
    const writable = producer.writable({ defaultEncoding: 'latin1' });
    writable.write('caf\u00e9 ');
    writable.write('c2b5', 'hex');
    writable.end();
    expect(concat(await received).toString('latin1')).toBe('caf\u00e9 \u00c2\u00b5');
  });

  it('object mode: one message per chunk (boundaries kept); a chunk larger than maxMessageSize fails with EMSGSIZE, unwritten', async () => {
    const { producer, consumer } = pair(1024);
    const received = drain(consumer);
    const writable = producer.writable({ objectMode: true, close: false });
    const chunks: unknown[] = [new Uint8Array([1, 2, 3]), new Uint8Array(0), 'text', new Float64Array([1.5]), new Uint8Array(producer.maxMessageSize)];
    for (const chunk of chunks) writable.write(chunk);
    const failed = new Promise<Error>((resolve) => writable.once('error', resolve));
    writable.write(new Uint8Array(producer.maxMessageSize + 1));
    const error = await failed;
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'EMSGSIZE', operation: 'Producer.sendAsync' });
    expect(producer.closed).toBe(false); // close: false
    producer.close();
    const messages = await received;
    expect(messages.map((m) => m.length)).toEqual([3, 0, 4, 8, producer.maxMessageSize]); // nothing of the refused chunk
    expect(messages[0]).toEqual(new Uint8Array([1, 2, 3]));
    expect(Buffer.from(messages[2]).toString()).toBe('text');
    expect(new Float64Array(messages[3].slice().buffer)).toEqual(new Float64Array([1.5]));
  });

  it('object mode refuses what is not bytes with a TypeError (a stream error)', async () => {
    const { producer } = pair(1024);
    const writable = producer.writable({ objectMode: true });
    const failed = new Promise<Error>((resolve) => writable.once('error', resolve));
    writable.write({ not: 'bytes' });
    expect(await failed).toBeInstanceOf(TypeError);
    expect(producer.closed).toBe(true); // a failed stream closes the producer (close defaults to true)
  });

  it('the consumer killed mid-stream: the writable fails with EPIPE, the pipeline settles, the producer is closed', async () => {
    const producer = track(Channel.create({ capacity: 8 * 1024 }));
    const id = producer.id;
    const child = recordProgram(program('receive-100-then-stall'), [id]);
    function* forever() {
      const chunk = Buffer.alloc(1000, 0x5a);
      for (;;) yield chunk;
    }
    const writable = producer.writable();
    const errors: unknown[] = [];
    writable.on('error', (error) => errors.push(error));
    const piped = outcome(pipeline(Readable.from(forever()), writable));
    await child.line(/got 100/);
    child.child.kill('SIGKILL');
    const error = await piped;
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'EPIPE', operation: 'Producer.sendAsync' });
    expect(errors).toEqual([error]);
    expect(writable.destroyed).toBe(true);
    expect(producer.closed).toBe(true);
    expect((await child.exit).signal).toBe('SIGKILL');
    expect(procRow(id)).toBeUndefined();
  });

  it('the consumer closed mid-stream: EPIPE as well', async () => {
    const { producer, consumer } = pair(1024);
    const writable = producer.writable();
    let sent = 0;
    function* source() {
      for (;;) {
        sent++;
        yield Buffer.alloc(100, sent & 255);
      }
    }
    const piped = outcome(pipeline(Readable.from(source()), writable));
    await until(() => producer.available < 100, 'the ring to fill');
    consumer.close();
    expect(await piped).toMatchObject({ code: 'EPIPE' });
    expect(producer.closed).toBe(true);
  });

  it('an empty stream: finish closes the producer, the consumer sees the end (no message)', async () => {
    const { producer, consumer } = pair(1024);
    await pipeline(Readable.from([]), producer.writable());
    expect(producer.closed).toBe(true);
    expect(await drain(consumer)).toEqual([]);
    const readable = Readable.from(consumer);
    const chunks: unknown[] = [];
    for await (const chunk of readable) chunks.push(chunk);
    expect(chunks).toEqual([]);
  });

  it('empty chunks of a byte stream make no message', async () => {
    const { producer, consumer } = pair(1024);
    await pipeline(Readable.from([Buffer.alloc(0), Buffer.from('x'), new Uint8Array(0)]), producer.writable());
    expect(await drain(consumer)).toEqual([new Uint8Array([0x78])]);
  });

  it('{ close: false }: the producer stays open after the stream finished', async () => {
    const { producer, consumer } = pair(1024);
    await pipeline(Readable.from([Buffer.from('one')]), producer.writable({ close: false }));
    expect(producer.closed).toBe(false);
    producer.send(Buffer.from('two'));
    producer.close();
    expect((await drain(consumer)).map((m) => Buffer.from(m).toString())).toEqual(['one', 'two']);
  });

  it('destroy() while a write waits for room: closes the producer, ends that write, emits close (nothing hangs)', async () => {
    const { producer, consumer } = pair(1024);
    const writable = producer.writable();
    while (producer.trySend(new Uint8Array(100)));
    let written: Error | null | undefined;
    const callback = new Promise<void>((resolve) =>
      writable.write(Buffer.alloc(100), (error) => {
        written = error;
        resolve();
      }),
    );
    expect(writable.writableLength).toBe(100); // waiting for room: the consumer does not read
    const closed = new Promise((resolve) => writable.once('close', resolve));
    writable.destroy();
    await closed;
    await callback;
    expect(producer.closed).toBe(true);
    expect(written).toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    // What was in the ring before stays deliverable; the write that waited never reached it.
    const messages = await drain(consumer);
    expect(messages.every((m) => m.length === 100)).toBe(true);
  });

  it('destroy() of a { close: false } stream while a write waits for room: that message goes when room appears, the rest of the chunk does not', async () => {
    const { producer, consumer } = pair(1024);
    const writable = producer.writable({ close: false });
    let queued = 0;
    while (producer.trySend(new Uint8Array(100))) queued++;
    const chunk = Buffer.alloc(3000, 0xab); // three messages: 1016 + 1016 + 968 bytes
    const written = new Promise<Error | null | undefined>((resolve) => writable.write(chunk, resolve));
    const closed = new Promise((resolve) => writable.once('close', resolve));
    writable.destroy();
    await closed;
    expect(producer.closed).toBe(false);
    const received = drain(consumer);
    expect(await written).toMatchObject({ code: 'ERR_STREAM_DESTROYED' });
    producer.close();
    const messages = await received;
    expect(messages.map((m) => m.length)).toEqual([...Array(queued).fill(100), producer.maxMessageSize]);
    expect(Buffer.from(messages.at(-1)!)).toEqual(chunk.subarray(0, producer.maxMessageSize));
  });

  it('checks its options before anything happens, and refuses a closed producer', () => {
    const { producer } = pair(1024);
    expect(() => producer.writable(null as never)).toThrow(TypeError);
    expect(() => producer.writable({ close: 1 as never })).toThrow(TypeError);
    expect(() => producer.writable({ objectMode: 'yes' as never })).toThrow(TypeError);
    expect(() => producer.writable({ messageSize: 0 })).toThrow(RangeError);
    expect(() => producer.writable({ messageSize: producer.maxMessageSize + 1 })).toThrow(RangeError);
    expect(() => producer.writable({ messageSize: 1.5 })).toThrow(RangeError);
    expect(() => producer.writable({ highWaterMark: -1 })).toThrow(RangeError);
    expect(() => producer.writable({ defaultEncoding: 'klingon' as never })).toThrow(TypeError);
    expect(producer.closed).toBe(false);
    producer.close();
    expect(() => producer.writable()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_CLOSED', operation: 'Producer.writable' }));
  });
});

describe('the consumer as a stream', () => {
  it('Readable.from(consumer) piped into a file: the bytes a producer in another process streamed', async () => {
    const total = 8 << 20;
    const maxChunk = 100_000;
    const { child, consumer } = await streamingProducer(total, maxChunk, 3, 'close');
    const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-streams-'));
    dirs.push(dir);
    const file = join(dir, 'received');
    await pipeline(Readable.from(consumer), createWriteStream(file));
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    expect(hash.digest('hex')).toBe(streamDigest(3, total, maxChunk));
    expect((await child.exit).code).toBe(0);
    expect(consumer.closed).toBe(false); // Readable.from does not close it
  });

  it('consumer.readable() piped into a hash; it closes the consumer at the end', async () => {
    const total = 4 << 20;
    const maxChunk = 70_000;
    const { child, consumer, id } = await streamingProducer(total, maxChunk, 4, 'close');
    const hash = createHash('sha256');
    await pipeline(consumer.readable(), hash);
    expect(hash.digest('hex')).toBe(streamDigest(4, total, maxChunk));
    expect(consumer.closed).toBe(true);
    expect((await child.exit).code).toBe(0);
    expect(procRow(id)).toBeUndefined();
  });

  it('consumer.readable() is object mode: one chunk per message', async () => {
    const { producer, consumer } = pair(1024);
    for (const n of [3, 0, 500]) producer.send(new Uint8Array(n).fill(n & 255));
    producer.close();
    const chunks: Uint8Array[] = [];
    for await (const chunk of consumer.readable()) chunks.push(chunk as Uint8Array);
    expect(chunks.map((c) => c.length)).toEqual([3, 0, 500]);
    expect(consumer.closed).toBe(true);
  });

  it('consumer.readable() destroyed while it waits for a message: the consumer closes and close follows (nothing hangs)', async () => {
    const { producer, consumer } = pair(1024);
    producer.send(new Uint8Array([7]));
    const readable = consumer.readable();
    const first = await new Promise<Uint8Array>((resolve) => readable.once('data', resolve));
    expect(first).toEqual(new Uint8Array([7]));
    readable.pause();
    const closed = new Promise((resolve) => readable.once('close', resolve));
    readable.destroy();
    await closed;
    expect(consumer.closed).toBe(true);
    // The producer sees the consumer gone.
    expect(() => producer.send(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'EPIPE' }));
  });

  it('a pipeline from consumer.readable() fails with EPIPE when the producer is killed', async () => {
    const total = 1 << 20;
    const { child, consumer } = await streamingProducer(total, 10_000, 5, 'stay');
    let received = 0;
    const sink = new Writable({
      objectMode: true,
      write(chunk: Uint8Array, _encoding, callback) {
        received += chunk.length;
        if (received === total) child.child.kill('SIGKILL');
        callback();
      },
    });
    const error = await outcome(pipeline(consumer.readable(), sink));
    expect(received).toBe(total);
    expect(error).toMatchObject({ code: 'EPIPE' });
    expect(consumer.closed).toBe(true);
  });

  it('consumer.readable() checks its options and refuses a closed consumer', () => {
    const { consumer } = pair(1024);
    expect(() => consumer.readable('x' as never)).toThrow(TypeError);
    expect(() => consumer.readable({ highWaterMark: -1 })).toThrow(RangeError);
    consumer.close();
    expect(() => consumer.readable()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_CLOSED', operation: 'Consumer.readable' }));
  });
});

describe('for await (const message of consumer)', () => {
  it('ends quietly when the producer in another process closed (after the last byte)', async () => {
    const total = 2 << 20;
    const { child, consumer } = await streamingProducer(total, 50_000, 6, 'close');
    const messages = await drain(consumer);
    expect(sha256(messages)).toBe(streamDigest(6, total, 50_000));
    expect((await child.exit).code).toBe(0);
  });

  it('throws EPIPE, after every message, when the producer is killed', async () => {
    const total = 1 << 20;
    const { child, consumer } = await streamingProducer(total, 10_000, 7, 'stay');
    const hash = createHash('sha256');
    let received = 0;
    let error: unknown;
    try {
      for await (const message of consumer) {
        hash.update(message);
        received += message.length;
        if (received === total) child.child.kill('SIGKILL');
      }
    } catch (e) {
      error = e;
    }
    expect(received).toBe(total);
    expect(hash.digest('hex')).toBe(streamDigest(7, total, 10_000));
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'EPIPE', operation: 'Consumer.receiveAsync' });
    expect((error as Error).message).toMatch(/exited without closing/);
  });

  it('throws EPIPE when the producer exited without close()', async () => {
    const total = 100_000;
    const { child, consumer } = await streamingProducer(total, 10_000, 8, 'exit');
    let received = 0;
    const error = await outcome(
      (async () => {
        for await (const message of consumer) received += message.length;
      })(),
    );
    expect(received).toBe(total);
    expect(error).toMatchObject({ code: 'EPIPE' });
    expect((await child.exit).code).toBe(0);
  });

  it('Readable.from(consumer) fails with EPIPE when the producer is killed', async () => {
    const total = 200_000;
    const { child, consumer } = await streamingProducer(total, 10_000, 9, 'stay');
    let received = 0;
    const sink = new Writable({
      objectMode: true,
      write(chunk: Uint8Array, _encoding, callback) {
        received += chunk.length;
        if (received === total) child.child.kill('SIGKILL');
        callback();
      },
    });
    const error = await outcome(pipeline(Readable.from(consumer), sink));
    expect(received).toBe(total);
    expect(error).toMatchObject({ code: 'EPIPE' });
  });
});
