// Ctrl-C and kill while blocked in a synchronous wait of the library: the process dies of the signal, promptly,
// and the segments it was to remove on exit are removed (lib/native/signals.ts). And the library's listeners are
// there only while needed.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';
import { killChildren, recordProgram } from '../support/child.js';
import { procRow, removeAfterTest } from '../support/segments.js';

const BLOCKED = fileURLToPath(new URL('../fixtures/segment/blocked.ts', import.meta.url));

afterEach(killChildren);

describe('a signal while blocked in a synchronous wait', () => {
  for (const how of ['wait', 'receive', 'send'] as const) {
    it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(`${how}(): %s ends the process by that signal and removes its segments`, async (signal) => {
      const child = recordProgram(BLOCKED, [how]);
      const id = removeAfterTest(Number((await child.line(/^made (\d+)$/m))[1]));
      await child.line(new RegExp(`^blocked ${how}$`, 'm'));
      await new Promise((resolve) => setTimeout(resolve, 100)); // asleep in the kernel by now
      const sent = performance.now();
      child.child.kill(signal);
      const end = await child.exit;
      const latencyMs = performance.now() - sent;
      expect({ code: end.code, signal: end.signal, stderr: end.stderr }).toEqual({ code: null, signal, stderr: '' });
      expect(end.stdout).not.toContain('returned');
      expect(procRow(id)).toBeUndefined();
      // The promise is 100 ms (two sleep slices at most); the bound here is generous for a loaded machine.
      expect(latencyMs).toBeLessThan(3000);
    });
  }
});

describe('the library listens to signals only while it has something to remove', () => {
  it('removeOnExit adds SIGINT/SIGTERM/SIGHUP listeners; cancelRemoveOnExit and remove() take them away', () => {
    const before = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'].map((name) => process.listenerCount(name));
    const count = () => ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'].map((name) => process.listenerCount(name));
    const a = Segment.create({ size: 64 }).removeOnExit();
    const b = Segment.create({ size: 64 }).removeOnExit();
    removeAfterTest(a.id);
    removeAfterTest(b.id);
    expect(count()).toEqual(before.map((n) => n + 1));
    a.cancelRemoveOnExit();
    expect(count()).toEqual(before.map((n) => n + 1)); // b still needs them
    b.remove();
    expect(count()).toEqual(before);
    a.removeOnExit();
    expect(count()).toEqual(before.map((n) => n + 1));
    a.remove();
    expect(count()).toEqual(before);
  });
});
