// Cleanup for tests of semaphore sets and message queues: every set or queue a test makes is registered here and
// removed after the test, pass or fail (with ipcrm, so that it works even if the library is broken).
import { afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export { uniqueKey } from './segments.js';

const sets = new Set<number>();
const queues = new Set<number>();

/** Registers a semaphore set for removal after the current test; returns its id. */
export function removeSemAfterTest(semid: number): number {
  sets.add(semid);
  return semid;
}

/** Registers a message queue for removal after the current test; returns its id. */
export function removeMsgAfterTest(msqid: number): number {
  queues.add(msqid);
  return msqid;
}

/** The ids in /proc/sysvipc/<kind> (second column), read without the library. */
export function procIds(kind: 'sem' | 'msg'): Set<number> {
  try {
    const lines = readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n').slice(1);
    return new Set(lines.map((line) => Number(line.trim().split(/\s+/)[1])));
  } catch {
    return new Set();
  }
}

/** The /proc/sysvipc/<kind> row of an object as header → number (perms parsed as octal), or undefined once it is gone. */
export function procSysvRow(kind: 'sem' | 'msg', id: number): Record<string, number> | undefined {
  const [header, ...lines] = readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n');
  const names = header.trim().split(/\s+/);
  for (const line of lines) {
    const cells = line.trim().split(/\s+/);
    if (Number(cells[1]) !== id) continue;
    return Object.fromEntries(names.map((name, i) => [name, name === 'perms' ? parseInt(cells[i], 8) : Number(cells[i])]));
  }
  return undefined;
}

function removeAll(ids: Set<number>, kind: 'sem' | 'msg', option: string): void {
  const present = procIds(kind);
  for (const id of ids) {
    if (!present.has(id)) continue;
    try {
      execFileSync('ipcrm', [option, String(id)], { stdio: 'ignore' });
    } catch {
      // removed meanwhile
    }
  }
  ids.clear();
}

/** Removes the registered sets and queues now (the afterEach hook does this too). */
export function removeMadeSysvObjects(): void {
  removeAll(sets, 'sem', '-s');
  removeAll(queues, 'msg', '-q');
}

afterEach(removeMadeSysvObjects);
