// Limits reached: SHMMAX, SHMALL, SHMMNI and the address space. Clear errors, no crash, nothing leaked.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Segment } from '../../lib/index.js';
import { LIB, ROOT } from '../support/child.js';
import { removeAfterTest } from '../support/segments.js';
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
    // V8 and WebAssembly reserve much address space at start: 40 GiB leaves room for some 256 MiB attachments only.
    const result = spawnSync(
      'prlimit',
      [
        `--as=${40 * 2 ** 30}`,
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import { Segment } from ${JSON.stringify(LIB)};
        const segment = Segment.fromId(${segment.id});
        const attachments = [];
        let error;
        try { for (let i = 0; i < 10000; i++) { const a = segment.attach(); a.bytes[i] = 1; attachments.push(a); } } catch (e) { error = e; }
        const peak = segment.numberAttached;
        for (const a of attachments) a.detach();
        console.log(JSON.stringify({ made: attachments.length, peak, code: error?.code, message: error?.message, after: segment.numberAttached }));
        `,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    const outcome = JSON.parse(result.stdout.trim());
    expect(outcome.made).toBeGreaterThan(0);
    expect(outcome.made).toBeLessThan(10000);
    expect(outcome.peak).toBe(outcome.made);
    expect(outcome.code).toBe('ENOMEM');
    expect(outcome.message).toContain('no room in its address space');
    expect(outcome.after).toBe(0);
  });
});
