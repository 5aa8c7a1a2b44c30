// The channel between two real processes: volume with checksums, async receive with a live event loop, and a peer
// killed with SIGKILL (the survivor gets EPIPE within its timeout, nothing leaks).
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Channel, type Consumer, type Producer } from '../../lib/index.js';
import { procRow } from '../support/segments.js';
import { startProgram, waitForLine } from '../support/child.js';
import { sizeOf } from '../fixtures/sync/numbered-messages.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

const ends: Array<Producer | Consumer> = [];
const children: Array<ReturnType<typeof startProgram>> = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    }
  }
  for (const e of ends.splice(0)) e.close();
});

/** Starts a child program of test/fixtures/sync/ with its arguments. */
function child(name: string, args: Array<string | number> = []) {
  const c = startProgram(program(name), args);
  children.push(c);
  let stderr = '';
  c.stderr!.setEncoding('utf8');
  c.stderr!.on('data', (d: string) => (stderr += d));
  return Object.assign(c, { stderrText: () => stderr });
}

function exitOf(c: ReturnType<typeof startProgram>): Promise<{ code: number | null; signal: string | null }> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
}

// Message i has a size and content derived from i and carries its own checksum (test/fixtures/sync/numbered-messages.ts).
function verify(i: number, got: Uint8Array): void {
  const size = sizeOf(i);
  if (got.length !== size) throw new Error(`message ${i}: ${got.length} bytes, expected ${size}`);
  if (size < 8) {
    // Too short to carry its number and checksum: a pattern derived from the number.
    if (got.some((b, k) => b !== ((i + k * 13) & 255))) throw new Error(`message ${i} corrupted`);
    return;
  }
  const view = new DataView(got.buffer, got.byteOffset, got.byteLength);
  if (view.getUint32(0, true) !== i) throw new Error(`message ${i} arrived as ${view.getUint32(0, true)} (order)`);
  let sum = 0;
  for (let k = 8; k < got.length; k++) sum = (sum * 31 + got[k]) >>> 0;
  if (sum !== view.getUint32(4, true)) throw new Error(`message ${i}: checksum mismatch`);
}

describe('two processes', () => {
  it('10^5 messages of mixed sizes (wrap-around, backpressure) arrive once, in order, with valid checksums', async () => {
    const count = 100_000;
    const c = child('produce-numbered-messages', [count]);
    const id = Number((await waitForLine(c, /id (\d+)/))[1]);
    const consumer = Channel.open(id, { spin: 2000 });
    ends.push(consumer);
    for (let i = 0; i < count; i++) {
      const got = consumer.receive({ timeoutMs: 20_000 });
      if (got === null) throw new Error(`timed out waiting for message ${i}`);
      verify(i, got);
    }
    // The producer closed after the last one: the stream ends with EPIPE, not with a hang.
    expect(() => consumer.receive({ timeoutMs: 20_000 })).toThrow(expect.objectContaining({ code: 'EPIPE' }));
    expect(await exitOf(c)).toEqual({ code: 0, signal: null });
    consumer.close();
    expect(procRow(id)).toBeUndefined();
  });

  it('the other direction: this process produces, a child consumes and checks', async () => {
    const count = 100_000;
    const producer = Channel.create({ capacity: 32 * 1024, spin: 2000 });
    ends.push(producer);
    const c = child('consume-and-count-bad', [producer.id, count]);
    await waitForLine(c, /open/);
    const scratch = new Uint8Array(64);
    for (let i = 0; i < count; i++) {
      const n = i % 60;
      if (n > 0) scratch[n - 1] = i & 255;
      producer.send(scratch.subarray(0, n), { timeoutMs: 20_000 });
    }
    await waitForLine(c, /done bad=0/);
    expect(await exitOf(c)).toEqual({ code: 0, signal: null });
  });

  it('receiveAsync keeps the event loop running while it waits', async () => {
    const count = 200;
    const c = child('produce-with-pauses', [count]);
    const id = Number((await waitForLine(c, /id (\d+)/))[1]);
    const consumer = Channel.open(id, { spin: 0 });
    ends.push(consumer);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    try {
      c.stdin!.write('go\n');
      for (let i = 0; i < count; i++) {
        const got = await consumer.receiveAsync({ timeoutMs: 20_000 });
        if (got === null) throw new Error(`timed out waiting for message ${i}`);
        verify(i, got);
      }
    } finally {
      clearInterval(timer);
    }
    // The sender paused ~10 times for 10 ms: the interval must have fired meanwhile.
    expect(ticks).toBeGreaterThanOrEqual(10);
    c.stdin!.write('end\n');
    await expect(consumer.receiveAsync({ timeoutMs: 20_000 })).rejects.toMatchObject({ code: 'EPIPE' });
  });
});

describe('a peer killed with SIGKILL', () => {
  it('the consumer gets EPIPE within its timeout after draining; the segment is gone', async () => {
    const c = child('produce-forever');
    const id = Number((await waitForLine(c, /id (\d+)/))[1]);
    const consumer = Channel.open(id);
    ends.push(consumer);
    for (let i = 0; i < 1000; i++) expect(consumer.receive({ timeoutMs: 10_000 })![0]).toBe(i & 255);
    c.kill('SIGKILL');
    // This thread blocks in receive below, so the killed child stays a zombie: the channel must see through that.
    const t0 = performance.now();
    let drained = 0;
    let error: { code?: string } | undefined;
    try {
      for (;;) {
        if (consumer.receive({ timeoutMs: 10_000 }) === null) break;
        drained++;
      }
    } catch (e) {
      error = e as { code?: string };
    }
    expect(error?.code).toBe('EPIPE');
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(drained).toBeLessThanOrEqual((16 * 1024) / 108);
    expect((await exitOf(c)).signal).toBe('SIGKILL');
    consumer.close();
    expect(procRow(id)).toBeUndefined();
  });

  it('the producer gets EPIPE within its timeout when the consumer dies; the segment is gone', async () => {
    const producer = Channel.create({ capacity: 8 * 1024 });
    ends.push(producer);
    const id = producer.id;
    const c = child('receive-100-then-stall', [id]);
    const bytes = new Uint8Array(200);
    for (let i = 0; i < 100; i++) producer.send(bytes, { timeoutMs: 10_000 });
    await waitForLine(c, /got 100/);
    c.kill('SIGKILL');
    const t0 = performance.now();
    let error: { code?: string } | undefined;
    try {
      for (;;) producer.send(bytes, { timeoutMs: 10_000 });
    } catch (e) {
      error = e as { code?: string };
    }
    expect(error?.code).toBe('EPIPE');
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect((await exitOf(c)).signal).toBe('SIGKILL');
    producer.close();
    expect(procRow(id)).toBeUndefined();
  });

  it('a sendAsync waiting for room ends with EPIPE when the consumer is killed', async () => {
    const producer = Channel.create({ capacity: 1024 });
    ends.push(producer);
    const c = child('open-and-stall', [producer.id]);
    await waitForLine(c, /open/);
    while (producer.trySend(new Uint8Array(100)));
    const pending = producer.sendAsync(new Uint8Array(100), { timeoutMs: 10_000 });
    setTimeout(() => c.kill('SIGKILL'), 100);
    await expect(pending).rejects.toMatchObject({ code: 'EPIPE' });
  });
});
