// Names and units for the reports.
import type { BenchResult } from '../patterns/common.js';
import { hasModes, hasWaits } from '../transports/types.js';

/**
 * The row a result belongs to: the transport, with its mode in throughput ('shm copy', 'c-ring zero-copy') and
 * its wait in ping-pong ('shm spin', 'worker futex') where it has them; 'shm async' in both patterns (its one API);
 * 'stdio', 'worker' (throughput), ...
 */
export function variantOf(r: Pick<BenchResult, 'transport' | 'mode' | 'pattern' | 'wait'>): string {
  if (r.wait === 'async') return `${r.transport} async`;
  if (r.pattern === 'throughput') return hasModes(r.transport) ? `${r.transport} ${r.mode ?? 'copy'}` : r.transport;
  return hasWaits(r.transport) ? `${r.transport} ${r.wait ?? 'hybrid'}` : r.transport;
}

/** The C ring variant a figure is compared with: the same mode (copy-alloc: copy) or the same wait. */
export function cRingPeer(r: Pick<BenchResult, 'transport' | 'mode' | 'pattern' | 'wait'>): string {
  if (r.pattern === 'throughput') return `c-ring ${r.mode === 'zero-copy' ? 'zero-copy' : 'copy'}`;
  return `c-ring ${r.wait ?? 'hybrid'}`;
}

export const VARIANT_ORDER = [
  'shm copy',
  'shm copy-alloc',
  'c-ring copy',
  'shm zero-copy',
  'c-ring zero-copy',
  'shm spin',
  'c-ring spin',
  'shm hybrid',
  'c-ring hybrid',
  'shm futex',
  'c-ring futex',
  'shm async',
  'c-bare spin',
  'js-bare spin',
  'c-bare hybrid',
  'c-bare futex',
  'worker',
  'worker spin',
  'worker hybrid',
  'worker futex',
  'pipe',
  'fifo',
  'unix',
  'stdio',
  'ipc-advanced',
  'ipc-json',
];

export function sortVariants(names: Iterable<string>): string[] {
  const rank = (v: string) => {
    const i = VARIANT_ORDER.indexOf(v);
    return i < 0 ? 999 : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function fmtSize(bytes: number): string {
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** Bytes per second in decimal units (GB/s = 10^9 bytes/s). */
export function fmtRate(bytesPerSec: number | undefined): string {
  if (bytesPerSec === undefined || !Number.isFinite(bytesPerSec)) return '-';
  if (bytesPerSec >= 1e9) return `${(bytesPerSec / 1e9).toFixed(bytesPerSec >= 1e10 ? 1 : 2)} GB/s`;
  if (bytesPerSec >= 1e6) return `${(bytesPerSec / 1e6).toFixed(bytesPerSec >= 1e8 ? 0 : 1)} MB/s`;
  return `${(bytesPerSec / 1e3).toFixed(1)} kB/s`;
}

export function fmtCount(perSec: number | undefined): string {
  if (perSec === undefined || !Number.isFinite(perSec)) return '-';
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(0)} /s`;
}

export function fmtNs(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return '-';
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : 1)} µs`;
  return `${Math.round(ns)} ns`;
}

export function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(1)}x`;
}

export function placementText(p: BenchResult['placement']): string {
  if (p.kind === 'unpinned') return 'unpinned (the scheduler places both ends)';
  return `${p.kind}: driver on CPU ${p.cpus![0]}, peer on CPU ${p.cpus![1]} (${p.tool})`;
}

/** Plain-text table with right-aligned numbers. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
