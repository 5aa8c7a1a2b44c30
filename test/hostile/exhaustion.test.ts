// Limits reached: SHMMAX, SHMALL, SHMMNI and the address space. Clear errors, no crash, nothing leaked.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { Segment } from '../../lib/index.js';
import { runProgram } from '../support/child.js';
import { childResults, removeAfterTest } from '../support/segments.js';
import { catchError } from '../support/errors.js';

/** Runs body with a kernel tunable set to value, restoring it whatever happens. */
function withTunable<T>(name: string, value: string | number, body: () => T): T {
  const path = `/proc/sys/kernel/${name}`;
  const saved = readFileSync(path, 'utf8');
  writeFileSync(path, String(value));
  try {
    return body();
  } finally {
    writeFileSync(path, saved);
  }
}

describe('exhaustion', () => {
  it('a size above SHMMAX is EINVAL naming the limit and how to raise it', () => {
    const error = withTunable('shmmax', 1 << 20, () => catchError(() => Segment.create({ size: 2 << 20 })));
    expect(error).toMatchObject({ code: 'EINVAL', syscall: 'shmget' });
    expect(error.message).toContain('above SHMMAX (1048576');
    expect(error.message).toContain('sysctl kernel.shmmax');
  });

  it('SHMALL reached is ENOSPC naming the limits', () => {
    const used = BigInt(readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n').length); // generous: pages in use are fewer
    const inUse = Segment.create({ size: 4096 });
    removeAfterTest(inUse.id);
    const error = withTunable('shmall', String(used + 64n), () => {
      const made: Segment[] = [];
      try {
        for (let i = 0; i < 1000; i++) made.push(Segment.create({ size: 16 * 4096 }));
        return undefined;
      } catch (e) {
        return e as { code: string; message: string };
      } finally {
        for (const s of made) s.remove();
      }
    });
    expect(error).toMatchObject({ code: 'ENOSPC' });
    expect(error!.message).toContain('SHMALL');
  });

  it('SHMMNI reached: create until ENOSPC, then everything is cleaned up', () => {
    const inUse = readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n').length - 1;
    const made: Segment[] = [];
    const error = withTunable('shmmni', inUse + 25, () => {
      try {
        for (let i = 0; i < 100; i++) made.push(Segment.create({ size: 64 }));
        return undefined;
      } catch (e) {
        return e as { code: string; message: string };
      } finally {
        for (const s of made) s.remove();
      }
    });
    expect(made.length).toBe(25);
    expect(error).toMatchObject({ code: 'ENOSPC' });
    expect(error!.message).toContain(`SHMMNI = ${inUse + 25}`);
  });

  it('address space exhausted by large attachments: ENOMEM, no crash, all detached', () => {
    const segment = Segment.create({ size: 256 << 20, noReserve: true });
    removeAfterTest(segment.id);
    const outcome = childResults<{ made: number; peak: number; code?: string; message?: string; after: number }>(
      runProgram(fileURLToPath(new URL('../fixtures/hostile/fill-address-space.ts', import.meta.url)), [segment.id], { timeoutMs: 60_000 }),
    );
    expect(outcome.made).toBeGreaterThan(0);
    expect(outcome.made).toBeLessThan(10000);
    expect(outcome.peak).toBe(outcome.made);
    expect(outcome.code).toBe('ENOMEM');
    expect(outcome.message).toContain('no room in its address space');
    expect(outcome.after).toBe(0);
  });
});
