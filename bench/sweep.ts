// The sweep: which sessions to run (transport x mode x wait x pattern, as far as each transport has them), running
// each as a driver process (bench/session.ts) pinned as asked, in rounds that alternate the sessions, collecting
// results, baselines and host facts. Compiles the C transports first. Used by bench/run.ts,
// bench/node-versions.ts and the tests.
import { execFileSync } from 'node:child_process';
import { cpus, release, loadavg, arch, totalmem } from 'node:os';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionCommand } from './session.js';
import { runEventProcess, type ProcessError } from './child-events.js';
import { measureBufferCopy, type CopyBaseline } from './baselines.js';
import { measureCallCosts, type CallCost } from './call-costs.js';
import { median, type BenchResult } from './patterns/common.js';
import { MIN_MESSAGE } from './patterns/payload.js';
import {
  CAPABILITIES,
  hasModes,
  hasWaits,
  type Mode,
  type PatternName,
  type Placement,
  type SessionSpec,
  type TransportName,
  type WaitStrategy,
} from './transports/types.js';
import { compileNative, type NativeProgram } from './transports/native.js';
import { CHANNEL_DEFAULT_SPIN } from '../lib/internal.js';

export type PinMode = 'none' | 'same' | 'cross';

export interface SweepOptions {
  transports: TransportName[];
  patterns: PatternName[];
  throughputSizes: number[];
  pingpongSizes: number[];
  /** Throughput modes, for the transports that have them (ping-pong always uses copy mode). */
  modes: Mode[];
  /**
   * Ping-pong wait strategies, for the transports that have them (shm, c-ring, worker, c-bare, js-bare); 'async'
   * (shm) also adds an async throughput session.
   */
  waits: WaitStrategy[];
  /** Wait strategy of throughput for the transports that wait (default 'hybrid', the channel's default; not async). */
  throughputWait?: WaitStrategy;
  repeat: number;
  repSeconds: number;
  /** Run every session this many times, the sessions alternating; each figure is the median over the rounds. */
  rounds?: number;
  pin: PinMode[];
  /** The Node binary that runs the JavaScript ends (default: this one). */
  node?: string;
  /** The preset the options came from (bench/run.ts), for the record. */
  preset?: string;
  /** Include the Buffer.copy baseline and the call costs. */
  baselines: boolean;
  callCostScale: number;
  /** Test only: make the peer flip a byte of this message. */
  corrupt?: { message: number };
  sessionTimeoutMs?: number;
  onProgress?: (event: { done: number; total: number; label: string }) => void;
}

export interface Host {
  cpuModel: string;
  cpus: number;
  kernel: string;
  node: string;
  arch: string;
  memoryBytes: number;
  hypervisor: string | null;
  allowedCpus: string;
  loadavg: number[];
  tasksetAvailable: boolean;
  date: string;
}

export interface SweepError {
  transport: TransportName;
  pattern: PatternName;
  mode?: Mode;
  wait?: WaitStrategy;
  placement: Placement;
  name: string;
  message: string;
}

/** A transport that was asked for but could not run (no gcc for the C transports), or not at every size (maxSize). */
export interface Skipped {
  transport: TransportName;
  reason: string;
}

export interface SweepOutput {
  host: Host;
  options: {
    preset: string | null;
    transports: TransportName[];
    patterns: PatternName[];
    throughputSizes: number[];
    pingpongSizes: number[];
    repeat: number;
    repSeconds: number;
    rounds: number;
    pin: PinMode[];
    throughputWait: WaitStrategy;
    /** The Node version that ran the JavaScript ends (host.node runs the runner). */
    node: string;
    /** The compiler of the C transports, when they ran. */
    compiler: string | null;
    verification: string;
  };
  results: BenchResult[];
  baselines: { bufferCopy: CopyBaseline[]; callCosts: CallCost[] };
  errors: SweepError[];
  skipped: Skipped[];
  seconds: number;
}

export function tasksetAvailable(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function hostInfo(): Host {
  let hypervisor: string | null = null;
  let allowed = '?';
  try {
    hypervisor = /^hypervisor\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'yes (CPU flag)' : null;
    allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?';
  } catch {
    // no /proc
  }
  try {
    const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
    hypervisor = /Hypervisor vendor:\s*(.+)/.exec(lscpu)?.[1].trim() ?? hypervisor;
  } catch {
    // no lscpu
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    kernel: release(),
    node: process.version,
    arch: arch(),
    memoryBytes: totalmem(),
    hypervisor,
    allowedCpus: allowed,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    tasksetAvailable: tasksetAvailable(),
    date: new Date().toISOString(),
  };
}

/** The version of a Node binary (`node --version`). */
export function nodeVersion(binary: string): string {
  if (binary === process.execPath) return process.version;
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
}

export function placementFor(pin: PinMode, transport: TransportName): Placement {
  const tool = transport === 'worker' ? 'sched_setaffinity' : 'taskset';
  if (pin === 'same') return { kind: 'same-core', cpus: [0, 0], tool };
  if (pin === 'cross') return { kind: 'cross-core', cpus: [0, 1], tool };
  return { kind: 'unpinned', cpus: null, tool: null };
}

export interface SessionPlan {
  spec: SessionSpec;
  label: string;
}

/** The sessions of one round: every transport x pattern x mode or wait it has, at every placement. */
export function planSessions(options: SweepOptions, dir: string): SessionPlan[] {
  const plans: SessionPlan[] = [];
  const throughputWait = options.throughputWait ?? 'hybrid';
  for (const pin of options.pin) {
    for (const pattern of options.patterns) {
      const all = pattern === 'throughput' ? options.throughputSizes : options.pingpongSizes;
      for (const transport of options.transports) {
        const can = CAPABILITIES[transport];
        if (!can.patterns.includes(pattern)) continue;
        const sizes = all.filter((s) => s <= (can.maxSize ?? Infinity));
        if (sizes.length === 0) continue;
        const variants: Array<{ mode: Mode; wait: WaitStrategy }> = [];
        // The async wait (shm) has one API, whatever the mode: sendAsync, and receiveAsync or for await, which hand
        // out a new buffer per message (copy-alloc). It runs in both patterns when --waits has it.
        const async = can.waits?.includes('async') && options.waits.includes('async');
        if (pattern === 'throughput') {
          const wait = can.waits?.includes(throughputWait) ? throughputWait : (can.waits?.[0] ?? 'hybrid');
          for (const mode of can.modes.length > 1 ? options.modes.filter((m) => can.modes.includes(m)) : ['copy' as const]) variants.push({ mode, wait });
          if (async) variants.push({ mode: 'copy-alloc', wait: 'async' });
        } else {
          for (const wait of can.waits ? options.waits.filter((w) => can.waits!.includes(w)) : ['hybrid' as const])
            variants.push({ mode: wait === 'async' ? 'copy-alloc' : 'copy', wait });
        }
        for (const { mode, wait } of variants) {
          const spec: SessionSpec = {
            transport,
            mode,
            pattern,
            wait,
            sizes,
            repeat: options.repeat,
            repSeconds: options.repSeconds,
            placement: placementFor(pin, transport),
            tmpdir: dir,
            ...(options.corrupt ? { corrupt: options.corrupt } : {}),
          };
          const what = [
            transport,
            pattern === 'throughput' && hasModes(transport) && wait !== 'async' ? mode : '',
            (pattern === 'pingpong' && hasWaits(transport)) || wait === 'async' ? wait : '',
          ]
            .filter(Boolean)
            .join(' ');
          plans.push({ spec, label: `${what} ${pattern} (${spec.placement.kind})` });
        }
      }
    }
  }
  return plans;
}

/**
 * One figure from the same session's figures of several rounds: bytes/s the median of every timed repetition of
 * every round; a round trip's p50 the median of every repetition's p50, its p99 and mean the median of the
 * rounds' figures.
 */
export function mergeRounds(figures: BenchResult[]): BenchResult {
  if (figures.length === 1) return figures[0];
  const first = figures[0];
  const perRepeat = figures.flatMap((r) => r.perRepeat);
  const merged: BenchResult = { ...first, repeats: perRepeat.length, perRepeat, rounds: figures.length };
  if (first.bytesPerSec !== undefined) {
    merged.bytesPerSec = median(perRepeat);
    merged.messagesPerSec = merged.bytesPerSec / first.messageSize;
    merged.perRound = figures.map((r) => r.bytesPerSec!);
  }
  if (first.rttNs) {
    merged.rttNs = { p50: median(perRepeat), p99: median(figures.map((r) => r.rttNs!.p99)), mean: median(figures.map((r) => r.rttNs!.mean)) };
    merged.perRound = figures.map((r) => r.rttNs!.p50);
  }
  if (first.driverFutexCallsPerMessage !== undefined) merged.driverFutexCallsPerMessage = median(figures.map((r) => r.driverFutexCallsPerMessage!));
  merged.messagesPerRepeat = median(figures.map((r) => r.messagesPerRepeat));
  return merged;
}

/** Runs one session in a driver process; resolves with its results, or an error description. */
export function runSession(
  spec: SessionSpec,
  onResult: (r: BenchResult) => void,
  timeoutMs: number,
  node = process.execPath,
): Promise<{ error?: ProcessError }> {
  const driverCpu = spec.placement.cpus && spec.placement.tool === 'taskset' ? spec.placement.cpus[0] : null;
  const [cmd, args] = sessionCommand('--driver', spec, driverCpu, node);
  return runEventProcess<{ type: string; result?: BenchResult; name?: string; message?: string }>(cmd, args, {
    onEvent: (event) => {
      if (event.type === 'result' && event.result) onResult(event.result);
    },
    timeoutMs,
    what: 'the session',
    who: 'driver',
    stderrLines: 6,
  });
}

export async function runSweep(options: SweepOptions): Promise<SweepOutput> {
  const started = performance.now();
  for (const s of [...options.throughputSizes, ...options.pingpongSizes]) {
    if (!Number.isInteger(s) || s < MIN_MESSAGE) throw new RangeError(`message sizes must be integers >= ${MIN_MESSAGE} bytes, got ${s}`);
  }
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be an integer >= 1, got ${rounds}`);
  const host = hostInfo();
  if (!host.tasksetAvailable && options.pin.some((p) => p !== 'none'))
    throw new Error('--pin needs taskset (util-linux): apt-get install util-linux, or use --pin none');
  if (options.pin.includes('cross') && host.cpus < 2) throw new Error('--pin cross needs two CPUs');
  const node = options.node ?? process.execPath;
  const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-bench-'));
  const errors: SweepError[] = [];
  const skipped: Skipped[] = [];
  try {
    let plans = planSessions(options, dir);
    // The transports that stop at a size (maxSize) say which sizes they left out.
    for (const t of options.transports) {
      const max = CAPABILITIES[t].maxSize;
      const above = [...new Set([...options.throughputSizes, ...options.pingpongSizes])].filter((s) => max !== undefined && s > max).sort((a, b) => a - b);
      if (above.length && max !== undefined)
        skipped.push({ transport: t, reason: `runs messages up to ${max} bytes (larger ones take seconds each): ${above.join(', ')} bytes not measured` });
    }
    // The C transports: compiled once for the sweep; without gcc they are skipped (and said so).
    const programs = [...new Set(plans.map((p) => CAPABILITIES[p.spec.transport].native).filter((p): p is NativeProgram => !!p))];
    let compiler: string | null = null;
    if (programs.length) {
      const built = compileNative(dir, programs);
      if ('problem' in built) {
        for (const t of new Set(plans.map((p) => p.spec.transport).filter((t) => CAPABILITIES[t].native)))
          skipped.push({ transport: t, reason: built.problem });
        plans = plans.filter((p) => !CAPABILITIES[p.spec.transport].native);
      } else {
        compiler = built.compiler;
        for (const p of plans) {
          const program = CAPABILITIES[p.spec.transport].native;
          if (!program) continue;
          p.spec.native = { exe: built.exe[program]!, compiler: built.compiler };
          // What `hybrid` means: the channel's default spin, passed on so that the C ring waits like the channel.
          if (p.spec.transport === 'c-ring') p.spec.defaultSpin = CHANNEL_DEFAULT_SPIN;
        }
      }
    }
    const figures: BenchResult[][][] = plans.map((p) => p.spec.sizes.map(() => []));
    const failed = new Set<number>();
    const total = rounds * plans.reduce((n, p) => n + p.spec.sizes.length, 0) + (options.baselines ? 1 : 0);
    let done = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [index, plan] of plans.entries()) {
        const { spec } = plan;
        const label = rounds > 1 ? `${plan.label}, round ${round + 1}/${rounds}` : plan.label;
        if (failed.has(index)) {
          done += spec.sizes.length;
          continue;
        }
        options.onProgress?.({ done, total, label });
        let got = 0;
        const outcome = await runSession(
          spec,
          (r) => {
            const at = spec.sizes.indexOf(r.messageSize);
            if (at >= 0) figures[index][at].push(r);
            got++;
            done++;
            options.onProgress?.({ done, total, label });
          },
          options.sessionTimeoutMs ?? 180_000,
          node,
        );
        if (outcome.error) {
          failed.add(index);
          errors.push({
            transport: spec.transport,
            pattern: spec.pattern,
            ...(hasModes(spec.transport) ? { mode: spec.mode } : {}),
            ...(hasWaits(spec.transport) ? { wait: spec.wait } : {}),
            placement: spec.placement,
            ...outcome.error,
          });
          done += spec.sizes.length - got;
          options.onProgress?.({ done, total, label });
        }
      }
    }
    // A session that failed in any round reports nothing: its other rounds would not be side by side.
    const results = figures.flatMap((perSize, index) => (failed.has(index) ? [] : perSize.filter((f) => f.length > 0).map(mergeRounds)));
    const bufferCopy: CopyBaseline[] = [];
    let callCosts: CallCost[] = [];
    if (options.baselines) {
      options.onProgress?.({ done, total, label: 'baselines: Buffer.copy, call costs' });
      for (const size of options.throughputSizes)
        bufferCopy.push({ messageSize: size, bytesPerSec: measureBufferCopy(size, Math.min(0.02, options.repSeconds / 2)) });
      callCosts = measureCallCosts(options.callCostScale);
      done++;
      options.onProgress?.({ done, total, label: 'done' });
    }
    return {
      host,
      options: {
        preset: options.preset ?? null,
        transports: options.transports,
        patterns: options.patterns,
        throughputSizes: options.throughputSizes,
        pingpongSizes: options.pingpongSizes,
        repeat: options.repeat,
        repSeconds: options.repSeconds,
        rounds,
        pin: options.pin,
        throughputWait: options.throughputWait ?? 'hybrid',
        node: nodeVersion(node),
        compiler,
        verification:
          'every message: sequence number, length and three stamps checked by the receiver; zero-copy: every byte compared in place with what the producer wrote; first repetition of every size: every byte checksummed on both sides',
      },
      results,
      baselines: { bufferCopy, callCosts },
      errors,
      skipped,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
