// Helpers shared by the spike's scripts: segments, children, statistics.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Segment } from '/work/main/lib/index.js';

export const HERE = '/tmp/spike-doorbell';

export interface Seg {
  segment: Segment;
  i32: Int32Array;
  i64: BigInt64Array;
  bytes: Uint8Array;
  detach(): void;
}

export function createSegment(size = 4096): Seg {
  const segment = Segment.create({ size }).removeOnExit();
  const att = segment.attach();
  return {
    segment,
    i32: att.view(Int32Array),
    i64: att.view(BigInt64Array),
    bytes: att.view(Uint8Array),
    detach: () => {
      att.detach();
      segment.remove();
    },
  };
}

export function attachSegment(id: number): { i32: Int32Array; i64: BigInt64Array; bytes: Uint8Array; detach(): void } {
  const att = Segment.fromId(id).attach();
  return { i32: att.view(Int32Array), i64: att.view(BigInt64Array), bytes: att.view(Uint8Array), detach: () => att.detach() };
}

export function nodeChild(args: string[], opts: { cpu?: number; ipc?: boolean; serialization?: 'json' | 'advanced' } = {}): ChildProcess {
  const argv = ['--import', 'tsx', ...args];
  const stdio: any = opts.ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'];
  if (opts.cpu !== undefined && !process.env.NOPIN) return spawn('taskset', ['-c', String(opts.cpu), process.execPath, ...argv], { cwd: HERE, stdio, serialization: opts.serialization });
  return spawn(process.execPath, argv, { cwd: HERE, stdio, serialization: opts.serialization });
}

export function cChild(args: string[], cpu?: number): ChildProcess {
  if (cpu !== undefined && !process.env.NOPIN) return spawn('taskset', ['-c', String(cpu), `${HERE}/cwaker`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return spawn(`${HERE}/cwaker`, args, { stdio: ['ignore', 'pipe', 'inherit'] });
}

export function output(child: ChildProcess): Promise<{ code: number | null; signal: string | null; out: string }> {
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out })));
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

export function summary(values: number[]): { n: number; p50: number; p99: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), min: s[0], max: s[s.length - 1] };
}

export const median = (v: number[]): number => quantile([...v].sort((a, b) => a - b), 0.5);

export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sleeps the thread (not the loop's business): for synchronous wakers. */
const sab = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sab, 0, 0, ms);
}

export const r2 = (x: number) => Math.round(x * 100) / 100;
