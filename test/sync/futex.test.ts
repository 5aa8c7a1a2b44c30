// wait / notify / waitAsync on a word of a segment, within a process and across processes.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_PRIVATE, ShmError, notify, shmat, shmdt, shmget, wait, waitAsync, type Attachment } from '../../lib/index.js';
import { ASYNC_SLICE_MS, WAIT_SPIN, futexCallCounts, wordWatcherStats } from '../../lib/internal.js';
import { removeAfterTest } from '../support/segments.js';
import { startProgram, waitForLine } from '../support/child.js';
import { catchError } from '../support/errors.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/sync/${name}.ts`, import.meta.url));

const attachments: Attachment[] = [];
const children: Array<ReturnType<typeof startProgram>> = [];

afterEach(() => {
  for (const a of attachments.splice(0)) if (!a.detached) shmdt(a);
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function segment(size = 4096): { id: number; att: Attachment; view: Int32Array } {
  const id = removeAfterTest(shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600));
  const att = shmat(id);
  attachments.push(att);
  return { id, att, view: new Int32Array(att.buffer) };
}

/** Starts a child program of test/fixtures/sync/ with its arguments. */
function child(name: string, args: Array<string | number>) {
  const c = startProgram(program(name), args);
  children.push(c);
  let stderr = '';
  c.stderr!.setEncoding('utf8');
  c.stderr!.on('data', (d: string) => (stderr += d));
  return Object.assign(c, { stderrText: () => stderr });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wait', () => {
  it("returns 'not-equal' at once when the word differs, without a syscall", () => {
    const { view } = segment();
    view[3] = 5;
    const before = futexCallCounts();
    const t0 = performance.now();
    expect(wait(view, 3, 4, 10_000)).toBe('not-equal');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(futexCallCounts().wait).toBe(before.wait);
  });

  it("times out within a reasonable margin ('timed-out')", () => {
    const { view } = segment();
    const t0 = performance.now();
    expect(wait(view, 0, 0, 150, { spin: 0 })).toBe('timed-out');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(5000);
  });

  it("timeout 0 only checks ('timed-out' when equal)", () => {
    const { view } = segment();
    expect(wait(view, 0, 0, 0)).toBe('timed-out');
  });

  it('honours byteOffset: a view that starts inside the segment waits on the right word', () => {
    const { view, att } = segment();
    const inner = new Int32Array(att.buffer, 64, 4);
    view[16 + 2] = 9; // the same word as inner[2]
    expect(wait(inner, 2, 8, 1000)).toBe('not-equal');
    expect(wait(inner, 2, 9, 20, { spin: 0 })).toBe('timed-out');
  });

  it('is woken by notify from another process', async () => {
    const { id, view } = segment();
    const c = child('wait-for-notify', [id]);
    await waitForLine(c, /waiting/);
    // Notify without changing the word until one waiter is woken: that proves the child slept in the kernel on
    // this very word of the segment and that the wake crossed the process boundary.
    let woken = 0;
    const deadline = Date.now() + 15_000;
    while (woken === 0 && Date.now() < deadline) {
      woken = notify(view, 1);
      if (woken === 0) await sleep(5);
    }
    expect(woken).toBe(1);
    await waitForLine(c, /result ok/);
  });

  it('a signal during the wait does not cut the timeout short (EINTR is retried with the time left)', async () => {
    const { id } = segment();
    const c = child('wait-through-a-signal', [id]);
    await waitForLine(c, /waiting/);
    await sleep(150);
    c.kill('SIGUSR2');
    const m = await waitForLine(c, /result (\S+) (\d+) calls (\d+)/);
    expect(m[1]).toBe('timed-out');
    expect(Number(m[2])).toBeGreaterThanOrEqual(780);
    // The wait sleeps in slices of at most 50 ms (between them it looks for termination signals); the signal ended
    // one of them early, and the rest of the 800 ms was waited out: 16 slices, one more for the interruption.
    expect(Number(m[3])).toBeGreaterThanOrEqual(16);
    expect(Number(m[3])).toBeLessThanOrEqual(18);
  });
});

describe('notify', () => {
  it('returns 0 when nobody waits', () => {
    const { view } = segment();
    expect(notify(view, 0)).toBe(0);
    expect(notify(view, 0, 0)).toBe(0);
  });
});

describe('waitAsync', () => {
  it('does not block timers while it waits', async () => {
    const { view } = segment();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const t0 = performance.now();
      const result = await waitAsync(view, 0, 0, 300, { spin: 0 });
      expect(result).toBe('timed-out');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('resolves when another process changes the word and notifies', async () => {
    const { id, view } = segment();
    const pending = waitAsync(view, 2, 0, 20_000, { spin: 0 });
    const c = child('set-and-notify-later', [id]);
    const result = await pending;
    expect(['ok', 'not-equal']).toContain(result);
    expect(Atomics.load(view, 2)).toBe(1);
    await waitForLine(c, /woke \d/);
  });

  it("returns 'not-equal' at once", async () => {
    const { view } = segment();
    view[0] = 1;
    expect(await waitAsync(view, 0, 0)).toBe('not-equal');
  });
});

describe('misuse is refused before any syscall', () => {
  it('an Int32Array that is not over a segment is a TypeError', () => {
    const before = futexCallCounts();
    expect(() => wait(new Int32Array(4), 0, 0, 10)).toThrow(TypeError);
    expect(() => notify(new Int32Array(new SharedArrayBuffer(16)), 0)).toThrow(TypeError);
    expect(() => wait(new Uint32Array(4) as unknown as Int32Array, 0, 0)).toThrow(TypeError);
    expect(() => notify({} as Int32Array, 0)).toThrow(TypeError);
    expect(futexCallCounts()).toEqual(before);
  });

  it('bad index, expected value or timeout', async () => {
    const { view } = segment();
    expect(() => wait(view, view.length, 0, 10)).toThrow(RangeError);
    expect(() => wait(view, -1, 0, 10)).toThrow(RangeError);
    expect(() => wait(view, 1.5, 0, 10)).toThrow(TypeError);
    expect(() => wait(view, 0, 0.5, 10)).toThrow(TypeError);
    expect(() => wait(view, 0, 0, -1)).toThrow(RangeError);
    expect(() => wait(view, 0, 0, NaN)).toThrow(RangeError);
    expect(() => notify(view, 0, -1)).toThrow(RangeError);
    await expect(waitAsync(view, 99999, 0)).rejects.toThrow(RangeError);
  });

  it('a detached (placeholder) buffer throws a clear error instead of crashing or sleeping forever', async () => {
    const { att, view } = segment();
    shmdt(att);
    const error = catchError(() => wait(view, 0, 0, 10));
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'ERR_SHM_DETACHED', operation: 'wait' });
    expect(error.syscall).toBeUndefined();
    expect(() => notify(view, 0)).toThrow(expect.objectContaining({ code: 'ERR_SHM_DETACHED', operation: 'notify' }));
    await expect(waitAsync(view, 0, 0, 10)).rejects.toMatchObject({ code: 'ERR_SHM_DETACHED', operation: 'waitAsync' });
  });

  it('waitAsync still checks the deprecated sliceMs option (a number > 0, even when no sleep follows) and otherwise ignores it', async () => {
    const { view } = segment();
    expect([WAIT_SPIN, ASYNC_SLICE_MS]).toEqual([100, 500]); // the documented defaults
    view[0] = 1;
    await expect(waitAsync(view, 0, 0, 10, { sliceMs: 0 })).rejects.toThrow(RangeError);
    await expect(waitAsync(view, 0, 0, 10, { sliceMs: -5 })).rejects.toThrow(RangeError);
    await expect(waitAsync(view, 0, 0, 10, { sliceMs: Number.NaN })).rejects.toThrow(RangeError);
    await expect(waitAsync(view, 0, 0, 10, { sliceMs: '5' as never })).rejects.toThrow(TypeError);
    expect(await waitAsync(view, 0, 0, 10, { sliceMs: 5 })).toBe('not-equal');
    // No slices any more: a 200 ms wait is one sleep of the word watcher, not five of 40 ms.
    const before = wordWatcherStats().calls;
    expect(await waitAsync(view, 0, 1, 200, { spin: 0, sliceMs: 40 })).toBe('timed-out');
    expect(wordWatcherStats().calls - before).toBeLessThanOrEqual(2);
  });

  it('a waitAsync in flight when the segment is detached ends without crashing', async () => {
    const { att, view } = segment();
    const pending = waitAsync(view, 0, 0, 5_000, { spin: 0 });
    await sleep(20);
    shmdt(att);
    // Either the slice in flight times out and the re-check reports the detach, or the placeholder word differs.
    const outcome = await pending.then(
      (r) => r,
      (e: { code?: string }) => e.code,
    );
    expect(['ERR_SHM_DETACHED', 'not-equal', 'timed-out']).toContain(outcome);
  });
});
