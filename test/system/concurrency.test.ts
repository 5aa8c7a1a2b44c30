// Several processes on one segment at once: atomic counters through attachment.view(Int32Array), and many
// attach/detach cycles with the kernel's attach count checked against /proc/sysvipc/shm throughout.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';
import { procRow, removeAfterTest } from '../support/segments.js';
import { killChildren, recordProgram } from '../support/child.js';

/**
 * Starts test/fixtures/system/<name>.ts. These children wait for a line on stdin before they start, so that they
 * really run at the same time.
 */
const worker = (name: string, args: Array<string | number>) => recordProgram(fileURLToPath(new URL(`../fixtures/system/${name}.ts`, import.meta.url)), args);
afterEach(killChildren);

describe('concurrency across processes', () => {
  it('eight processes doing 10^5 Atomics.add each on one Int32 counter: exactly 800000', async () => {
    const CHILDREN = 8;
    const ADDS = 100_000;
    const segment = Segment.create({ size: 4096 });
    removeAfterTest(segment.id);
    using mine = segment.attach();
    const counter = mine.view(Int32Array, 64, 1); // not at offset 0, to exercise byteOffset
    const started = mine.view(Int32Array, 128, 1);
    expect(counter[0]).toBe(0);

    const workers = Array.from({ length: CHILDREN }, () => worker('add-to-counter', [segment.id, ADDS]));
    await Promise.all(workers.map((w) => w.line(/ready/)));
    expect(procRow(segment.id)!.nattch).toBe(CHILDREN + 1);
    for (const w of workers) w.child.stdin!.end('go\n');

    const ends = await Promise.all(workers.map((w) => w.exit));
    for (const end of ends) {
      expect(end.stderr).toBe('');
      expect(end).toMatchObject({ code: 0, signal: null });
    }
    expect(Atomics.load(counter, 0)).toBe(CHILDREN * ADDS);
    expect(Atomics.load(started, 0)).toBe(CHILDREN);
    // The same number through a fresh attachment and a copying read.
    using again = segment.attach({ readOnly: true });
    expect(Buffer.from(again.read(64, 4)).readInt32LE(0)).toBe(CHILDREN * ADDS);
    expect(procRow(segment.id)!.nattch).toBe(2);
  });

  it('many attach/detach cycles from several processes at once: counts add up, nattch stays in bounds and ends at 0', async () => {
    const CHILDREN = 6;
    const CYCLES = 1500;
    const segment = Segment.create({ size: 4096 });
    removeAfterTest(segment.id);

    const workers = Array.from({ length: CHILDREN }, (_, slot) => worker('attach-detach-cycles', [segment.id, CYCLES, slot]));
    await Promise.all(workers.map((w) => w.line(/ready/)));
    expect(procRow(segment.id)!.nattch).toBe(0);
    for (const w of workers) w.child.stdin!.end('go\n');

    // Sample the kernel's count while they run: never negative, never more than three per child (two attached,
    // and shmat in progress counts twice: do_shmat holds a count of its own while the new mapping takes one).
    const samples: number[] = [];
    let finished = false;
    const all = Promise.all(workers.map((w) => w.exit)).finally(() => (finished = true));
    while (!finished) {
      const row = procRow(segment.id);
      expect(row, 'segment still exists').toBeDefined();
      samples.push(row!.nattch);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const ends = await all;
    for (const end of ends) {
      expect(end.stderr).toBe('');
      expect(end).toMatchObject({ code: 0, signal: null });
      const report = JSON.parse(/done (\{.*\})/.exec(end.stdout)![1]) as { maxSeen: number; attachedHere: number };
      expect(report.attachedHere).toBe(0);
      expect(report.maxSeen).toBeGreaterThanOrEqual(2);
      // What each child saw is the same kernel count as the samples below, with the same transient: a shmat in
      // progress in any other child counts twice.
      expect(report.maxSeen).toBeLessThanOrEqual(3 * CHILDREN);
    }
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(3 * CHILDREN);

    // The end state, from /proc and from shmctl alike.
    expect(procRow(segment.id)!.nattch).toBe(0);
    const status = segment.stat();
    expect(status.attached).toBe(0);
    expect(status.markedForRemoval).toBe(false);
    expect(workers.map((w) => w.child.pid)).toContain(status.lastPid);
    expect(status.lastDetachTime).not.toBeNull();

    using a = segment.attach({ readOnly: true });
    const counts = Array.from({ length: CHILDREN }, (_, slot) => Buffer.from(a.read(slot * 4, 4)).readInt32LE(0));
    expect(counts).toEqual(Array(CHILDREN).fill(CYCLES));
  });
});
