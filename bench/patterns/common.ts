// Helpers shared by the patterns: statistics, count calibration, the result record.
import {
  hasModes,
  hasWaits,
  type Link,
  type Mode,
  type PatternName,
  type Placement,
  type SessionSpec,
  type TransportName,
  type WaitStrategy,
} from '../transports/types.js';

/** One line of the JSON report (field names are a contract: see docs/bench/README.md). */
export interface BenchResult {
  transport: TransportName;
  mode?: Mode;
  pattern: PatternName;
  wait?: WaitStrategy;
  messageSize: number;
  bytesPerSec?: number;
  messagesPerSec?: number;
  rttNs?: { p50: number; p99: number; mean: number };
  placement: Placement;
  /** Number of timed repetitions (after one verification and one warm-up repetition). */
  repeats: number;
  /** Per timed repetition: bytes/s (throughput) or p50 round trip in ns (ping-pong). */
  perRepeat: number[];
  /** Messages (throughput) or round trips (ping-pong) per timed repetition. */
  messagesPerRepeat: number;
  /** What the transport really was (fd kinds, API). */
  detail: string;
  /** shm and the C transports: futex system calls made by the driver's end per message, timed repetitions. */
  driverFutexCallsPerMessage?: number;
  /** JavaScript transports: the Node version that ran both ends. */
  node?: string;
  /** C transports: the compiler and flags. */
  compiler?: string;
  /** With --rounds N > 1: how many rounds this figure is the median over, and each round's figure. */
  rounds?: number;
  perRound?: number[];
}

export function median(values: ArrayLike<number>): number {
  const s = Array.from(values).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(n)));
}

/**
 * The result record of one size: the session's identity (mode and wait where the transport has them), what the
 * transport really was, the Node version, and the driver's futex calls per message over the timed repetitions when
 * it counts them.
 */
export function resultRecord(
  spec: SessionSpec,
  link: Link,
  size: number,
  figures: Pick<BenchResult, 'bytesPerSec' | 'messagesPerSec' | 'rttNs' | 'perRepeat' | 'messagesPerRepeat'>,
  futex: { before: number; messages: number },
): BenchResult {
  return {
    ...identity(spec),
    messageSize: size,
    ...figures,
    placement: spec.placement,
    repeats: figures.perRepeat.length,
    detail: link.detail,
    ...(link.futexCalls ? { driverFutexCallsPerMessage: (link.futexCalls() - futex.before) / futex.messages } : {}),
    node: process.version,
  };
}

/** transport, mode (if the transport has several), pattern, wait (if it has any). */
export function identity(spec: SessionSpec): Pick<BenchResult, 'transport' | 'mode' | 'pattern' | 'wait'> {
  return {
    transport: spec.transport,
    ...(hasModes(spec.transport) ? { mode: spec.mode } : {}),
    pattern: spec.pattern,
    ...(hasWaits(spec.transport) ? { wait: spec.wait } : {}),
  };
}
