// The channel's async waits and the event loop: they hold no thread (libuv's pool stays free for fs, dns and
// crypto), any number can be pending, AbortSignal cancels them at every point without losing or half-taking a
// message, timeouts are timers, and synchronous and asynchronous ends work together across processes.
import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { connect } from 'node:net';
import { Channel, type ShmError, type Consumer, type Producer } from '../../lib/index.js';
import { doorbellStats, futexCallCounts } from '../../lib/internal.js';
import { recordProgram, type RecordedChild } from '../support/child.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

const ends: Array<Producer | Consumer> = [];
const children: RecordedChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.stdin?.end();
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await c.exit;
  }
  for (const end of ends.splice(0)) end.close();
});

function pair(capacity = 4096): { producer: Producer; consumer: Consumer } {
  const producer = Channel.create({ capacity, spin: 0 });
  const consumer = Channel.open(producer.id, { spin: 0 });
  ends.push(producer, consumer);
  return { producer, consumer };
}

function start(name: string, args: Array<string | number>): RecordedChild {
  const c = recordProgram(program(name), args);
  children.push(c);
  return c;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readFileMs(path: string, times: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await readFile(path);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

describe('pending async waits hold no thread', () => {
  it("more pending receives than libuv's pool has threads: no futex call is made while they wait, and fs stays fast", async () => {
    const pending = 64; // UV_THREADPOOL_SIZE is 4 unless set
    const c = start('many-producers', [pending]);
    const ids = (await c.line(/ids ([\d ]+)/))[1].split(' ').map(Number);
    const consumers = ids.map((id) => Channel.open(id, { spin: 0 }));
    ends.push(...consumers);
    const baseline = await readFileMs(fileURLToPath(import.meta.url), 20);
    const before = futexCallCounts().wait;
    const receives = consumers.map((consumer) => consumer.receiveAsync({ timeoutMs: 60_000 }));
    await sleep(100);
    // Each pending wait sleeps on this thread's doorbell: no futex call (none on a pool thread either).
    expect(futexCallCounts().wait).toBe(before);
    // The waits have no timeout and no slices: were they holding the pool's threads, readFile would never finish.
    const median = await readFileMs(fileURLToPath(import.meta.url), 20);
    // Compared with the same process before the waits (no absolute time: a slow machine is slow both times).
    expect(median, `readFile median ${median.toFixed(2)} ms with the waits, ${baseline.toFixed(2)} ms before`).toBeLessThan(baseline * 10 + 50);
    c.child.stdin!.write('send\n');
    const got = await Promise.all(receives);
    expect(got.map((m) => new Uint32Array(m!.buffer, m!.byteOffset, 1)[0])).toEqual(ids.map((_, i) => i));
  });

  it('300 receives pending at once, each on its own channel, all resolve (a pool-based design refused more than 256)', async () => {
    const c = start('many-producers', [300]);
    const ids = (await c.line(/ids ([\d ]+)/, 60_000))[1].split(' ').map(Number);
    const consumers = ids.map((id) => Channel.open(id, { spin: 0 }));
    ends.push(...consumers);
    const receives = consumers.map((consumer) => consumer.receiveAsync());
    await sleep(50);
    c.child.stdin!.write('send\n');
    expect((await Promise.all(receives)).every((m) => m !== null && m.length === 4)).toBe(true);
    c.child.stdin!.write('close\n');
    await c.line(/closed/);
    // The producer closed: each next receive ends with EPIPE.
    const ended = await Promise.allSettled(consumers.map((consumer) => consumer.receiveAsync()));
    expect(ended.every((r) => r.status === 'rejected' && (r.reason as ShmError).code === 'EPIPE')).toBe(true);
  }, 60_000);

  it('a timeout is a timer: receiveAsync resolves null, sendAsync rejects ETIMEDOUT, about when asked', async () => {
    const { producer, consumer } = pair(64);
    let t = performance.now();
    expect(await consumer.receiveAsync({ timeoutMs: 120 })).toBeNull();
    expect(performance.now() - t).toBeGreaterThanOrEqual(110);
    producer.send(new Uint8Array(56)); // fills the 64-byte ring
    t = performance.now();
    await expect(producer.sendAsync(bytes(1), { timeoutMs: 120 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(performance.now() - t).toBeGreaterThanOrEqual(110);
  });
});

describe('long timeouts', () => {
  it("a timeout beyond setTimeout's 2^31 - 1 ms is kept (it used to end the wait after 1 ms)", async () => {
    const { producer, consumer } = pair();
    const pending = consumer.receiveAsync({ timeoutMs: 2 ** 31 + 5000 });
    let settled = false;
    void pending.finally(() => (settled = true));
    await sleep(50);
    expect(settled).toBe(false);
    producer.send(bytes(8));
    expect(await pending).toEqual(bytes(8));
  });
});

describe('AbortSignal', () => {
  it('already aborted: rejects at once with an AbortError (code ABORT_ERR, cause the reason), even with a message waiting, which stays', async () => {
    const { producer, consumer } = pair();
    producer.send(bytes(7));
    const reason = new Error('stop');
    const error = await consumer.receiveAsync({ signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
    expect(consumer.tryReceive()).toEqual(bytes(7));
    await expect(producer.sendAsync(bytes(8), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(consumer.tryReceive()).toBeNull(); // nothing was written
  });

  it('during a receive: it rejects, and the message sent afterwards goes to the next receive', async () => {
    const { producer, consumer } = pair();
    const controller = new AbortController();
    const pending = consumer.receiveAsync({ signal: controller.signal });
    await sleep(20);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    producer.send(bytes(1, 2));
    expect(await consumer.receiveAsync({ timeoutMs: 5000 })).toEqual(bytes(1, 2));
  });

  it('during a send waiting for room: it rejects and writes nothing; the end goes on', async () => {
    const { producer, consumer } = pair(64);
    producer.send(new Uint8Array(56).fill(1));
    const controller = new AbortController();
    const pending = producer.sendAsync(bytes(9, 9), { signal: controller.signal });
    await sleep(20);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(consumer.receive({ timeoutMs: 0 })?.length).toBe(56);
    expect(consumer.tryReceive()).toBeNull();
    await producer.sendAsync(bytes(3), { timeoutMs: 5000 });
    expect(consumer.tryReceive()).toEqual(bytes(3));
  });

  it('after the call settled: aborting changes nothing', async () => {
    const { producer, consumer } = pair();
    const controller = new AbortController();
    const pending = consumer.receiveAsync({ signal: controller.signal });
    producer.send(bytes(5));
    expect(await pending).toEqual(bytes(5));
    controller.abort();
    producer.send(bytes(6));
    expect(await consumer.receiveAsync({ signal: controller.signal }).catch((e: unknown) => (e as Error).name)).toBe('AbortError');
    expect(consumer.tryReceive()).toEqual(bytes(6));
    // The producer's side: a send that completed stays sent.
    const sending = new AbortController();
    await producer.sendAsync(bytes(7), { signal: sending.signal });
    sending.abort();
    expect(consumer.tryReceive()).toEqual(bytes(7));
  });

  it('a queued call aborted while an earlier one waits: it leaves the queue; the others keep their order', async () => {
    const { producer, consumer } = pair();
    const controller = new AbortController();
    const first = consumer.receiveAsync();
    const second = consumer.receiveAsync({ signal: controller.signal });
    const third = consumer.receiveAsync();
    controller.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    expect(() => consumer.tryReceive()).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_BUSY' }));
    producer.send(bytes(1));
    producer.send(bytes(2));
    expect(await first).toEqual(bytes(1));
    expect(await third).toEqual(bytes(2));
  });

  it('a signal that is not an AbortSignal is a TypeError, before anything happens', async () => {
    const { producer, consumer } = pair();
    await expect(consumer.receiveAsync({ signal: {} as AbortSignal })).rejects.toThrow(TypeError);
    await expect(producer.sendAsync(bytes(1), { signal: 'x' as never })).rejects.toThrow(TypeError);
    expect(consumer.tryReceive()).toBeNull();
  });

  it('many aborted waits leave nothing behind: the doorbell has no pending wait', async () => {
    const { consumer } = pair();
    for (let i = 0; i < 200; i++) {
      const controller = new AbortController();
      const pending = consumer.receiveAsync({ signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    }
    expect(doorbellStats()?.pending ?? 0).toBe(0);
  });
});

describe('receiveIntoAsync', () => {
  it('copies the next message into the target and returns its length; waits for one; null after its timeout', async () => {
    const { producer, consumer } = pair();
    const target = new Uint8Array(16);
    producer.send(bytes(1, 2, 3));
    expect(await consumer.receiveIntoAsync(target)).toBe(3);
    expect(target.subarray(0, 3)).toEqual(bytes(1, 2, 3));
    const pending = consumer.receiveIntoAsync(target, { timeoutMs: 5000 });
    await sleep(10);
    producer.send(bytes(4, 5));
    expect(await pending).toBe(2);
    expect(target.subarray(0, 2)).toEqual(bytes(4, 5));
    expect(await consumer.receiveIntoAsync(target, { timeoutMs: 30 })).toBeNull();
  });

  it('a target too small is a RangeError and the message stays; abort takes nothing; misuse is refused first', async () => {
    const { producer, consumer } = pair();
    producer.send(new Uint8Array(8).fill(9));
    await expect(consumer.receiveIntoAsync(new Uint8Array(4))).rejects.toThrow(RangeError);
    const controller = new AbortController();
    controller.abort();
    await expect(consumer.receiveIntoAsync(new Uint8Array(8), { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(consumer.receiveIntoAsync([] as never)).rejects.toThrow(TypeError);
    expect(consumer.tryReceive()).toEqual(new Uint8Array(8).fill(9));
  });
});

describe('iteration and streams', () => {
  it('consumer.messages({ signal }): aborting ends the loop with an AbortError; no message is lost', async () => {
    const { producer, consumer } = pair();
    producer.send(bytes(1));
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const message of consumer.messages({ signal: controller.signal })) seen.push(message[0]);
    })();
    await sleep(30);
    controller.abort();
    await expect(loop).rejects.toMatchObject({ name: 'AbortError' });
    producer.send(bytes(2));
    expect(seen).toEqual([1]);
    expect(consumer.tryReceive()).toEqual(bytes(2));
  });

  it('Readable.from(consumer) destroyed while it waits: the pending receive ends, the consumer stays usable, no message is lost', async () => {
    const { producer, consumer } = pair();
    const stream = Readable.from(consumer);
    const got: Uint8Array[] = [];
    stream.on('data', (m: Uint8Array) => got.push(m));
    producer.send(bytes(1));
    await sleep(30);
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    await sleep(10);
    producer.send(bytes(2));
    expect(got).toEqual([bytes(1)]);
    expect(consumer.closed).toBe(false);
    expect(await consumer.receiveAsync({ timeoutMs: 5000 })).toEqual(bytes(2));
  });

  it('break out of for await: the consumer stays open and the next message is still there', async () => {
    const { producer, consumer } = pair();
    producer.send(bytes(1));
    producer.send(bytes(2));
    for await (const message of consumer) {
      expect(message).toEqual(bytes(1));
      break;
    }
    expect(consumer.tryReceive()).toEqual(bytes(2));
  });
});

describe('synchronous and asynchronous ends together, across processes', () => {
  const combos = [
    ['async', 'async'],
    ['async', 'sync'],
    ['sync', 'async'],
  ] as const;
  it.each(combos)(
    'this process %s, the peer %s: 300 round trips byte-exact, then the end',
    async (here, there) => {
      const requests = Channel.create({ capacity: 4096, spin: 0 });
      ends.push(requests);
      const c = start('echo', [requests.id, there]);
      const replies = Channel.open(Number((await c.line(/reply (\d+)/))[1]), { spin: 0 });
      ends.push(replies);
      for (let i = 0; i < 300; i++) {
        const message = new Uint8Array(1 + (i % 200)).fill(i & 255);
        if (here === 'async') {
          await requests.sendAsync(message);
          expect(await replies.receiveAsync({ timeoutMs: 10_000 })).toEqual(message);
        } else {
          requests.send(message);
          expect(replies.receive({ timeoutMs: 10_000 })).toEqual(message);
        }
      }
      requests.close();
      await expect(replies.receiveAsync({ timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'EPIPE' });
      expect((await c.exit).code).toBe(0);
    },
    60_000,
  );

  it('a peer killed while this end awaits: EPIPE, soon (its liveness is watched without a thread)', async () => {
    const c = start('idle-producer', [4096]);
    const consumer = Channel.open(Number((await c.line(/id (\d+)/))[1]), { spin: 0 });
    ends.push(consumer);
    const pending = consumer.receiveAsync();
    await sleep(1500); // long enough for the watch to back off to its slowest period
    const t = performance.now();
    c.child.kill('SIGKILL');
    await expect(pending).rejects.toMatchObject({ code: 'EPIPE' });
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('close() of this end while its receive is pending: ERR_CHANNEL_CLOSED, and the doorbell lets the loop go', async () => {
    const { consumer } = pair();
    const pending = consumer.receiveAsync();
    await sleep(10);
    consumer.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    expect(doorbellStats()?.pending ?? 0).toBe(0);
  });
});

describe('worker threads', () => {
  it("a worker's async receives sleep on the worker's own doorbell, rung by a synchronous producer on the main thread", async () => {
    const producer = Channel.create({ capacity: 4096, spin: 0 });
    ends.push(producer);
    const worker = new Worker(new URL('../fixtures/sync/receive-in-worker.mjs', import.meta.url), { workerData: producer.id });
    const received: unknown[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      worker.on('message', (m) => (m === 'end' ? resolve() : received.push(m)));
      worker.on('error', reject);
    });
    await new Promise((resolve) => worker.once('message', resolve)); // 'open'
    received.length = 0;
    for (let i = 1; i <= 50; i++) {
      producer.send(bytes(i));
      await sleep(2); // the worker sleeps between messages: each one is a ring
    }
    producer.close();
    await ended;
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await worker.terminate();
  });
});

describe('the doorbell against misuse and churn', () => {
  it('workers that rang this thread and ended leave no connection behind (their waker sockets close with them)', async () => {
    const { consumer } = pair();
    const kept = consumer.receiveAsync(); // this thread's doorbell exists and is referenced meanwhile
    for (let i = 0; i < 8; i++) {
      const worker = new Worker(new URL('../fixtures/sync/ring-from-worker.mjs', import.meta.url));
      const id = await new Promise<number>((resolve) => worker.once('message', resolve));
      const fromWorker = Channel.open(id, { spin: 0 });
      const receiving = fromWorker.receiveAsync({ timeoutMs: 10_000 });
      await sleep(5);
      worker.postMessage('go');
      expect(await receiving).toEqual(bytes(42));
      worker.postMessage('end');
      await new Promise((resolve) => worker.once('exit', resolve));
      fromWorker.close();
    }
    const deadline = performance.now() + 5000;
    while ((doorbellStats()?.connections ?? 0) > 0 && performance.now() < deadline) await sleep(20);
    expect(doorbellStats()?.connections).toBe(0);
    consumer.close();
    await expect(kept).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });

  it('any local process may connect to a doorbell: beyond 256 connections the oldest are closed, and waits still work', async () => {
    const { producer, consumer } = pair();
    const pending = consumer.receiveAsync({ timeoutMs: 10_000 });
    const name = doorbellStats()!.name;
    const sockets = Array.from({ length: 400 }, () => connect({ path: `\0${name}` }).on('error', () => {}));
    await Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.connecting ? socket.once('connect', resolve) : resolve(null)))));
    await sleep(100);
    expect(doorbellStats()!.connections).toBeLessThanOrEqual(256);
    for (const socket of sockets) socket.destroy();
    producer.send(bytes(9));
    expect(await pending).toEqual(bytes(9));
  });
});

describe('node:cluster workers', () => {
  it("a cluster worker's doorbell is its own (bound in the worker): each message rings it, no watch needed", async () => {
    const c = start('cluster-receive', []);
    const result = JSON.parse((await c.line(/result (\{.*\})/, 30_000))[1]) as { got: number[]; slowest: number; tokens: number };
    expect(result.got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // Every message came as a token on the worker's doorbell (a watch tick counts none).
    expect(result.tokens).toBeGreaterThanOrEqual(20);
    expect((await c.exit).code).toBe(0);
  });
});

describe('process exit with async waits', () => {
  it('process.exit() while a receive is pending: the process ends at once, cleanly', async () => {
    const producer = Channel.create({ capacity: 4096 });
    ends.push(producer);
    const c = start('await-then-exit', [producer.id, 'exit']);
    await c.line(/waiting/);
    const exit = await c.exit;
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('a pending receive keeps the process alive; once it settled (EPIPE), nothing does', async () => {
    const producer = Channel.create({ capacity: 4096 });
    ends.push(producer);
    const c = start('await-then-exit', [producer.id, 'settle']);
    await c.line(/waiting/);
    await sleep(300);
    expect(c.child.exitCode).toBeNull(); // still waiting
    producer.close();
    await c.line(/settled EPIPE/);
    const exit = await c.exit;
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });
});
