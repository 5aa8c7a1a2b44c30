// Quick channel measurements for tuning (`npx tsx bench/channel-quick.ts [--quick] [--pin same|cross|none]`,
// default cross-core on a machine with two CPUs or more): two processes, throughput
// at 64 B and 1 MiB (copy and zero-copy), 64-byte ping-pong with spinning and with futex sleeps, a C reference
// ping-pong (bench/c/pingpong.c, compiled with gcc at run time), and baselines (in-process Buffer.copy, child
// process stdio). Medians over several repetitions; compare numbers within one run only (the machine is noisy).
//
// Every measurement is an exported function so that the full benchmark runner can reuse it. The same file is
// the child process: `channel-quick.ts --child <json>`.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Channel } from '../lib/sync/channel.js';
import { shmget } from '../lib/c/shmget.js';
import { shmat, shmdt } from '../lib/c/shmat.js';
import { shmctl } from '../lib/c/shmctl.js';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID } from '../lib/c/constants.js';
import { futexCallCounts } from '../lib/sync/futex.js';
import { pinThisThread } from './transports/affinity.js';
import { measureBufferCopy } from './baselines.js';
import { median, percentile } from './patterns/common.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const C_SOURCE = fileURLToPath(new URL('./c/pingpong.c', import.meta.url));

export interface ThroughputResult {
  messageSize: number;
  messages: number;
  /** copy: send + receiveInto (a reused buffer); copy-alloc: send + receive (a new buffer per message); zero-copy: reserve/commit + peek/release. */
  mode: ThroughputMode;
  /** Median over repetitions. */
  messagesPerSec: number;
  bytesPerSec: number;
  repetitions: number[];
  /** futex syscalls per message, both processes together, over the whole run. */
  futexCallsPerMessage: number;
}

export interface PingPongResult {
  mode: 'spin' | 'futex';
  messageSize: number;
  iterations: number;
  /** Round-trip percentiles (two messages each). One-way latency is about half. */
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  futexCallsPerMessage: number;
}

export type ThroughputMode = 'copy' | 'copy-alloc' | 'zero-copy';

interface ChildSpec {
  kind: 'throughput-consumer' | 'pingpong-echo' | 'bare-echo';
  id: number;
  messageSize: number;
  messages: number;
  repetitions: number;
  mode: ThroughputMode;
  spin: number;
}

/**
 * Where the two processes of every measurement run: [this process, the peer] (taskset for the peer,
 * sched_setaffinity for this thread, the C reference pins both itself), or null to let the scheduler place them.
 */
let pinned: [number, number] | null = null;

/** Pins every following measurement: 'same' (both on CPU 0), 'cross' (CPU 0 and CPU 1) or 'none'. */
export function setPlacement(where: 'same' | 'cross' | 'none'): void {
  pinned = where === 'same' ? [0, 0] : where === 'cross' ? [0, 1] : null;
  if (pinned) pinThisThread(pinned[0]);
}

/** Where this process may run: the affinity list from /proc/self/status, and taskset's view if available. */
export function cpuPlacement(): string {
  let allowed = '?';
  try {
    allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?';
  } catch {
    // no /proc
  }
  let taskset = '';
  try {
    taskset = execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' }).trim();
  } catch {
    taskset = 'taskset unavailable';
  }
  const where = pinned
    ? pinned[0] === pinned[1]
      ? `both processes pinned to CPU ${pinned[0]} (same core)`
      : `pinned to CPUs ${pinned[0]} and ${pinned[1]} (cross-core)`
    : 'processes not pinned, the scheduler places them';
  return `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}; Cpus_allowed_list ${allowed} (${taskset}); ${where}`;
}


function startChild(spec: ChildSpec) {
  const node = [process.execPath, '--import', 'tsx', SELF, '--child', JSON.stringify(spec)];
  const [command, args] = pinned ? ['taskset', ['-c', String(pinned[1]), ...node]] : [node[0], node.slice(1)];
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) {
      await Promise.race([new Promise<void>((r) => waiters.push(r)), exited]);
      if (lines.length === 0 && child.exitCode !== null) throw new Error(`bench child exited with ${child.exitCode}`);
    }
    return lines.shift()!;
  };
  return { child, nextLine, exited };
}

/** p50, p90 and p99 of sorted round-trip times. */
function rttPercentiles(sorted: Float64Array): { p50Ns: number; p90Ns: number; p99Ns: number } {
  return { p50Ns: percentile(sorted, 0.5), p90Ns: percentile(sorted, 0.9), p99Ns: percentile(sorted, 0.99) };
}

/** The payload a producer sends: a fixed pattern (its content is not what is measured). */
function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 255;
  return bytes;
}

/**
 * Producer here, consumer in a child process. Each repetition: the producer stamps its start time
 * (process.hrtime, CLOCK_MONOTONIC, shared by both processes) into the first message; the consumer reports the
 * time at which it has taken the last one.
 */
export async function measureThroughput(options: {
  messageSize: number;
  messages: number;
  repetitions?: number;
  mode?: ThroughputMode;
  capacity?: number;
  spin?: number;
}): Promise<ThroughputResult> {
  const { messageSize, messages } = options;
  const repetitions = options.repetitions ?? 5;
  const mode = options.mode ?? 'copy';
  const spin = options.spin ?? 1_000_000;
  const capacity = options.capacity ?? Math.max(1 << 16, messageSize * 4);
  const channel = Channel.create({ capacity, spin });
  const { child, nextLine, exited } = startChild({ kind: 'throughput-consumer', id: channel.id, messageSize, messages, repetitions, mode, spin });
  try {
    await nextLine(); // "ready"
    const message = pattern(messageSize);
    const calls0 = futexCallCounts();
    const seconds: number[] = [];
    for (let r = 0; r < repetitions; r++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < messages; i++) {
        if (mode !== 'zero-copy') {
          channel.send(message);
        } else {
          const view = channel.reserve(messageSize);
          // A zero-copy producer builds its data in place; here it only writes a sequence number.
          if (messageSize >= 4) view[0] = i & 255;
          channel.commit();
        }
      }
      const line = JSON.parse(await nextLine()) as { endNs: string; ok: boolean };
      if (!line.ok) throw new Error('consumer saw a wrong message');
      seconds.push(Number(BigInt(line.endNs) - start) / 1e9);
    }
    const calls1 = futexCallCounts();
    const childCalls = JSON.parse(await nextLine()) as { wait: number; wake: number };
    const ours = calls1.wait - calls0.wait + calls1.wake - calls0.wake;
    const s = median(seconds);
    return {
      messageSize,
      messages,
      mode,
      messagesPerSec: messages / s,
      bytesPerSec: (messages * messageSize) / s,
      repetitions: seconds.map((x) => (messages * messageSize) / x),
      futexCallsPerMessage: (ours + childCalls.wait + childCalls.wake) / (messages * repetitions),
    };
  } finally {
    channel.close();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/**
 * 64-byte (by default) ping-pong: this process sends on channel A and waits on channel B; the child echoes.
 * 'spin' spins without limit; 'futex' sleeps at once (spin 0) so that every message goes through FUTEX_WAIT/WAKE.
 */
export async function measurePingPong(options: { mode: 'spin' | 'futex'; iterations: number; messageSize?: number }): Promise<PingPongResult> {
  const messageSize = options.messageSize ?? 64;
  const spin = options.mode === 'spin' ? 100_000_000 : 0;
  const warm = Math.ceil(options.iterations / 10);
  const out = Channel.create({ capacity: 4096, spin });
  const { child, nextLine, exited } = startChild({
    kind: 'pingpong-echo',
    id: out.id,
    messageSize,
    messages: warm + options.iterations,
    repetitions: 1,
    mode: 'copy',
    spin,
  });
  let back: Channel | undefined;
  try {
    back = Channel.open(Number(await nextLine()), { spin });
    const message = pattern(messageSize);
    const reply = new Uint8Array(messageSize);
    const rtt = new Float64Array(options.iterations);
    let calls0 = futexCallCounts();
    // One clock read per round trip (performance.now costs ~50-70 ns here): a round trip is the time between two
    // consecutive reads. The C reference measures the same way.
    let previous = performance.now();
    for (let i = 0; i < warm + options.iterations; i++) {
      if (i === warm) calls0 = futexCallCounts();
      message[0] = i & 255;
      out.send(message);
      back.receiveInto(reply);
      const t = performance.now();
      if (reply[0] !== (i & 255)) throw new Error('ping-pong reply out of order');
      if (i >= warm) rtt[i - warm] = (t - previous) * 1e6;
      previous = t;
    }
    const calls1 = futexCallCounts();
    const childCalls = JSON.parse(await nextLine()) as { wait: number; wake: number };
    rtt.sort();
    const ours = calls1.wait - calls0.wait + calls1.wake - calls0.wake;
    return {
      mode: options.mode,
      messageSize,
      iterations: options.iterations,
      ...rttPercentiles(rtt),
      // The child counts from after its warm-up too.
      futexCallsPerMessage: (ours + childCalls.wait + childCalls.wake) / (2 * options.iterations),
    };
  } finally {
    out.close();
    back?.close();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

// The floor for JavaScript: the C reference's protocol written directly in JS (a sequence word per direction on
// its own cache line, 64 bytes copied as 16 words, Atomics.load spinning), without the channel. What the channel
// adds is the difference between this and the channel's spin ping-pong.
const BARE_SEQ = [0, 64]; // Int32 index of each lane's sequence word (lane 0: to the child, lane 1: back)
const BARE_PAYLOAD = [32, 96]; // Int32 index of each lane's payload (own cache lines)

function bareLanes(buffer: ArrayBuffer): Int32Array {
  return new Int32Array(buffer, 0, 128);
}

/** Spin ping-pong of 64 bytes with the C reference's protocol in plain JS over a segment (no channel). */
export async function measureBarePingPong(iterations: number): Promise<PingPongResult> {
  const id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
  const attachment = shmat(id);
  shmctl(id, IPC_RMID);
  const warm = Math.ceil(iterations / 10);
  const { child, nextLine, exited } = startChild({ kind: 'bare-echo', id, messageSize: 64, messages: warm + iterations, repetitions: 1, mode: 'copy', spin: 0 });
  try {
    await nextLine(); // "ready"
    const w = bareLanes(attachment.buffer);
    const message = new Int32Array(16).fill(7);
    const reply = new Int32Array(16);
    const rtt = new Float64Array(iterations);
    let previous = performance.now();
    for (let i = 1; i <= warm + iterations; i++) {
      message[0] = i;
      for (let k = 0; k < 16; k++) w[BARE_PAYLOAD[0] + k] = message[k];
      Atomics.store(w, BARE_SEQ[0], i);
      while (Atomics.load(w, BARE_SEQ[1]) !== i);
      for (let k = 0; k < 16; k++) reply[k] = w[BARE_PAYLOAD[1] + k];
      const t = performance.now();
      if (reply[0] !== i) throw new Error('bare ping-pong reply out of order');
      if (i > warm) rtt[i - warm - 1] = (t - previous) * 1e6;
      previous = t;
    }
    rtt.sort();
    return { mode: 'spin', messageSize: 64, iterations, ...rttPercentiles(rtt), futexCallsPerMessage: 0 };
  } finally {
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    shmdt(attachment);
  }
}

/** Compiles bench/c/pingpong.c with gcc (once per call) and runs it; null when gcc is missing. */
export function measureCPingPong(mode: 'spin' | 'futex', iterations: number): (PingPongResult & { compiler: string }) | null {
  const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-bench-'));
  try {
    const exe = join(dir, 'pingpong');
    const cc = spawnSync('gcc', ['-O2', '-o', exe, C_SOURCE], { encoding: 'utf8' });
    if (cc.error || cc.status !== 0) return null;
    const version = spawnSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' }).stdout.trim();
    const run = spawnSync(exe, [mode, String(iterations), ...(pinned ? pinned.map(String) : [])], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`C ping-pong failed: ${run.stderr}`);
    const r = JSON.parse(run.stdout.trim()) as { p50Ns: number; p90Ns: number; p99Ns: number };
    return { mode, messageSize: 64, iterations, p50Ns: r.p50Ns, p90Ns: r.p90Ns, p99Ns: r.p99Ns, futexCallsPerMessage: NaN, compiler: `gcc ${version} -O2` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


/** A child process writes `messages` chunks of `size` bytes to its stdout; bytes per second as the parent reads them. */
export async function measureStdioThroughput(size: number, messages: number, repetitions = 3): Promise<number> {
  const code = `const b = Buffer.alloc(${size}, 7); let i = 0;
    const w = () => { while (i < ${messages}) { i++; if (!process.stdout.write(b)) return process.stdout.once('drain', w); } };
    w();`;
  const rates: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let received = 0;
    let start = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (start === 0) start = performance.now();
        received += chunk.length;
      });
      child.stdout!.on('end', () => resolve());
      child.on('error', reject);
    });
    if (received !== size * messages) throw new Error(`stdio: got ${received} bytes`);
    rates.push(received / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

// ---------------------------------------------------------------------------------------------------------------
// Child side
// ---------------------------------------------------------------------------------------------------------------

async function runChildRole(spec: ChildSpec): Promise<void> {
  if (spec.kind === 'throughput-consumer') {
    const channel = Channel.open(spec.id, { spin: spec.spin });
    const target = new Uint8Array(Math.max(spec.messageSize, 1));
    const expectedSecond = spec.messageSize > 8 ? (8 * 31 + 7) & 255 : -1;
    console.log('ready');
    for (let r = 0; r < spec.repetitions; r++) {
      let ok = true;
      for (let i = 0; i < spec.messages; i++) {
        if (spec.mode === 'copy') {
          const n = channel.receiveInto(target)!;
          if (n !== spec.messageSize || (expectedSecond >= 0 && target[8] !== expectedSecond)) ok = false;
        } else if (spec.mode === 'copy-alloc') {
          const message = channel.receive()!;
          if (message.length !== spec.messageSize || (expectedSecond >= 0 && message[8] !== expectedSecond)) ok = false;
        } else {
          const view = channel.peek()!;
          if (view.length !== spec.messageSize || (spec.messageSize >= 4 && view[0] !== (i & 255))) ok = false;
          channel.release();
        }
      }
      console.log(JSON.stringify({ endNs: String(process.hrtime.bigint()), ok }));
    }
    console.log(JSON.stringify(futexCallCounts()));
    channel.close();
    return;
  }
  if (spec.kind === 'bare-echo') {
    const attachment = shmat(spec.id);
    const w = bareLanes(attachment.buffer);
    const got = new Int32Array(16);
    console.log('ready');
    for (let i = 1; i <= spec.messages; i++) {
      while (Atomics.load(w, BARE_SEQ[0]) !== i);
      for (let k = 0; k < 16; k++) got[k] = w[BARE_PAYLOAD[0] + k];
      for (let k = 0; k < 16; k++) w[BARE_PAYLOAD[1] + k] = got[k];
      Atomics.store(w, BARE_SEQ[1], i);
    }
    shmdt(attachment);
    return;
  }
  // pingpong-echo: consume on the given channel, answer on a channel of our own.
  const inbound = Channel.open(spec.id, { spin: spec.spin });
  const outbound = Channel.create({ capacity: 4096, spin: spec.spin });
  console.log(String(outbound.id));
  const buffer = new Uint8Array(spec.messageSize);
  const warm = spec.messages - Math.floor((spec.messages * 10) / 11);
  let calls0 = futexCallCounts();
  for (let i = 0; i < spec.messages; i++) {
    if (i === warm) calls0 = futexCallCounts();
    const n = inbound.receiveInto(buffer)!;
    outbound.send(n === buffer.length ? buffer : buffer.subarray(0, n));
  }
  const calls1 = futexCallCounts();
  console.log(JSON.stringify({ wait: calls1.wait - calls0.wait, wake: calls1.wake - calls0.wake }));
  // Wait for the parent to take the last reply before detaching (the segment lives on with the parent anyway).
  inbound.close();
  outbound.close();
}

function fmtRate(bytesPerSec: number): string {
  return bytesPerSec >= 2 ** 30 ? `${(bytesPerSec / 2 ** 30).toFixed(2)} GiB/s` : `${(bytesPerSec / 2 ** 20).toFixed(1)} MiB/s`;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const scale = quick ? 0.25 : 1;
  const pinAt = process.argv.indexOf('--pin');
  const where = pinAt >= 0 ? process.argv[pinAt + 1] : cpus().length >= 2 ? 'cross' : 'none';
  if (where !== 'same' && where !== 'cross' && where !== 'none') throw new Error(`--pin: expected same, cross or none, got ${where}`);
  setPlacement(where);
  console.log(`channel-quick on ${cpuPlacement()}; Node ${process.version}`);

  const small = await measureThroughput({ messageSize: 64, messages: Math.round(1_000_000 * scale), capacity: 1 << 20 });
  const big = await measureThroughput({ messageSize: 1 << 20, messages: Math.round(800 * scale), capacity: 8 << 20 });
  const bigAlloc = await measureThroughput({ messageSize: 1 << 20, messages: Math.round(400 * scale), capacity: 8 << 20, mode: 'copy-alloc' });
  const bigZero = await measureThroughput({ messageSize: 1 << 20, messages: Math.round(4000 * scale), capacity: 8 << 20, mode: 'zero-copy' });
  const copyBaseline = measureBufferCopy(1 << 20);
  const stdio = await measureStdioThroughput(1 << 20, Math.round(800 * scale));
  console.log('\nthroughput, producer -> consumer in another process (median of 5):');
  console.table(
    [
      { case: '64 B, send/receiveInto', 'msg/s': Math.round(small.messagesPerSec), rate: fmtRate(small.bytesPerSec), 'futex calls/msg': small.futexCallsPerMessage.toFixed(4) },
      { case: '1 MiB, send/receive (new buffer each)', 'msg/s': Math.round(bigAlloc.messagesPerSec), rate: fmtRate(bigAlloc.bytesPerSec), 'futex calls/msg': bigAlloc.futexCallsPerMessage.toFixed(4) },
      { case: '1 MiB, send/receiveInto (copy)', 'msg/s': Math.round(big.messagesPerSec), rate: fmtRate(big.bytesPerSec), 'futex calls/msg': big.futexCallsPerMessage.toFixed(4) },
      { case: '1 MiB, reserve/commit + peek/release (zero-copy)', 'msg/s': Math.round(bigZero.messagesPerSec), rate: fmtRate(bigZero.bytesPerSec), 'futex calls/msg': bigZero.futexCallsPerMessage.toFixed(4) },
      { case: 'baseline: in-process Buffer.copy 1 MiB', 'msg/s': Math.round(copyBaseline / 2 ** 20), rate: fmtRate(copyBaseline), 'futex calls/msg': '-' },
      { case: 'baseline: child_process stdio 1 MiB chunks', 'msg/s': Math.round(stdio / 2 ** 20), rate: fmtRate(stdio), 'futex calls/msg': '-' },
    ],
  );
  console.log(
    `ratios: 1 MiB copy / stdio = ${(big.bytesPerSec / stdio).toFixed(1)}x (target >= 4x); copy / Buffer.copy = ${((100 * big.bytesPerSec) / copyBaseline).toFixed(0)}% (target >= 50%); ` +
      `zero-copy / copy = ${(bigZero.bytesPerSec / big.bytesPerSec).toFixed(1)}x (target >= 2x)`,
  );

  // JS and C alternate, three rounds: futex wake-up latency on a VM swings with the host (halt polling, noisy
  // neighbours), so only results taken side by side compare. Each cell is the median over the rounds.
  const iterations = Math.round(100_000 * scale);
  const futexIterations = Math.round(10_000 * scale);
  const runs: Record<string, Array<PingPongResult | null>> = { jsSpin: [], bareSpin: [], cSpin: [], jsFutex: [], cFutex: [] };
  // Pure spinning on one core waits for the scheduler's time slice (milliseconds per message): not measured there.
  const sameCore = pinned !== null && pinned[0] === pinned[1];
  for (let round = 0; round < 3; round++) {
    if (!sameCore) {
      runs.jsSpin.push(await measurePingPong({ mode: 'spin', iterations }));
      runs.bareSpin.push(await measureBarePingPong(iterations));
      runs.cSpin.push(measureCPingPong('spin', iterations));
    }
    runs.jsFutex.push(await measurePingPong({ mode: 'futex', iterations: futexIterations }));
    runs.cFutex.push(measureCPingPong('futex', futexIterations));
  }
  const summary = (list: Array<PingPongResult | null>): PingPongResult | null => {
    const ok = list.filter((r): r is PingPongResult => r !== null);
    if (ok.length === 0) return null;
    return {
      ...ok[0],
      p50Ns: median(ok.map((r) => r.p50Ns)),
      p90Ns: median(ok.map((r) => r.p90Ns)),
      p99Ns: median(ok.map((r) => r.p99Ns)),
      futexCallsPerMessage: median(ok.map((r) => r.futexCallsPerMessage)),
    };
  };
  const [jsSpin, bareSpin, cSpin, jsFutex, cFutex] = [summary(runs.jsSpin), summary(runs.bareSpin), summary(runs.cSpin), summary(runs.jsFutex)!, summary(runs.cFutex)];
  const row = (name: string, r: PingPongResult | null, all: Array<PingPongResult | null>) =>
    r && {
      case: name,
      'p50 RTT ns': Math.round(r.p50Ns),
      'p50 one-way ns': Math.round(r.p50Ns / 2),
      'p90 RTT ns': Math.round(r.p90Ns),
      'p99 RTT ns': Math.round(r.p99Ns),
      'p50 per round': all.map((x) => (x ? Math.round(x.p50Ns) : '-')).join(' / '),
      'futex calls/msg': Number.isNaN(r.futexCallsPerMessage) ? '-' : r.futexCallsPerMessage.toFixed(3),
    };
  console.log('\n64-byte ping-pong between two processes (round trip = two messages; median of 3 alternating rounds):');
  console.table(
    [
      row('JS channel, spin', jsSpin, runs.jsSpin),
      row('JS without channel (floor), spin', bareSpin, runs.bareSpin),
      row('C, spin', cSpin, runs.cSpin),
      row('JS channel, futex (spin 0)', jsFutex, runs.jsFutex),
      row('C, futex', cFutex, runs.cFutex),
    ].filter(Boolean),
  );
  if (cFutex) {
    const spinRatio = jsSpin && cSpin && bareSpin ? `spin JS/C = ${(jsSpin.p50Ns / cSpin.p50Ns).toFixed(2)}x (target <= 1.5x; JS without the channel ${(bareSpin.p50Ns / cSpin.p50Ns).toFixed(2)}x)` : 'spin: not measured on one core';
    console.log(`ratios: ${spinRatio}; futex JS/C = ${(jsFutex.p50Ns / cFutex.p50Ns).toFixed(2)}x (target <= 1.3x)`);
  } else {
    console.log('gcc not found: no C reference');
  }
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  await runChildRole(JSON.parse(process.argv[childIndex + 1]) as ChildSpec);
} else if (process.argv[1] === SELF) {
  await main();
}
