// Ratios and targets computed from one run's results (side by side, same placement).
import type { BenchResult } from '../patterns/common.js';
import type { CopyBaseline } from '../baselines.js';
import { fmtCount, fmtNs, fmtRate, fmtRatio, variantOf } from './format.js';

export const PIPE_SOCKETS = ['pipe', 'fifo', 'unix'];
/** Node's sockets between two processes: a Unix domain socket (node:net) and child_process stdio (a socketpair). */
export const NODE_SOCKETS = ['unix', 'stdio'];

export function find(results: BenchResult[], placement: string, pattern: string, variant: string, size: number): BenchResult | undefined {
  return results.find((r) => r.placement.kind === placement && r.pattern === pattern && variantOf(r) === variant && r.messageSize === size);
}

/** The fastest (throughput) or lowest-p50 (ping-pong) of pipe, fifo and unix (or of `among`) at this size. */
export function bestPipeSocket(results: BenchResult[], placement: string, pattern: string, size: number, among = PIPE_SOCKETS): BenchResult | undefined {
  const candidates = among.map((v) => find(results, placement, pattern, v, size)).filter((r): r is BenchResult => !!r);
  if (pattern === 'throughput') return candidates.sort((a, b) => (b.bytesPerSec ?? 0) - (a.bytesPerSec ?? 0))[0];
  return candidates.sort((a, b) => (a.rttNs?.p50 ?? Infinity) - (b.rttNs?.p50 ?? Infinity))[0];
}

export interface Target {
  name: string;
  placement: string;
  /** null: could not be evaluated (a transport or size was not measured). */
  met: boolean | null;
  measured: string;
  /** Why a missed target is missed, where the cause is known (shown under the targets). */
  why?: string;
}

/** Known causes of a missed target, by target name and placement: what bounds the figure. */
function whyMissed(name: string, placement: string): string | undefined {
  const sameCore = placement === 'same-core';
  switch (name) {
    case 'throughput 1 MiB: shm zero-copy >= 2x copy mode':
      return sameCore
        ? undefined
        : 'both modes write each message into the ring once (copy mode with send(), zero-copy while building it in place) and ' +
            "read it once on the consumer (a copy out, or reading it in place); zero-copy saves the consumer's writes, which on two " +
            "cores run in parallel with the producer, so the stream goes at the producer's pace either way. The saving shows where " +
            'both ends share a CPU (--pin same).';
    case 'ping-pong 64 B: shm futex p50 below the FIFO round trip':
      return (
        'with every message going through the kernel, both are one wake-up of the other process per message; the channel adds ' +
        'four koffi calls (~0.3 us each) per round trip' +
        (sameCore ? ', and on one core two context switches between two Node processes.' : '.')
      );
    case 'ping-pong 64 B: shm spin p50 >= 20x lower than stdio':
      return sameCore ? "pure spinning on a shared CPU waits for the scheduler's time slice; use hybrid (the default) or futex there." : undefined;
    case 'throughput 64 B: shm (copy) >= 5x stdio':
      return `at 64 B the figure is the per-message JavaScript cost of both ends (~60 ns each for send and receiveInto)${sameCore ? ', which one core adds up' : ''}.`;
    case 'throughput 1 MiB: shm (copy) >= 2x best of pipe/fifo/unix':
      return sameCore ? 'on one core every transport makes its two copies (in and out) one after the other; only zero-copy avoids them.' : undefined;
    case `ping-pong 64 B: shm spin p50 <= ${SPIN_BOUND}x the C ring's`:
      return sameCore
        ? "pure spinning on a shared CPU waits for the scheduler's time slice, in C as in JavaScript."
        : 'each JavaScript end pays per message what the C ring does not: the calls into the channel and its checks, Atomics ' +
            'calls that Node 20 does not inline, a clock read per round trip; js-bare (the least a JavaScript round trip costs) ' +
            'shows how much of that any JavaScript end pays.';
    case `ping-pong 64 B: shm futex p50 <= ${FUTEX_BOUND}x the C ring's`:
      return 'with every message going through the kernel, the channel adds its koffi calls (~0.3 us each, four per round trip) to the wake-ups.';
    case ASYNC_TARGETS.pingpongUnix:
    case ASYNC_TARGETS.pingpongIpc:
      return (
        "an async receive that finds the ring empty sleeps on its thread's doorbell socket: each message costs the " +
        "sender one send(2) of a token and the receiver one trip through its event loop (epoll, the socket's 'data', " +
        'the promise), on both ends of each round trip: the same kernel path as a Unix socket, plus the checks of the ring.'
      );
    case ASYNC_TARGETS.throughput1M:
      return (
        'the async consumer (for await, receiveAsync) hands out a new buffer per message: at 1 MiB the allocation (fresh ' +
        'pages, garbage collection) costs more than the copy and the wake-ups; compare shm copy-alloc with a blocking ' +
        'consumer, which pays the same allocation.'
      );
    case ASYNC_TARGETS.stream64:
      return (
        'whenever the ring is full (sendAsync) or empty (receiveAsync) the waiting end sleeps on its doorbell, and the ' +
        'next message moves only after a trip through its event loop.'
      );
    default:
      return undefined;
  }
}

/** The async channel against Node's own ways between two processes (the issue on event-loop-native waiting). */
export const ASYNC_TARGETS = {
  pingpongUnix: "ping-pong 64 B: shm async p50 <= the unix socket's",
  pingpongIpc: "ping-pong 64 B: shm async p50 below process.send's (ipc-advanced)",
  throughput1M: 'throughput 1 MiB: shm async >= 5x the best socket (unix, stdio)',
  stream64: "throughput 64 B: shm async >= 5x the unix socket's messages/s",
} as const;

/**
 * Copy mode against the same protocol in C, at 1 MiB: the share of C's rate the channel must reach. At that size
 * both make the same two memcpy calls per message, so what the JavaScript end adds per message is small.
 */
export const RING_SHARE = 0.75;
/** Ping-pong 64 B: the channel's p50 as a multiple of the C ring's, at most (spin, futex). */
export const SPIN_BOUND = 1.5;
export const FUTEX_BOUND = 1.3;

function pct(x: number): string {
  return `${(100 * x).toFixed(0)}%`;
}

function pctOf(a: number | undefined, b: number | undefined): string {
  return a && b ? pct(a / b) : '-';
}

export function evaluateTargets(results: BenchResult[], bufferCopy: CopyBaseline[]): Target[] {
  const targets: Target[] = [];
  const placements = [...new Set(results.map((r) => r.placement.kind))];
  const MiB = 2 ** 20;
  for (const pl of placements) {
    const tp = (v: string, size: number) => find(results, pl, 'throughput', v, size)?.bytesPerSec;
    const rtt = (v: string, size: number) => find(results, pl, 'pingpong', v, size)?.rttNs?.p50;
    const add = (name: string, value: number | undefined, goal: (x: number) => boolean, measured: (x: number) => string) =>
      targets.push({
        name,
        placement: pl,
        met: value === undefined || !Number.isFinite(value) ? null : goal(value),
        measured: value === undefined || !Number.isFinite(value) ? 'not measured' : measured(value),
      });

    const shm1 = tp('shm copy', MiB);
    const zero1 = tp('shm zero-copy', MiB);
    const stdio1 = tp('stdio', MiB);
    const best1 = bestPipeSocket(results, pl, 'throughput', MiB);
    add(
      'throughput 1 MiB: shm (copy) >= 4x stdio',
      shm1 && stdio1 ? shm1 / stdio1 : undefined,
      (x) => x >= 4,
      (x) => `${fmtRatio(x)} (${fmtRate(shm1)} vs ${fmtRate(stdio1)}; zero-copy ${zero1 && stdio1 ? fmtRatio(zero1 / stdio1) : '-'})`,
    );
    add(
      'throughput 1 MiB: shm (copy) >= 2x best of pipe/fifo/unix',
      shm1 && best1?.bytesPerSec ? shm1 / best1.bytesPerSec : undefined,
      (x) => x >= 2,
      (x) =>
        `${fmtRatio(x)} (${fmtRate(shm1)} vs ${best1?.transport} ${fmtRate(best1?.bytesPerSec)}; zero-copy ${zero1 && best1?.bytesPerSec ? fmtRatio(zero1 / best1.bytesPerSec) : '-'})`,
    );
    const shm64 = tp('shm copy', 64);
    const stdio64 = tp('stdio', 64);
    add(
      'throughput 64 B: shm (copy) >= 5x stdio',
      shm64 && stdio64 ? shm64 / stdio64 : undefined,
      (x) => x >= 5,
      (x) => `${fmtRatio(x)} (${fmtRate(shm64)} vs ${fmtRate(stdio64)})`,
    );
    const spin = rtt('shm spin', 64);
    const stdioRtt = rtt('stdio', 64);
    add(
      'ping-pong 64 B: shm spin p50 >= 20x lower than stdio',
      spin && stdioRtt ? stdioRtt / spin : undefined,
      (x) => x >= 20,
      (x) => `${fmtRatio(x)} lower (${fmtNs(spin)} vs ${fmtNs(stdioRtt)})`,
    );
    const futex = rtt('shm futex', 64);
    const fifo = rtt('fifo', 64);
    add(
      'ping-pong 64 B: shm futex p50 below the FIFO round trip',
      futex && fifo ? fifo / futex : undefined,
      (x) => x > 1,
      (x) => `${fmtNs(futex)} vs fifo ${fmtNs(fifo)} (${fmtRatio(x)} lower)`,
    );
    const ring1 = tp('c-ring copy', MiB);
    add(
      `throughput 1 MiB: shm copy mode >= ${pct(RING_SHARE)} of the C ring (copy)`,
      shm1 && ring1 ? shm1 / ring1 : undefined,
      (x) => x >= RING_SHARE,
      (x) => `${pct(x)} (${fmtRate(shm1)} vs c-ring ${fmtRate(ring1)}; zero-copy ${pctOf(zero1, tp('c-ring zero-copy', MiB))} of c-ring zero-copy)`,
    );
    add(
      'throughput 1 MiB: shm zero-copy >= 2x copy mode',
      zero1 && shm1 ? zero1 / shm1 : undefined,
      (x) => x >= 2,
      (x) => `${fmtRatio(x)} (${fmtRate(zero1)} vs ${fmtRate(shm1)})`,
    );
    for (const [wait, bound] of [
      ['spin', SPIN_BOUND],
      ['futex', FUTEX_BOUND],
    ] as const) {
      const js = rtt(`shm ${wait}`, 64);
      const c = rtt(`c-ring ${wait}`, 64);
      const floor = rtt(`c-bare ${wait}`, 64);
      add(
        `ping-pong 64 B: shm ${wait} p50 <= ${bound}x the C ring's`,
        js && c ? js / c : undefined,
        (x) => x <= bound,
        (x) => `${x.toFixed(2)}x (${fmtNs(js)} vs c-ring ${fmtNs(c)}${floor ? `; c-bare ${fmtNs(floor)}` : ''})`,
      );
    }
    const asyncRtt = rtt('shm async', 64);
    const unixRtt = rtt('unix', 64);
    const ipcRtt = rtt('ipc-advanced', 64);
    const jsonRtt = rtt('ipc-json', 64);
    add(
      ASYNC_TARGETS.pingpongUnix,
      asyncRtt && unixRtt ? asyncRtt / unixRtt : undefined,
      (x) => x <= 1,
      (x) => `${x.toFixed(2)}x (${fmtNs(asyncRtt)} vs unix ${fmtNs(unixRtt)})`,
    );
    add(
      ASYNC_TARGETS.pingpongIpc,
      asyncRtt && ipcRtt ? asyncRtt / ipcRtt : undefined,
      (x) => x < 1,
      (x) => `${x.toFixed(2)}x (${fmtNs(asyncRtt)} vs ipc-advanced ${fmtNs(ipcRtt)}${jsonRtt ? `, ipc-json ${fmtNs(jsonRtt)}` : ''})`,
    );
    const async1 = tp('shm async', MiB);
    const socket1 = bestPipeSocket(results, pl, 'throughput', MiB, NODE_SOCKETS);
    add(
      ASYNC_TARGETS.throughput1M,
      async1 && socket1?.bytesPerSec ? async1 / socket1.bytesPerSec : undefined,
      (x) => x >= 5,
      (x) => `${fmtRatio(x)} (${fmtRate(async1)} vs ${socket1?.transport} ${fmtRate(socket1?.bytesPerSec)})`,
    );
    const async64 = find(results, pl, 'throughput', 'shm async', 64)?.messagesPerSec;
    const unix64 = find(results, pl, 'throughput', 'unix', 64)?.messagesPerSec;
    add(
      ASYNC_TARGETS.stream64,
      async64 && unix64 ? async64 / unix64 : undefined,
      (x) => x >= 5,
      (x) => `${fmtRatio(x)} (${fmtCount(async64)} vs ${fmtCount(unix64)} messages)`,
    );
  }
  // The Buffer.copy baseline is shown in the tables, not a target: one copy in a warm cache is no anchor for two
  // processes making two copies; the C ring is.
  void bufferCopy;
  for (const t of targets) if (t.met === false) t.why = whyMissed(t.name, t.placement);
  return targets;
}
