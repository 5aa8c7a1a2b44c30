// The async calls of SemaphoreSet: IPC_NOWAIT tries on the main thread (lib/sysv-wait/poller.ts), coalesced per set,
// with a backoff of 1 ms doubling to 50 ms; timeouts; AbortSignal as Node's own APIs; 1,000 pending waits on one set
// served in arrival order while fs keeps working, because no wait holds a thread of libuv's pool.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SemaphoreSet, type SemaphoreLock } from '../../lib/index.js';
import { MAX_POLL_MS, MIN_POLL_MS, sysvWaitStats } from '../../lib/internal.js';
import { killChildren, recordProgram } from '../support/child.js';
import { removeSemAfterTest } from '../support/sysv-objects.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

afterEach(killChildren);

function track(set: SemaphoreSet): SemaphoreSet {
  removeSemAfterTest(set.id);
  return set;
}

/** Whether `promise` has settled by the time the event loop has turned once more. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** Waits until `ready()` (checking every few ms); fails after 20 s. */
async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('acquireAsync, waitForZeroAsync, operateAsync, lockAsync', () => {
  it('acquireAsync resolves true at once when it can, and when another call releases later', async () => {
    const set = track(SemaphoreSet.create({ values: [1] }));
    await expect(set.acquireAsync()).resolves.toBe(true);
    const pending = set.acquireAsync();
    expect(await settled(pending)).toBe(false);
    setTimeout(() => set.release(), 10);
    await expect(pending).resolves.toBe(true);
    expect(set.value()).toBe(0);
    set.release();
  });

  it('resolves false when the timeout passes (timeoutMs 0: one try), taking nothing', async () => {
    const set = track(SemaphoreSet.create({ values: [0] }));
    await expect(set.acquireAsync({ timeoutMs: 0 })).resolves.toBe(false);
    await expect(set.acquireAsync({ timeoutMs: 30 })).resolves.toBe(false);
    await expect(set.waitForZeroAsync({ timeoutMs: 0 })).resolves.toBe(true);
    set.setValue(0, 1);
    await expect(set.waitForZeroAsync({ timeoutMs: 30 })).resolves.toBe(false);
    expect(set.value()).toBe(1);
    expect(sysvWaitStats().pending).toBe(0);
  });

  it('waitForZeroAsync and operateAsync wait for what they need', async () => {
    const set = track(SemaphoreSet.create({ values: [2, 0] }));
    const zero = set.waitForZeroAsync();
    const both = set.operateAsync([
      { index: 0, op: -2 },
      { index: 1, op: -1 },
    ]);
    expect(await settled(zero)).toBe(false);
    expect(await settled(both)).toBe(false);
    set.release({ index: 1, undo: false });
    await expect(both).resolves.toBe(true); // takes both at once: semaphore 0 is 0 now
    await expect(zero).resolves.toBe(true);
    expect(set.values()).toEqual([0, 0]);
    set.operate([
      { index: 0, op: 2 },
      { index: 1, op: 1, undo: false },
    ]);
  });

  it('lockAsync: `using lock = await set.lockAsync()`; ETIMEDOUT when it is not free in time', async () => {
    const set = track(SemaphoreSet.create({ values: [1] }));
    let held: SemaphoreLock;
    {
      using lock = await set.lockAsync();
      held = lock;
      expect(set.value()).toBe(0);
      await expect(set.lockAsync({ timeoutMs: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT', operation: 'SemaphoreSet.lockAsync' });
    }
    expect(held.released).toBe(true);
    expect(set.value()).toBe(1);
  });

  it('operateAsync with a noWait operation makes one try, as operate(): false at once when it would have to wait', async () => {
    const set = track(SemaphoreSet.create({ values: [0, 1] }));
    let timer: NodeJS.Timeout | undefined;
    const fiveSeconds = new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting after 5 s'), 5000)));
    const once = (promise: Promise<boolean>) => Promise.race([promise, fiveSeconds]);
    try {
      await expect(once(set.operateAsync([{ index: 0, op: -1, noWait: true }]))).resolves.toBe(false);
      await expect(once(set.operateAsync([{ index: 0, op: -1, noWait: true }], { timeoutMs: 60_000 }))).resolves.toBe(false);
      // Atomic: the operation that could be done was not done either.
      await expect(
        once(
          set.operateAsync([
            { index: 1, op: -1 },
            { index: 0, op: -1, noWait: true },
          ]),
        ),
      ).resolves.toBe(false);
      expect(set.values()).toEqual([0, 1]);
      await expect(once(set.operateAsync([{ index: 1, op: -1, noWait: true, undo: false }]))).resolves.toBe(true);
      expect(set.values()).toEqual([0, 0]);
    } finally {
      clearTimeout(timer);
    }
    expect(sysvWaitStats().pending).toBe(0);
  });

  it('timeoutMs 0 behind pending waits of its kind lets them go first, then tries: false only when nothing is left', async () => {
    const set = track(SemaphoreSet.create({ values: [0] }));
    const order: string[] = [];
    const note = (name: string) => (taken: boolean) => {
      order.push(name);
      return taken;
    };
    const first = set.acquireAsync({ undo: false }).then(note('first'));
    expect(await settled(first)).toBe(false);
    set.setValue(0, 2);
    const now = set.acquireAsync({ timeoutMs: 0, undo: false }).then(note('now'));
    await expect(now).resolves.toBe(true);
    await expect(first).resolves.toBe(true);
    expect(order).toEqual(['first', 'now']);
    expect(set.value()).toBe(0);
    // One unit for two: the wait ahead gets it (first come, first served), and timeoutMs 0 says false.
    const second = set.acquireAsync({ undo: false });
    expect(await settled(second)).toBe(false);
    set.setValue(0, 1);
    await expect(set.acquireAsync({ timeoutMs: 0, undo: false })).resolves.toBe(false);
    await expect(second).resolves.toBe(true);
    expect(set.value()).toBe(0);
    expect(sysvWaitStats().pending).toBe(0);
  });

  it('misuse rejects with TypeError / RangeError before anything happens', async () => {
    const set = track(SemaphoreSet.create({ values: [1] }));
    await expect(set.acquireAsync({ signal: {} as AbortSignal })).rejects.toThrow(TypeError);
    await expect(set.acquireAsync({ count: 0 })).rejects.toThrow(RangeError);
    await expect(set.acquireAsync({ index: 1 })).rejects.toThrow(RangeError);
    await expect(set.operateAsync([])).rejects.toThrow(RangeError);
    await expect(set.waitForZeroAsync({ timeoutMs: -1 })).rejects.toThrow(RangeError);
    expect(set.value()).toBe(1);
  });
});

describe('cancellation with an AbortSignal', () => {
  it('an aborted signal rejects at once with an AbortError, even when the semaphore is free, and takes nothing', async () => {
    const set = track(SemaphoreSet.create({ values: [1] }));
    const reason = new Error('not now');
    const error = await set.acquireAsync({ signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
    expect(set.value()).toBe(1);
  });

  it('aborting a pending wait rejects it; nothing is taken, and the waiters after it keep their turn', async () => {
    const set = track(SemaphoreSet.create({ values: [0] }));
    const controller = new AbortController();
    const first = set.acquireAsync({ signal: controller.signal });
    const second = set.acquireAsync();
    expect(await settled(first)).toBe(false);
    controller.abort('changed my mind');
    await expect(first).rejects.toMatchObject({ name: 'AbortError', cause: 'changed my mind' });
    set.release({ undo: false });
    await expect(second).resolves.toBe(true);
    expect(set.value()).toBe(0);
    controller.abort(); // after settling: nothing
    set.release();
  });

  it('close() (or dispose) rejects the pending waits of that object with ERR_SEMAPHORE_CLOSED, not those of others', async () => {
    const set = track(SemaphoreSet.create({ values: [0] }));
    const other = SemaphoreSet.open({ id: set.id });
    const mine = set.acquireAsync();
    const theirs = other.acquireAsync({ timeoutMs: 5_000 });
    set[Symbol.dispose]();
    await expect(mine).rejects.toMatchObject({ code: 'ERR_SEMAPHORE_CLOSED' });
    other.release({ undo: false });
    await expect(theirs).resolves.toBe(true);
    await expect(set.acquireAsync()).rejects.toMatchObject({ code: 'ERR_SEMAPHORE_CLOSED' });
  });

  it('removing the set rejects the pending waits with EIDRM', async () => {
    const set = SemaphoreSet.create({ values: [0] });
    const waits = [set.acquireAsync(), set.waitForZeroAsync({ index: 0 }).then(() => set.acquireAsync()), set.lockAsync()];
    expect(await settled(waits[0])).toBe(false);
    set.remove();
    for (const wait of [waits[0], waits[2]]) await expect(wait).rejects.toMatchObject({ code: 'EIDRM' });
    await expect(waits[1]).rejects.toMatchObject({ code: expect.stringMatching(/^E(IDRM|INVAL)$/) });
    expect(sysvWaitStats().pending).toBe(0);
  });
});

describe('the poller', () => {
  it('1,000 pending acquireAsync on one set: one try per tick, no thread of the pool, served in arrival order', async () => {
    await readFile(`${ROOT}package.json`); // libuv's pool exists from here on
    const threads = () => Number(readFileSync('/proc/self/status', 'utf8').match(/^Threads:\s+(\d+)/m)![1]);
    const threadsBefore = threads();
    const set = track(SemaphoreSet.create({ values: [0] }));
    const order: number[] = [];
    const waits = Array.from({ length: 1000 }, (_, i) => set.acquireAsync().then(() => order.push(i)));
    expect(sysvWaitStats()).toMatchObject({ objects: 1, pending: 1000 });

    // Ticks go by: each costs one semop try for the whole group, not one per waiter.
    const before = sysvWaitStats();
    await until(() => sysvWaitStats().ticks >= before.ticks + 5, 'five ticks');
    const after = sysvWaitStats();
    expect(after.attempts - before.attempts).toBe(after.ticks - before.ticks);

    // libuv's pool (4 threads by default) is free: more concurrent reads than it has threads all complete while
    // every wait is still pending. A wait holding a pool thread each would starve them.
    const files = await Promise.all(Array.from({ length: 16 }, () => readFile(`${ROOT}package.json`, 'utf8')));
    expect(files.every((text) => text.includes('"sysv-shm"'))).toBe(true);
    expect(order).toEqual([]);
    expect(sysvWaitStats().pending).toBe(1000);
    expect(threads()).toBeLessThanOrEqual(threadsBefore); // and no thread was started for them

    set.release({ count: 1000 });
    await Promise.all(waits);
    expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(set.value()).toBe(0);
    expect(sysvWaitStats()).toMatchObject({ objects: 0, pending: 0 });
  });

  it('backs off from 1 ms to 50 ms while nothing changes, and back to 1 ms when a waiter gets through', async () => {
    const set = track(SemaphoreSet.create({ values: [0] }));
    const first = set.acquireAsync({ undo: false });
    const second = set.acquireAsync({ undo: false });
    expect(sysvWaitStats().delays).toEqual([MIN_POLL_MS]);
    await until(() => sysvWaitStats().delays[0] === MAX_POLL_MS, 'the backoff reaches its cap');
    set.release({ undo: false });
    await first;
    expect(sysvWaitStats().delays).toEqual([MIN_POLL_MS]);
    set.release({ undo: false });
    await second;
    expect(sysvWaitStats().objects).toBe(0);
  });

  it('different kinds of waits on one set are separate groups; each group keeps its order', async () => {
    const set = track(SemaphoreSet.create({ values: [0, 0] }));
    const done: string[] = [];
    const a = set.acquireAsync({ index: 0, count: 2, undo: false }).then(() => done.push('a: two of 0'));
    const b = set.acquireAsync({ index: 1, undo: false }).then(() => done.push('b: one of 1'));
    const c = set.acquireAsync({ index: 0, count: 2, undo: false }).then(() => done.push('c: two of 0'));
    set.release({ index: 1, undo: false });
    await b;
    set.release({ index: 0, count: 2, undo: false });
    await a;
    expect(await settled(c)).toBe(false);
    set.release({ index: 0, count: 2, undo: false });
    await c;
    expect(done).toEqual(['b: one of 1', 'a: two of 0', 'c: two of 0']);
  });

  it('a pending wait keeps the process alive; once it settles nothing of the poller does', async () => {
    const child = recordProgram(fileURLToPath(new URL('../fixtures/semaphore/await-then-exit.ts', import.meta.url)), [300]);
    const made = Number((await child.line(/^made (\d+)$/m))[1]);
    removeSemAfterTest(made);
    const end = await child.exit;
    expect(end).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(end.stdout).toMatch(/^settled false 0$/m);
  });
});
