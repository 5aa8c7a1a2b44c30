// Huge-page segments (SHM_HUGETLB). The pool of huge pages is machine-wide state: the test saves
// /proc/sys/vm/nr_hugepages (and nr_overcommit_hugepages), sets what it needs, and ALWAYS restores the originals.
// Everything that maps huge pages runs in a child, so that a fault there cannot take the runner down.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Segment, ShmError, list } from '../../lib/index.js';
import { readProcShm } from '../../lib/internal.js';
import { runProgram } from '../support/child.js';
import { catchError } from '../support/errors.js';
import { procRow, removeAfterTest, removeMadeSegments, uniqueKey } from '../support/segments.js';

const NR = '/proc/sys/vm/nr_hugepages';
const OVERCOMMIT = '/proc/sys/vm/nr_overcommit_hugepages';
const POOL_2MB = '/sys/kernel/mm/hugepages/hugepages-2048kB';
const MB = 1024 * 1024;

const read = (path: string) => Number(readFileSync(path, 'utf8').trim());
const defaultHugePageKb = Number(/Hugepagesize:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
let original: { nr: number; overcommit: number } | undefined;

function setPool(pages: number): number {
  writeFileSync(NR, `${pages}\n`);
  return read(NR);
}

beforeAll(() => {
  original = { nr: read(NR), overcommit: read(OVERCOMMIT) };
  // Surplus pages would let an allocation succeed with no pages reserved.
  if (original.overcommit !== 0) writeFileSync(OVERCOMMIT, '0\n');
});

afterAll(() => {
  if (!original) return;
  const errors: unknown[] = [];
  for (const [path, value] of [
    [NR, original.nr],
    [OVERCOMMIT, original.overcommit],
  ] as const) {
    try {
      writeFileSync(path, `${value}\n`);
    } catch (error) {
      errors.push(error);
    }
  }
  // The kernel may give back fewer pages than asked if memory is fragmented; shrinking always works.
  expect(read(NR)).toBe(original.nr);
  expect(read(OVERCOMMIT)).toBe(original.overcommit);
  expect(errors).toEqual([]);
});

/**
 * Runs test/fixtures/system/<name>.ts, which removes what it made (announced as "made <id>") before it prints
 * "results <json>", and returns those results; the child must end normally.
 */
function inChild(name: string, args: Array<string | number> = [], nodeArgs: string[] = []): Record<string, unknown> {
  const result = runProgram(fileURLToPath(new URL(`../fixtures/system/${name}.ts`, import.meta.url)), args, { nodeArgs });
  for (const match of result.stdout.matchAll(/^made (\d+)$/gm)) removeAfterTest(Number(match[1]));
  expect(result.stderr, `child ended with ${result.signal ?? result.status}; stdout: ${result.stdout}`).toBe('');
  expect(result.signal).toBeNull();
  expect(result.status).toBe(0);
  const line = /^results (.*)$/m.exec(result.stdout);
  expect(line, result.stdout).not.toBeNull();
  for (const match of result.stdout.matchAll(/^made (\d+)$/gm)) expect(procRow(Number(match[1]))).toBeUndefined();
  return JSON.parse(line![1]);
}

describe('huge pages', () => {
  it('with no huge pages reserved, create({ hugePages }) fails with ENOMEM saying how to reserve them, and leaves nothing', () => {
    expect(setPool(0)).toBe(0);
    const before = list().length;

    const error = catchError(() => Segment.create({ size: 2 * MB, hugePages: '2MB' }));
    expect(error).toBeInstanceOf(ShmError);
    expect(error).toMatchObject({ code: 'ENOMEM', errno: 12, syscall: 'shmget' });
    expect(error.message).toMatch(/^ENOMEM: /);
    expect(error.message).toContain('SHM_HUGETLB');
    expect(error.message).toContain('Huge pages of 2048 kB: 0 available of 0 in the pool, 1 needed');
    expect(error.message).toContain(`echo 1 > ${POOL_2MB}/nr_hugepages`);

    // The advice counts the pages the size needs, and names the pool of the size asked for.
    const larger = catchError(() => Segment.create({ size: 5 * MB, hugePages: '2MB' }));
    expect(larger.message).toContain('0 available of 0 in the pool, 3 needed');
    expect(larger.message).toContain(`echo 3 > ${POOL_2MB}/nr_hugepages`);
    if (defaultHugePageKb === 2048) {
      const byDefault = catchError(() => Segment.create({ size: MB, hugePages: true }));
      expect(byDefault).toMatchObject({ code: 'ENOMEM', syscall: 'shmget' });
      expect(byDefault.message).toContain(`echo 1 > ${POOL_2MB}/nr_hugepages (or sysctl vm.nr_hugepages)`);
    }
    // 1 GiB pages exist only where the CPU has them (pdpe1gb) and the kernel set up their pool.
    const gigantic = catchError(() => Segment.create({ size: MB, hugePages: '1GB' }));
    expect(gigantic).toBeInstanceOf(ShmError);
    expect(gigantic.syscall).toBe('shmget');
    if (existsSync('/sys/kernel/mm/hugepages/hugepages-1048576kB')) {
      expect(gigantic.code).toBe('ENOMEM');
      expect(gigantic.message).toContain('huge pages of 1048576 kB: ');
    } else {
      expect(gigantic.code).toBe('EINVAL');
      expect(gigantic.message).toContain('This machine has no huge pages of 1048576 kB (/sys/kernel/mm/hugepages/hugepages-1048576kB is missing');
    }

    expect(list().length).toBe(before);
  });

  it('with 2 pages reserved: create with hugePages "2MB" and true, attach, write, read back, detach with a view kept, remove', (ctx) => {
    const got = setPool(2);
    if (got < 2) ctx.skip(`the kernel reserved only ${got} of 2 huge pages of 2 MB (memory too fragmented?)`);
    if (defaultHugePageKb !== 2048) ctx.skip(`the default huge page size here is ${defaultHugePageKb} kB, not 2048 kB`);
    expect(read(`${POOL_2MB}/free_hugepages`)).toBe(2);

    const r = inChild('huge-pages-round-trip', [POOL_2MB]);
    expect(r).toEqual({
      sizes: [2 * MB, 2 * MB],
      listed: [2 * MB, 2 * MB],
      explicitAddress2MBAligned: true,
      byDefaultAddress2MBAligned: true,
      explicitReadBack: ['120,86,52,18', '9abcdef0', 'huge'],
      byDefaultReadBack: ['120,86,52,18', '9abcdef0', 'huge'],
      explicitAttached: 1,
      byDefaultAttached: 1,
      explicitStaleView: [0, 0],
      byDefaultStaleView: [0, 0],
      explicitAfterDetach: ['12345678', 0, 'huge'],
      byDefaultAfterDetach: ['12345678', 0, 'huge'],
      explicitNattch: 0,
      byDefaultNattch: 0,
      freeWhileAllocated: 0,
      freeAfterRemove: 2,
    });
    expect(read(`${POOL_2MB}/free_hugepages`)).toBe(2);
  });

  it('a size that needs two huge pages (3 MB) works the same, and a third segment finds the pool empty', (ctx) => {
    const got = setPool(2);
    if (got < 2) ctx.skip(`the kernel reserved only ${got} of 2 huge pages of 2 MB (memory too fragmented?)`);
    const r = inChild('huge-pages-three-megabytes');
    expect(r).toEqual({ third: ['ENOMEM', expect.stringContaining(`echo 3 > ${POOL_2MB}/nr_hugepages`)], mapped: 3 * MB, data: [0x7f, 0x3c] });
    // Both pages are promised to the 3 MB segment though not touched yet: the advice must not count them as free.
    expect((r.third as string[])[1]).toContain('0 available of 2 in the pool, 1 needed');
    expect(read(`${POOL_2MB}/free_hugepages`)).toBe(2);
  });

  // Regression test for a bug fixed in lib/c/address-space.ts: a huge-page attachment whose segment size is not a
  // multiple of the huge page size maps more than its page-rounded size, so the placeholder left at detach (while
  // a view is alive) is retried with the extent of the mapping read from /proc/self/maps. That extent once
  // followed every contiguous mapping, so the placeholder also covered the neighbour above (here another
  // attachment's placeholder), and collecting the first buffer unmapped the neighbour's too: its kept view then
  // faulted. The extent is now that of the one mapping that starts at the attachment.
  it('a kept view of a huge-page attachment survives detaching and collecting a 1.5 MB one mapped right below it', (ctx) => {
    const got = setPool(2);
    if (got < 2) ctx.skip(`the kernel reserved only ${got} of 2 huge pages of 2 MB`);
    // Keys made here, so that the segments are found and removed even if the child dies before its output is flushed.
    const keys = [uniqueKey(), uniqueKey()];
    onTestFinished(() => {
      for (const row of readProcShm() ?? []) if (keys.includes(row.key)) removeAfterTest(row.shmid);
      removeMadeSegments();
    });
    const r = inChild('huge-page-view-survives-neighbour', keys, ['--expose-gc']);
    expect(r).toEqual({ kept: [0, 5] });
  });
});
