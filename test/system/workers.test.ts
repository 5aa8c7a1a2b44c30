// Worker threads: what a worker attached is detached when the worker ends, however it ends (its own code does not
// run when it is terminated: the thread that created it does the detaching, lib/c/threads.ts).
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Segment } from '../../lib/index.js';
import { runProgram } from '../support/child.js';
import { childResults, procRow, removeAfterTest } from '../support/segments.js';

const program = (name: string) => fileURLToPath(new URL(`../fixtures/system/${name}`, import.meta.url));

describe('worker threads', () => {
  it('20 workers that attach and end naturally, with process.exit() or terminate(): nattch back to 0', () => {
    const segment = Segment.create({ size: 4096 });
    removeAfterTest(segment.id);
    const results = childResults<{ afterTwenty: number; afterMove: number; movedAfter: number[] | null }>(
      runProgram(program('workers.ts'), [segment.id], { timeoutMs: 60_000 }),
    );
    expect(results.afterTwenty).toBe(0);
    expect(results.afterMove).toBe(0);
    // Memory a terminated worker moved to the main thread stays harmless: a placeholder, zeros.
    if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function') expect(results.movedAfter).toEqual([0, 4096]);
    else expect(results.movedAfter).toBeNull();
    // The workers wrote their byte before ending.
    const check = segment.attach({ readOnly: true });
    expect([...check.read(0, 20)]).toEqual(new Array(20).fill(1));
    check.detach();
    expect(procRow(segment.id)!.nattch).toBe(0);
  });
});
