// The sweep: which sessions to run (transport x mode x wait x pattern), running each as a driver process
// (bench/session.ts) pinned as asked, collecting results, baselines and host facts. Used by bench/run.ts and
// by the tests.
import { spawn, execFileSync } from 'node:child_process';
import { cpus, release, loadavg, arch, totalmem } from 'node:os';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, sessionCommand } from './session.js';
import { measureBufferCopy, type CopyBaseline } from './baselines.js';
import { measureCallCosts, type CallCost } from './call-costs.js';
import type { BenchResult } from './patterns/common.js';
import { MIN_MESSAGE } from './patterns/payload.js';
import type { Mode, PatternName, Placement, SessionSpec, TransportName, WaitStrategy } from './transports/types.js';

export type PinMode = 'none' | 'same' | 'cross';

export interface SweepOptions {
  transports: TransportName[];
  patterns: PatternName[];
  throughputSizes: number[];
  pingpongSizes: number[];
  /** shm modes for throughput (ping-pong always uses copy mode). */
  modes: Mode[];
  /** Wait strategies for shm and worker ping-pong. */
  waits: WaitStrategy[];
  /** Wait strategy of shm and worker throughput (default 'hybrid', the channel's default). */
  throughputWait?: WaitStrategy;
  repeat: number;
  repSeconds: number;
  pin: PinMode[];
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

export interface SweepOutput {
  host: Host;
  options: { transports: TransportName[]; patterns: PatternName[]; throughputSizes: number[]; pingpongSizes: number[]; repeat: number; repSeconds: number; pin: PinMode[]; throughputWait: WaitStrategy; verification: string };
  results: BenchResult[];
  baselines: { bufferCopy: CopyBaseline[]; callCosts: CallCost[] };
  errors: SweepError[];
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

export function planSessions(options: SweepOptions, dir: string): SessionPlan[] {
  const plans: SessionPlan[] = [];
  for (const pin of options.pin) {
    for (const pattern of options.patterns) {
      const sizes = pattern === 'throughput' ? options.throughputSizes : options.pingpongSizes;
      if (sizes.length === 0) continue;
      for (const transport of options.transports) {
        const variants: Array<{ mode: Mode; wait: WaitStrategy }> = [];
        if (transport === 'shm' && pattern === 'throughput') for (const mode of options.modes) variants.push({ mode, wait: options.throughputWait ?? 'hybrid' });
        else if ((transport === 'shm' || transport === 'worker') && pattern === 'pingpong') for (const wait of options.waits) variants.push({ mode: 'copy', wait });
        else variants.push({ mode: 'copy', wait: options.throughputWait ?? 'hybrid' });
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
          const what = [transport, transport === 'shm' && pattern === 'throughput' ? mode : '', pattern === 'pingpong' && (transport === 'shm' || transport === 'worker') ? wait : ''].filter(Boolean).join(' ');
          plans.push({ spec, label: `${what} ${pattern} (${spec.placement.kind})` });
        }
      }
    }
  }
  return plans;
}

/** Runs one session in a driver process; resolves with its results, or an error description. */
export function runSession(spec: SessionSpec, onResult: (r: BenchResult) => void, timeoutMs: number): Promise<{ error?: { name: string; message: string } }> {
  const driverCpu = spec.placement.cpus && spec.placement.tool === 'taskset' ? spec.placement.cpus[0] : null;
  const [cmd, args] = sessionCommand('--driver', spec, driverCpu);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let error: { name: string; message: string } | undefined;
  let done = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: { type: string; result?: BenchResult; name?: string; message?: string };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.type === 'result' && event.result) onResult(event.result);
    else if (event.type === 'error') error = { name: event.name ?? 'Error', message: event.message ?? 'unknown error' };
    else if (event.type === 'done') done = true;
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      error ??= { name: 'Timeout', message: `the session took longer than ${Math.round(timeoutMs / 1000)} s and was killed` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!error && !done) {
        const last = stderr.trim().split('\n').slice(-6).join('\n');
        error = { name: 'Crash', message: `driver exited with ${signal ?? code}${last ? `: ${last}` : ''}` };
      }
      resolve(error ? { error } : {});
    });
  });
}

export async function runSweep(options: SweepOptions): Promise<SweepOutput> {
  const started = performance.now();
  for (const s of [...options.throughputSizes, ...options.pingpongSizes]) {
    if (!Number.isInteger(s) || s < MIN_MESSAGE) throw new RangeError(`message sizes must be integers >= ${MIN_MESSAGE} bytes, got ${s}`);
  }
  const host = hostInfo();
  if (!host.tasksetAvailable && options.pin.some((p) => p !== 'none')) throw new Error('--pin needs taskset (util-linux): apt-get install util-linux, or use --pin none');
  if (options.pin.includes('cross') && host.cpus < 2) throw new Error('--pin cross needs two CPUs');
  const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-bench-'));
  const results: BenchResult[] = [];
  const errors: SweepError[] = [];
  const plans = planSessions(options, dir);
  const total = plans.reduce((n, p) => n + p.spec.sizes.length, 0) + (options.baselines ? 1 : 0);
  let done = 0;
  try {
    for (const plan of plans) {
      const { spec } = plan;
      options.onProgress?.({ done, total, label: plan.label });
      let got = 0;
      const outcome = await runSession(
        spec,
        (r) => {
          results.push(r);
          got++;
          done++;
          options.onProgress?.({ done, total, label: plan.label });
        },
        options.sessionTimeoutMs ?? 180_000,
      );
      if (outcome.error) {
        errors.push({
          transport: spec.transport,
          pattern: spec.pattern,
          ...(spec.transport === 'shm' ? { mode: spec.mode } : {}),
          ...(spec.transport === 'shm' || spec.transport === 'worker' ? { wait: spec.wait } : {}),
          placement: spec.placement,
          ...outcome.error,
        });
        done += spec.sizes.length - got;
        options.onProgress?.({ done, total, label: plan.label });
      }
    }
    const bufferCopy: CopyBaseline[] = [];
    let callCosts: CallCost[] = [];
    if (options.baselines) {
      options.onProgress?.({ done, total, label: 'baselines: Buffer.copy, call costs' });
      for (const size of options.throughputSizes) bufferCopy.push({ messageSize: size, bytesPerSec: measureBufferCopy(size, Math.min(0.02, options.repSeconds / 2)) });
      callCosts = measureCallCosts(options.callCostScale);
      done++;
      options.onProgress?.({ done, total, label: 'done' });
    }
    return {
      host,
      options: {
        transports: options.transports,
        patterns: options.patterns,
        throughputSizes: options.throughputSizes,
        pingpongSizes: options.pingpongSizes,
        repeat: options.repeat,
        repSeconds: options.repSeconds,
        pin: options.pin,
        throughputWait: options.throughputWait ?? 'hybrid',
        verification:
          'every message: sequence number, length and three stamps checked by the receiver; first repetition of every size: every byte checksummed on both sides',
      },
      results,
      baselines: { bufferCopy, callCosts },
      errors,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
