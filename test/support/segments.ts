// Cleanup for tests: every segment a test makes is registered here and removed after the test, pass or fail.
import { afterEach, expect } from 'vitest';
import type { ChildResult } from './child.js';
import { execFileSync } from 'node:child_process';
import { readProcShm } from '../../lib/internal.js';

const made = new Set<number>();

/** Registers a segment id for removal after the current test; returns it. */
export function removeAfterTest(shmid: number): number {
  made.add(shmid);
  return shmid;
}

/** Removes registered segments now (the afterEach hook does this too). Uses ipcrm so that it works even if lib is broken. */
export function removeMadeSegments(): void {
  const present = new Set((readProcShm() ?? []).map((row) => row.shmid));
  for (const id of made) {
    if (present.has(id)) {
      try {
        execFileSync('ipcrm', ['-m', String(id)], { stdio: 'ignore' });
      } catch {
        // removed meanwhile
      }
    }
  }
  made.clear();
}

afterEach(removeMadeSegments);

/** The /proc/sysvipc/shm row of a segment, or undefined once it is gone. */
export function procRow(shmid: number) {
  return readProcShm()?.find((row) => row.shmid === shmid);
}

/** A key unlikely to collide with anything else on the machine. */
export function uniqueKey(): number {
  return 0x5300_0000 | ((process.pid & 0xfff) << 12) | Math.floor(Math.random() * 0xfff) | 0;
}

/**
 * The `results` a child printed (a line "results <json>"), after checking that it exited normally and printed
 * nothing on stderr. Every segment it announced with a line "made <shmid>" is removed after the test, even if
 * the child failed half-way.
 */
export function childResults<T>(result: ChildResult): T {
  for (const match of result.stdout.matchAll(/^made (\d+)$/gm)) removeAfterTest(Number(match[1]));
  expect(result.stderr).toBe('');
  expect(result.signal).toBeNull();
  expect(result.status).toBe(0);
  const line = /^results (.*)$/m.exec(result.stdout);
  expect(line, result.stdout).not.toBeNull();
  return JSON.parse(line![1]) as T;
}
