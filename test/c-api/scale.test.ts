import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { IPC_CREAT, IPC_PRIVATE, shmget } from '../../lib/index.js';
import { removeAfterTest } from '../support/segments.js';
import { runProgram } from '../support/child.js';
import { skipIfEmulated } from '../support/emulation.js';

const attachAtScale = fileURLToPath(new URL('../fixtures/c-api/attach-at-scale.ts', import.meta.url));

// The figures (and the comparison with a native addon) come from bench/attach-scale.ts. Here only the shape is
// checked, with bounds loose enough for a busy 2-core machine: both sides of each ratio are measured in the same
// process, in CPU time, a few milliseconds apart. The kernel's own cost grows a little with 20,000 mappings
// (1.1-1.3x measured from C), and so does the GC's; a linear scan of the ledger, as before it was ordered, made a
// cycle 8x dearer at 2,000 live attachments and 30x at 20,000, and 100,000 cycles slowed down 8x from start to end.
describe('attach and detach at scale', () => {
  it('costs the same with 20,000 live attachments as with 10, and stays flat over 100,000 cycles', (context) => {
    skipIfEmulated(
      context,
      'qemu-user places every shmat and mmap itself and keeps the guest mappings in its own page tables, whose cost grows with their number (5x at 20,000 measured on armv7l): that measures qemu, not the library',
    );
    const id = removeAfterTest(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600));
    const result = runProgram(attachAtScale, [id, 20_000, 100_000], { timeoutMs: 240_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const figures = JSON.parse(result.stdout) as { fewUs: number; manyUs: number; early: number; late: number; maps: number };
    expect(figures.manyUs / figures.fewUs).toBeLessThan(4);
    expect(figures.late / figures.early).toBeLessThan(3);
  }, 250_000);
});
