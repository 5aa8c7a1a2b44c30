// CPU affinity of the calling thread (sched_setaffinity(0, ...) through koffi): how the worker_threads reference
// places its two threads, which taskset cannot tell apart.
import { readFileSync } from 'node:fs';
import { libcHandle } from '../../lib/internal.js';

let setaffinity: ((pid: number, size: number, mask: Uint8Array) => number) | undefined;

export function pinThisThread(cpu: number): void {
  setaffinity ??= libcHandle().func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)') as unknown as typeof setaffinity;
  const mask = new Uint8Array(128);
  mask[cpu >> 3] |= 1 << (cpu & 7);
  if (setaffinity!(0, mask.length, mask) !== 0) throw new Error(`sched_setaffinity to CPU ${cpu} failed`);
}

/** The CPUs this thread may run on (Cpus_allowed_list of /proc/thread-self/status). */
export function allowedCpus(): string {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}
