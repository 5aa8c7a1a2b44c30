// waitAsync on the word watcher (lib/sync/word-watcher.ts): many pending waits share one futex_waitv call in libuv's
// pool, so they neither hold up fs nor hit koffi's limit of 256 async calls; wakes from other processes (Node, C),
// timeouts, AbortSignals, detaches, and how a process with pending waits ends. The FUTEX_WAIT fallback (kernels
// without futex_waitv, qemu-user) runs the same cases.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, notify, shmat, shmctl, shmdt, shmget, waitAsync, type Attachment } from '../../lib/index.js';
import { PERIODIC_MS, configureWordWatcher, wordWatcherStats } from '../../lib/internal.js';
import { removeAfterTest } from '../support/segments.js';
import { ROOT, killChildren, recordProgram } from '../support/child.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));
const C_SOURCE = fileURLToPath(new URL('./c/futex-wake.c', import.meta.url));
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const attachments: Attachment[] = [];
let work = '';
let waker = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sysv-shm-wait-async-'));
  waker = join(work, 'futex-wake');
  execFileSync('gcc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-o', waker, C_SOURCE], { stdio: 'pipe' });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(async () => {
  for (const a of attachments.splice(0)) if (!a.detached) shmdt(a);
  await killChildren();
});

function segment(size = 1 << 16): { id: number; att: Attachment; view: Int32Array } {
  const id = removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600));
  const att = shmat(id);
  attachments.push(att);
  return { id, att, view: new Int32Array(att.buffer) };
}

/** Until the watcher has a call in libuv's pool, and a little longer for it to reach the kernel. */
async function watcherInFlight(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (wordWatcherStats().running === 0 && wordWatcherStats().cap > 0 && Date.now() < deadline) await sleep(2);
  await sleep(30);
}

/** Median ms of `n` sequential readFile calls of a small file. */
async function readFileMs(n = 15): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await readFile(join(ROOT, 'package.json'));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[n >> 1];
}

/** The C waker: FUTEX_WAKE on word `index` of segment `id`, word unchanged, until the kernel woke someone. */
async function cWake(id: number, index: number): Promise<string> {
  const { stdout } = await run(waker, [String(id), String(index)], { timeout: 30_000 });
  return stdout.trim();
}

/** The futex protocol: change the word, then wake. */
function setAndNotify(view: Int32Array, index: number): void {
  Atomics.store(view, index, 1);
  notify(view, index);
}

function count(results: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function abortedWith(reason: unknown) {
  return expect.objectContaining({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
}

describe.each(['auto', 'fallback'] as const)('waitAsync, %s engine', (engine) => {
  beforeAll(() => configureWordWatcher({ engine }));
  afterAll(() => configureWordWatcher({}));
  afterEach(() => expect(wordWatcherStats().waits).toBe(0));

  it('picks its engine: futex_waitv where the kernel has it, else the FUTEX_WAIT fallback', async () => {
    const { view } = segment();
    const controller = new AbortController();
    const pending = waitAsync(view, 0, 0, undefined, { spin: 0, signal: controller.signal }).catch((e: Error) => e.name);
    const stats = wordWatcherStats();
    if (engine === 'fallback') expect(stats.mode).toBe('fallback');
    else expect(['waitv', 'fallback']).toContain(stats.mode);
    controller.abort();
    expect(await pending).toBe('AbortError');
  });

  it('264 pending waits (64 words, 200 more on one word) leave fs.readFile fast; all resolve on notifies from another process', async () => {
    const { id, view } = segment();
    const baseline = await readFileMs();
    const waits = [
      ...Array.from({ length: 64 }, (_, i) => waitAsync(view, i, 0, undefined, { spin: 0 })),
      ...Array.from({ length: 200 }, () => waitAsync(view, 64, 0, undefined, { spin: 0 })),
    ];
    await watcherInFlight();
    const stats = wordWatcherStats();
    expect(stats.waits).toBe(264);
    expect(stats.groups).toBe(65);
    expect(stats.running).toBeLessThanOrEqual(stats.cap);
    if (stats.mode === 'waitv') expect(stats.shards).toBe(1); // 65 words: one call, one pool thread
    const withWaits = await readFileMs();
    // The reads completed while every wait was still pending (nothing has notified yet).
    expect(wordWatcherStats().waits).toBe(264);
    expect(withWaits, `readFile median: ${withWaits.toFixed(2)} ms with 264 pending waits, ${baseline.toFixed(2)} ms without`).toBeLessThan(baseline * 10 + 50);

    const child = recordProgram(program('notify-words'), [id, 0, 65, 1]);
    const results = await Promise.all(waits);
    await child.line(/woke \d+/);
    // The watcher had watched every word hold its value (in the kernel, or polled: the fallback has 2 words in the
    // kernel): a changed word is 'ok'.
    expect(count(results)).toEqual({ ok: 264 });
    for (let i = 0; i <= 64; i++) expect(Atomics.load(view, i)).toBe(1);
  });

  it("a C program's FUTEX_WAKE that leaves the word as it was resolves 'ok' (and only that word's waits)", async () => {
    const { id, view } = segment();
    // The target first: in the fallback only the first words are in the kernel (the others are polled).
    const target = [waitAsync(view, 7, 0, 20_000, { spin: 0 }), waitAsync(view, 7, 0, 20_000, { spin: 0 })];
    const others = new AbortController();
    const bystanders = Array.from({ length: 10 }, (_, i) =>
      waitAsync(view, 100 + i, 0, undefined, { spin: 0, signal: others.signal }).catch((e: Error) => e.name),
    );
    await watcherInFlight();
    const out = await cWake(id, 7);
    expect(out).toMatch(/^woke [1-9]\d* value 0$/);
    expect(await Promise.all(target)).toEqual(['ok', 'ok']);
    expect(Atomics.load(view, 7)).toBe(0);
    expect(wordWatcherStats().waits).toBe(10);
    others.abort();
    expect(await Promise.all(bystanders)).toEqual(Array(10).fill('AbortError'));
  });

  it("notify() from the same process wakes it ('ok')", async () => {
    const { view } = segment();
    const pending = waitAsync(view, 3, 0, 20_000, { spin: 0 });
    let woke = 0;
    const deadline = Date.now() + 15_000;
    while (woke === 0 && Date.now() < deadline) {
      await sleep(5);
      woke = notify(view, 3);
    }
    expect(woke).toBe(1); // the watcher is one waiter, whatever the number of waits it holds
    expect(await pending).toBe('ok');
  });

  it("times out with a timer: 'timed-out' no earlier than asked, each wait on its own time", async () => {
    const { view } = segment();
    const t0 = performance.now();
    const times: number[] = [];
    const results = await Promise.all(
      [150, 300, 450].map((ms) =>
        waitAsync(view, 0, 0, ms, { spin: 0 }).then((r) => {
          times.push(performance.now() - t0);
          return r;
        }),
      ),
    );
    expect(results).toEqual(['timed-out', 'timed-out', 'timed-out']);
    expect(times[0]).toBeGreaterThanOrEqual(149);
    expect(times[1]).toBeGreaterThanOrEqual(299);
    expect(times[2]).toBeGreaterThanOrEqual(449);
    expect(times[2]).toBeLessThan(10_000);
  });

  it('a timeout beyond setTimeout’s 2^31 - 1 ms is kept (not cut to 1 ms), and the wait can still be aborted', async () => {
    const { view } = segment();
    const controller = new AbortController();
    const pending = waitAsync(view, 0, 0, 2 ** 31 + 5_000, { spin: 0, signal: controller.signal });
    await sleep(50);
    expect(wordWatcherStats().waits).toBe(1);
    controller.abort();
    await expect(pending).rejects.toThrow(abortedWith(controller.signal.reason));
  });

  it('an already aborted signal rejects at once with an AbortError, before reading the word or making any call', async () => {
    const { view } = segment();
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    const calls = wordWatcherStats().calls;
    await expect(waitAsync(view, 0, 0, undefined, { signal })).rejects.toThrow(abortedWith(reason));
    view[1] = 5; // the word differs: the abort still comes first
    await expect(waitAsync(view, 1, 0, undefined, { signal })).rejects.toThrow(abortedWith(reason));
    expect(wordWatcherStats().calls).toBe(calls);
    // Misuse is still misuse: arguments are checked before the signal.
    await expect(waitAsync(view, -1, 0, undefined, { signal })).rejects.toThrow(RangeError);
    await expect(waitAsync(view, 0, 0, undefined, { signal: {} as AbortSignal })).rejects.toThrow(TypeError);
  });

  it('an abort while pending rejects with an AbortError (cause: the reason) and removes the listener; other waits go on', async () => {
    const { view } = segment();
    const controller = new AbortController();
    const aborted = waitAsync(view, 0, 0, undefined, { spin: 0, signal: controller.signal });
    const other = waitAsync(view, 0, 0, 20_000, { spin: 0 });
    await watcherInFlight();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort('enough');
    await expect(aborted).rejects.toThrow(abortedWith('enough'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(wordWatcherStats().waits).toBe(1);
    Atomics.store(view, 0, 1);
    notify(view, 0);
    expect(await other).toBe('ok');
  });

  it('an abort after the wait settled does nothing: the listener went with the wait', async () => {
    const { view } = segment();
    const controller = new AbortController();
    expect(await waitAsync(view, 0, 0, 30, { spin: 0, signal: controller.signal })).toBe('timed-out');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    view[0] = 1;
    expect(await waitAsync(view, 0, 0, 30, { spin: 0, signal: new AbortController().signal })).toBe('not-equal');
  });

  it('one signal for 100 waits: one listener, no MaxListenersExceededWarning, every wait rejects', async () => {
    const { view } = segment();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const waits = Array.from({ length: 100 }, (_, i) => waitAsync(view, i % 50, 0, undefined, { spin: 0, signal: controller.signal }));
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      controller.abort();
      const outcomes = await Promise.allSettled(waits);
      expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).name === 'AbortError')).toBe(true);
      await sleep(10);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a detach while waits are pending ends them with ERR_SHM_DETACHED (word equal or not to the placeholder’s zero)', async () => {
    const { att, view } = segment();
    view[1] = 7;
    const t0 = performance.now();
    const waits = [waitAsync(view, 0, 0, undefined, { spin: 0 }), waitAsync(view, 1, 7, undefined, { spin: 0 })];
    await watcherInFlight();
    shmdt(att);
    const outcomes = await Promise.allSettled(waits);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_SHM_DETACHED', operation: 'waitAsync' });
    }
    // Seen at the watcher's periodic look (every PERIODIC_MS), not after a long sleep.
    expect(performance.now() - t0).toBeLessThan(PERIODIC_MS * 4 + 5_000);
  });

  it('waits on one word with different expected values: each resolves on its own', async () => {
    const { view } = segment();
    const first = waitAsync(view, 0, 0, 20_000, { spin: 0 });
    await watcherInFlight();
    Atomics.store(view, 0, 5);
    const second = waitAsync(view, 0, 5, 20_000, { spin: 0 });
    expect(await first).toBe('ok'); // the word changed after the watcher slept on it
    await watcherInFlight();
    expect(wordWatcherStats().waits).toBe(1);
    Atomics.store(view, 0, 6);
    notify(view, 0);
    expect(await second).toBe('ok');
  });
});

describe('waitAsync beyond one call', () => {
  afterEach(() => configureWordWatcher({}));

  it('more than 127 distinct words: more futex_waitv calls (127 words each), all woken', async (context) => {
    configureWordWatcher({});
    const { id, view } = segment();
    const probe = new AbortController();
    const first = waitAsync(view, 0, 0, undefined, { spin: 0, signal: probe.signal }).catch(() => {});
    const mode = wordWatcherStats().mode;
    probe.abort();
    await first;
    if (mode !== 'waitv') context.skip(); // no futex_waitv here (qemu-user, an old kernel): the cases above cover the fallback
    const waits = Array.from({ length: 200 }, (_, i) => waitAsync(view, i, 0, undefined, { spin: 0 }));
    await watcherInFlight();
    const stats = wordWatcherStats();
    expect(stats.shards).toBe(2);
    expect(stats.running).toBe(Math.min(2, stats.cap));
    const child = recordProgram(program('notify-words'), [id, 0, 200, 1]);
    const results = await Promise.all(waits);
    await child.line(/woke \d+/);
    // With a pool of 4 both calls are in the kernel: every word was slept on. With a smaller one, some are polled.
    if (stats.cap >= 2) expect(count(results)).toEqual({ ok: 200 });
    else expect(results.every((r) => r === 'ok' || r === 'not-equal')).toBe(true);
  });

  it('a cap of 0 (what a pool of one thread gets): no call in the pool, every word polled, changes seen', async () => {
    configureWordWatcher({ cap: 0 });
    const { view } = segment();
    const waits = Array.from({ length: 5 }, (_, i) => waitAsync(view, i, 0, 20_000, { spin: 0 }));
    await sleep(30);
    expect(wordWatcherStats()).toMatchObject({ waits: 5, running: 0, calls: 0 });
    for (let i = 0; i < 5; i++) setAndNotify(view, i);
    expect(await Promise.all(waits)).toEqual(Array(5).fill('ok'));
    expect(await waitAsync(view, 0, 1, 50, { spin: 0 })).toBe('timed-out');
  });

  it('the words left of two calls move into one: one pool thread again', async (context) => {
    configureWordWatcher({});
    const { id, view } = segment();
    const controller = new AbortController();
    const leaving = Array.from({ length: 190 }, (_, i) =>
      waitAsync(view, 5 + i, 0, undefined, { spin: 0, signal: controller.signal }).catch((e: Error) => e.name),
    );
    const staying = [0, 1, 2, 3, 4, 195, 196, 197, 198, 199].map((i) => waitAsync(view, i, 0, 20_000, { spin: 0 }));
    await watcherInFlight();
    if (wordWatcherStats().mode !== 'waitv') {
      controller.abort();
      for (const i of [0, 1, 2, 3, 4, 195, 196, 197, 198, 199]) setAndNotify(view, i);
      await Promise.all([...leaving, ...staying]);
      context.skip();
    }
    expect(wordWatcherStats()).toMatchObject({ shards: 2, running: 2 });
    controller.abort();
    await Promise.all(leaving);
    const deadline = Date.now() + 10_000;
    while (wordWatcherStats().running !== 1 && Date.now() < deadline) await sleep(5);
    expect(wordWatcherStats()).toMatchObject({ waits: 10, shards: 1, running: 1 });
    // Word 199 was in the second call: it is in the first one now, and a bare FUTEX_WAKE reaches it.
    await sleep(30);
    expect(await cWake(id, 199)).toMatch(/^woke [1-9]\d* value 0$/);
    expect(await staying[9]).toBe('ok');
    for (const i of [0, 1, 2, 3, 4, 195, 196, 197, 198]) setAndNotify(view, i);
    expect(await Promise.all(staying.slice(0, 9))).toEqual(Array(9).fill('ok'));
  });

  it.each(['auto', 'fallback'] as const)('words beyond what the pool may hold are polled, and reach the kernel once there is room (%s)', async (engine) => {
    // One call in the pool at a time: 8 words in it (fallback: 1), the other words polled by the main thread.
    configureWordWatcher({ engine, cap: 1, shardSize: 8 });
    const { id, view } = segment();
    const waits = Array.from({ length: 40 }, (_, i) => waitAsync(view, i, 0, undefined, { spin: 0 }));
    await watcherInFlight();
    const stats = wordWatcherStats();
    expect(stats.running).toBe(1);
    expect(stats.queued).toBe(stats.mode === 'waitv' ? 4 : 39);
    // Word 0 is in the kernel: a FUTEX_WAKE that leaves it as it was wakes it.
    expect(await cWake(id, 0)).toMatch(/^woke [1-9]\d* value 0$/);
    expect(await waits[0]).toBe('ok');
    // The polled words see their changes ('ok': the watcher had seen them hold their value).
    const child = recordProgram(program('notify-words'), [id, 1, 38, 1]);
    expect(count(await Promise.all(waits.slice(1, 39)))).toEqual({ ok: 38 });
    await child.line(/woke \d+/);
    // Word 39, polled so far, now has the pool's slot: a bare FUTEX_WAKE reaches it (the C waker retries until then).
    expect(await cWake(id, 39)).toMatch(/^woke [1-9]\d* value 0$/);
    expect(await waits[39]).toBe('ok');
    expect(wordWatcherStats()).toMatchObject({ waits: 0, queued: 0 });
  });
});

describe('a process with pending waits', () => {
  /** Runs test/fixtures/sync/exit-with-waits.ts; returns what it printed and the ms from `pattern` to its end. */
  async function ending(name: string, engine: string, pattern: RegExp) {
    const { id } = segment();
    const child = recordProgram(program('exit-with-waits'), [id, name, engine]);
    await child.line(pattern, 60_000);
    const seen = performance.now();
    const exit = await child.exit;
    return { ...exit, afterLine: performance.now() - seen };
  }

  // The fixture sets the watcher's periodic timeout to 60 s: without the exit listener's wake, the pool threads
  // asleep in futex_waitv would hold the process that long (libuv joins them at exit).
  describe.each(['auto', 'fallback'])('%s engine', (engine) => {
    it('process.exit() with 1,264 waits pending ends at once', async () => {
      const r = await ending('exit', engine, /exiting/);
      expect(r.code, r.stderr).toBe(0);
      expect(r.signal).toBeNull();
      expect(r.afterLine).toBeLessThan(5_000);
    });

    it('an uncaught exception with waits pending ends the process (exit code 1), no hang', async () => {
      const r = await ending('throw', engine, /throwing/);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('uncaught on purpose');
      expect(r.afterLine).toBeLessThan(5_000);
    });

    it('once every wait settled, nothing holds the event loop', async () => {
      const r = await ending('natural', engine, /settled/);
      expect(r.stdout).toContain('settled timed-out ok AbortError');
      expect(r.code).toBe(0);
      expect(r.afterLine).toBeLessThan(5_000);
    });

    it('a pending wait keeps the process alive (as a ref’d handle does)', async () => {
      const r = await ending('pending', engine, /alive/);
      expect(r.stdout).not.toContain('resolved');
      expect(r.code).toBe(0);
    });

    it('a worker thread with pending waits can be terminated', async () => {
      const r = await ending('worker', engine, /terminated \d+/);
      expect(r.code, r.stderr).toBe(0);
      expect(r.signal).toBeNull();
      const ms = Number(/terminated (\d+)/.exec(r.stdout)![1]);
      expect(ms).toBeLessThan(5_000);
    });
  });
});

describe('a watched word whose buffer is moved away', () => {
  it('a web stream moving the segment buffer under a pending waitAsync ends that wait with an error, not the process', async () => {
    const id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
    try {
      const program = fileURLToPath(new URL('../fixtures/sync/wait-then-move-buffer.ts', import.meta.url));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', program, String(id)], { timeout: 30_000 });
      // Node 20 cannot move an external buffer at all; later versions can, and the wait must then reject.
      expect(stdout).toMatch(/^(not-moved \w+|moved rejected RangeError)$/m);
    } finally {
      shmctl(id, IPC_RMID);
    }
  });
});
