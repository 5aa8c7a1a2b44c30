// The C transports: c-ring (bench/c/ring.c, the channel's ring protocol) and c-bare (bench/c/pingpong.c, the
// latency floor). Both programs include bench/c/harness.h, the patterns and checks of bench/patterns/ in C, so a
// C session is measured like a JavaScript one. They are compiled with gcc when a sweep starts (compileNative) and
// run here, from the session's driver process (bench/session.ts): for each message size a C driver and a C peer,
// pinned with taskset like the JavaScript ends, connected through their JSON lines (see harness.h).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { capacityFor } from './capacity.js';
import { CAPABILITIES, type SessionSpec } from './types.js';
import { identity, median, type BenchResult } from '../patterns/common.js';
import { IntegrityError } from '../patterns/payload.js';

export type NativeProgram = 'ring' | 'pingpong';

export const C_FLAGS = ['-O2', '-Wall'];

/** The C sources of each program beside its own (ring.c wakes its peer through doorbell.c), and what it links with. */
const EXTRA: Record<NativeProgram, { sources: string[]; link: string[] }> = {
  ring: { sources: ['doorbell'], link: ['-pthread'] },
  pingpong: { sources: [], link: [] },
};

/** The path of bench/c/<name>.c. */
export function nativeSource(name: string): string {
  return fileURLToPath(new URL(`../c/${name}.c`, import.meta.url));
}

/**
 * Compiles the programs into `dir` with gcc. Returns each program's executable and the compiler line, or why
 * they cannot be built (no gcc, or a compile error).
 */
export function compileNative(dir: string, programs: NativeProgram[]): { exe: Partial<Record<NativeProgram, string>>; compiler: string } | { problem: string } {
  const version = spawnSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return { problem: 'gcc is not installed (apt-get install gcc): the C transports need it at bench time' };
  const exe: Partial<Record<NativeProgram, string>> = {};
  for (const program of programs) {
    const out = join(dir, program);
    const sources = [program, ...EXTRA[program].sources].map(nativeSource);
    const cc = spawnSync('gcc', [...C_FLAGS, '-o', out, ...sources, ...EXTRA[program].link], { encoding: 'utf8' });
    if (cc.status !== 0) return { problem: `gcc could not compile bench/c/${program}.c: ${(cc.stderr || cc.error?.message || '').trim().slice(0, 2000)}` };
    exe[program] = out;
  }
  return { exe, compiler: `gcc ${version.stdout.trim()} ${C_FLAGS.join(' ')}` };
}

interface Line {
  type: string;
  [key: string]: unknown;
}

/** One C process: its JSON lines in order, and a promise that settles when it fails or exits. */
class Endpoint {
  readonly #lines: Line[] = [];
  #waiter: ((line: Line | null) => void) | null = null;
  #closed = false;
  readonly exited: Promise<number | null>;
  constructor(
    readonly child: ChildProcess,
    readonly role: string,
  ) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        line = { type: 'error', name: 'Error', message: `${role} printed something that is not JSON: ${text.slice(0, 200)}` };
      }
      const w = this.#waiter;
      this.#waiter = null;
      if (w) w(line);
      else this.#lines.push(line);
    });
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.#closed = true;
        const w = this.#waiter;
        this.#waiter = null;
        w?.(null);
        resolve(signal ? null : code);
      }),
    );
  }

  /** The next line; an error line or the end of the process is an exception. */
  async next(expected: string): Promise<Line> {
    const line = this.#lines.shift() ?? (this.#closed ? null : await new Promise<Line | null>((resolve) => (this.#waiter = resolve)));
    if (line === null) throw new Error(`the C ${this.role} exited (${this.child.exitCode ?? this.child.signalCode}) before its ${expected} line`);
    if (line.type === 'error') throw failure(line, this.role);
    if (line.type !== expected) throw new Error(`the C ${this.role} sent a ${line.type} line, expected ${expected}`);
    return line;
  }

  /** Settles with the error of a process that fails (an error line, or an exit status other than 0); never for a clean exit. */
  failed(): Promise<Error> {
    return this.exited.then((code) => {
      const line = this.#lines.find((l) => l.type === 'error');
      if (line) return failure(line, this.role);
      if (code === 0) return new Promise<Error>(() => {});
      return new Error(`the C ${this.role} exited with ${code ?? this.child.signalCode ?? 'a signal'}`);
    });
  }
}

function failure(line: Line, role: string): Error {
  const message = `${String(line.message)} (C ${role})`;
  const error = line.name === 'IntegrityError' ? new IntegrityError(message) : new Error(message);
  if (line.name !== 'IntegrityError') error.name = String(line.name ?? 'Error');
  return error;
}

function start(exe: string, args: string[], cpu: number | null, role: string): Endpoint {
  const [cmd, argv] = cpu === null ? [exe, args] : ['taskset', ['-c', String(cpu), exe, ...args]];
  return new Endpoint(spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] }), role);
}

/** Runs one C session (every size of `spec`), emitting one result per size. */
export async function runNativeSession(spec: SessionSpec, emit: (r: BenchResult) => void): Promise<void> {
  const program = CAPABILITIES[spec.transport].native;
  if (!program || !spec.native) throw new Error(`${spec.transport}: no compiled C program was given to the session`);
  if (!CAPABILITIES[spec.transport].patterns.includes(spec.pattern)) throw new Error(`${spec.transport} has no ${spec.pattern} pattern`);
  const cpus = spec.placement.cpus;
  for (const [index, size] of spec.sizes.entries()) {
    const settings = [spec.pattern, spec.mode, spec.wait, String(size), String(spec.repeat), String(spec.repSeconds)];
    const options = [`capacity=${capacityFor(size)}`, ...(spec.defaultSpin !== undefined ? [`spin=${spec.defaultSpin}`] : [])];
    const driver = start(spec.native.exe, ['drive', ...settings, ...options], cpus ? cpus[0] : null, 'driver');
    let peer: Endpoint | undefined;
    try {
      const driverReady = await driver.next('ready');
      const corrupt = spec.corrupt && index === 0 ? [`corrupt=${spec.corrupt.message}`] : [];
      peer = start(spec.native.exe, ['serve', String(driverReady.id), ...settings, ...options, ...corrupt], cpus ? cpus[1] : null, 'peer');
      const peerReady = await Promise.race([peer.next('ready'), driver.failed().then((e) => Promise.reject(e))]);
      if (program === 'ring') driver.child.stdin!.write(`${peerReady.id}\n`);
      const result = await Promise.race([driver.next('result'), peer.failed().then((e) => Promise.reject(e))]);
      emit(toResult(spec, size, result, String(driverReady.cpus), String(peerReady.cpus), program));
      await Promise.race([Promise.all([driver.exited, peer.exited]), new Promise((r) => setTimeout(r, 5000))]);
    } finally {
      for (const end of [driver, peer]) if (end && end.child.exitCode === null && end.child.signalCode === null) end.child.kill('SIGKILL');
    }
  }
}

const WHAT: Record<NativeProgram, string> = {
  ring: "bench/c/ring.c: the channel's ring protocol in C",
  pingpong: 'bench/c/pingpong.c: a sequence word and a payload slot per direction',
};

function toResult(spec: SessionSpec, size: number, line: Line, driverCpus: string, peerCpus: string, program: NativeProgram): BenchResult {
  const numbers = (key: string) => line[key] as number[];
  const copies = spec.mode === 'zero-copy' ? 'written and read in place (memcpy, memcmp)' : 'memcpy in, memcpy out';
  const base = {
    ...identity(spec),
    messageSize: size,
    placement: spec.placement,
    messagesPerRepeat: line.messagesPerRepeat as number,
    detail: `${WHAT[program]}, ${copies}; driver on CPUs ${driverCpus}, peer on CPUs ${peerCpus} (sched_getaffinity)`,
    driverFutexCallsPerMessage: (line.futexCalls as number) / (line.timedMessages as number),
    compiler: spec.native!.compiler,
  };
  if (spec.pattern === 'throughput') {
    const perRepeat = numbers('perRepeat');
    const bytesPerSec = median(perRepeat);
    return { ...base, bytesPerSec, messagesPerSec: bytesPerSec / size, repeats: perRepeat.length, perRepeat };
  }
  const p50s = numbers('p50s');
  return { ...base, rttNs: { p50: median(p50s), p99: median(numbers('p99s')), mean: median(numbers('means')) }, repeats: p50s.length, perRepeat: p50s };
}
