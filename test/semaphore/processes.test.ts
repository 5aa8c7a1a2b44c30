// SemaphoreSet across real processes: the kernel gives back what a SIGKILLed holder took with SEM_UNDO (and only
// then), a waiter in another process learns of the set's removal as EIDRM (blocked in the kernel or polling), and
// a lock keeps two processes' read-modify-write cycles apart.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Segment, SemaphoreSet } from '../../lib/index.js';
import { killChildren, recordProgram } from '../support/child.js';
import { removeAfterTest } from '../support/segments.js';
import { removeSemAfterTest } from '../support/sysv-objects.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/semaphore/${name}.ts`, import.meta.url));

afterEach(killChildren);

/** Polls (a few ms apart) until `ready()`; fails after 20 s. */
async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('SEM_UNDO when a holder is killed', () => {
  it('acquire() (undo by default): the kernel gives the semaphore back when the holder is SIGKILLed', async () => {
    const set = SemaphoreSet.create({ values: [1] });
    removeSemAfterTest(set.id);
    const child = recordProgram(fixture('hold'), [set.id, 'undo']);
    await child.line(/^held 0$/m);
    expect(set.value()).toBe(0);
    expect(set.status().semaphores[0].lastPid).toBe(child.child.pid);
    child.child.kill('SIGKILL');
    expect((await child.exit).signal).toBe('SIGKILL');
    expect(set.value()).toBe(1);
    set.remove();
  });

  it('acquire({ undo: false }): nothing is given back, the value stays taken', async () => {
    const set = SemaphoreSet.create({ values: [1] });
    removeSemAfterTest(set.id);
    const child = recordProgram(fixture('hold'), [set.id, 'no-undo']);
    await child.line(/^held 0$/m);
    child.child.kill('SIGKILL');
    await child.exit;
    expect(set.value()).toBe(0);
    set.remove();
  });

  it.each([
    [true, 1],
    [false, 2],
  ] as const)('acquire() then release({ undo: %s }) and a normal exit leave the value at %i', async (undo, after) => {
    // With both undone the adjustment is 0 at exit; a release without undo leaves the acquire's +1 to be applied
    // on top of the release: the value drifts up.
    const set = SemaphoreSet.create({ values: [1] });
    removeSemAfterTest(set.id);
    const child = recordProgram(fixture('acquire-release'), [set.id, undo ? 'undo' : 'no-undo']);
    const end = await child.exit;
    expect(end).toMatchObject({ code: 0, stderr: '' });
    expect(end.stdout).toMatch(/^value 1$/m);
    expect(set.value()).toBe(after);
    set.remove();
  });
});

describe('a waiter in another process when the set is removed', () => {
  it('sync: blocked in the kernel (semncnt 1), acquire() throws EIDRM', async () => {
    const set = SemaphoreSet.create({ values: [0] });
    removeSemAfterTest(set.id);
    const child = recordProgram(fixture('wait-removed'), [set.id, 'sync']);
    await child.line(/^waiting$/m);
    await until(() => set.status().semaphores[0].waitingForNonzero === 1, 'the child sleeps in semtimedop');
    set.remove();
    const end = await child.exit;
    expect(end.stdout).toMatch(/^error EIDRM semtimedop$/m);
    expect(end.stdout).toMatch(/was removed while this process waited/);
    expect(end.code).toBe(0);
  });

  it('async: polling with IPC_NOWAIT (no semncnt), acquireAsync() rejects with EIDRM', async () => {
    const set = SemaphoreSet.create({ values: [0] });
    removeSemAfterTest(set.id);
    const child = recordProgram(fixture('wait-removed'), [set.id, 'async']);
    await child.line(/^waiting$/m);
    // The first try failed before "waiting" was printed's event-loop turn ended: the wait is pending. Polling
    // waiters do not sleep in the kernel, so the set shows no waiter.
    expect(set.status().semaphores[0].waitingForNonzero).toBe(0);
    set.remove();
    const end = await child.exit;
    expect(end.stdout).toMatch(/^error EIDRM semop$/m); // its tries are IPC_NOWAIT semop(2) calls
    expect(end.code).toBe(0);
  });
});

describe('a lock across processes', () => {
  it('two processes incrementing one counter under `using lock = set.lock()` lose no update', async () => {
    const rounds = 300;
    const set = SemaphoreSet.create({ values: [1, 1] }); // the lock, and a starting gate
    removeSemAfterTest(set.id);
    const segment = Segment.create({ size: 4096 });
    removeAfterTest(segment.id);
    const attachment = segment.attach();
    const counter = attachment.view(Int32Array, 0, 1);
    const child = recordProgram(fixture('count-with-lock'), [set.id, segment.id, rounds]);
    await child.line(/^ready$/m);
    set.acquire({ index: 1, undo: false }); // the gate opens: both start at once
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < rounds; i++) {
      using _lock = set.lock({ timeoutMs: 20_000 });
      const seen = counter[0];
      Atomics.wait(pause, 0, 0, 0.05);
      counter[0] = seen + 1;
    }
    const end = await child.exit;
    expect(end.stderr).toBe('');
    expect(end.stdout).toMatch(/^done$/m);
    expect(counter[0]).toBe(2 * rounds);
    expect(set.values()).toEqual([1, 0]);
    attachment.detach();
    segment.remove();
    set.remove();
  });
});
