// Parsing util-linux ipcs output shared by the tests that compare with it (util-linux 2.38, LC_ALL=C).
import { expect } from 'vitest';

export interface IpcsUsage {
  segments: number;
  pagesAllocated: bigint;
  pagesResident: bigint;
  pagesSwapped: bigint;
  swapAttempts: bigint;
  swapSuccesses: bigint;
}

/** The "Shared Memory Status" section of `ipcs -m -u`. */
export function parseIpcsUsage(text: string): IpcsUsage {
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
