// Parsing util-linux ipcs output shared by the tests that compare with it (util-linux 2.38, LC_ALL=C).
import { expect } from 'vitest';
import type { Summary } from '../../lib/index.js';

/** The "Shared Memory Status" section of `ipcs -m -u`, in the shape of the library's summary(). */
export function parseIpcsUsage(text: string): Omit<Summary, 'sem' | 'msg'> {
  const numbers = (pattern: RegExp) => {
    const match = pattern.exec(text);
    expect(match, `${pattern} in:\n${text}`).not.toBeNull();
    return match!.slice(1);
  };
  expect(text).toContain('------ Shared Memory Status --------');
  const [attempts, successes] = numbers(/^Swap performance: (\d+) attempts\t (\d+) successes$/m);
  return {
    segments: Number(numbers(/^segments allocated (\d+)$/m)[0]),
    pagesAllocated: BigInt(numbers(/^pages allocated (\d+)$/m)[0]),
    pagesResident: BigInt(numbers(/^pages resident {2}(\d+)$/m)[0]),
    pagesSwapped: BigInt(numbers(/^pages swapped {3}(\d+)$/m)[0]),
    swapAttempts: BigInt(attempts),
    swapSuccesses: BigInt(successes),
  };
}

/** Deep equality for values that may hold bigints (to see whether a reading changed between two calls). */
export function sameValue(a: unknown, b: unknown): boolean {
  const text = (value: unknown) => JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${v}n` : v));
  return text(a) === text(b);
}

/** The "name=value" fields of `ipcs -m -i <shmid>` output (checked to be about that segment). */
export function parseIpcsDetail(text: string, shmid: number): Record<string, string> {
  expect(text).toContain(`Shared memory Segment shmid=${shmid}`);
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    for (const part of line.split('\t')) {
      const match = /^(\w+)=(.*)$/.exec(part.trim());
      if (match) fields[match[1]] = match[2].trim();
    }
  }
  return fields;
}
