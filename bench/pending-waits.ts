// Many pending waits: one process (the consumer) holds N channels, every one of them awaiting receiveAsync(), and
// we measure what that costs the rest of the process and how fast a message gets through:
//
//   (a) fs.readFile of a tiny file in that process, p50/p99, against the same process with no wait pending;
//   (b) for messages the peers send at random moments on random channels, the time from the send to the
//       resolution of the consumer's receiveAsync() promise, p50/p99 (the send time travels in the message:
//       process.hrtime.bigint() is CLOCK_MONOTONIC, one clock for every process of the machine);
//   (c) the CPU time (process.cpuUsage) of the consumer over a few idle seconds, every receive pending, against
//       the same process with none pending.
//
// For each N (8, 100, 1,000) a fresh consumer process starts a few peer processes; each peer creates its share
// of the channels (Channel.create: one segment each, capacity 4 KiB) and the consumer opens them all
// (Channel.open). Every message is checked (length, magic, the channel it came on, its sequence number on that
// channel, a tag, every payload byte). The issue's targets are printed with what was measured; none is asserted.
// With --with-bench the run also measures the channel's async calls against a Unix socket and process.send (the
// harness's `async` preset) and prints those targets in the same table.
//
//   unshare --ipc --fork npx tsx bench/pending-waits.ts [--counts 8,100,1000] [--json FILE] [--with-bench] [--help]
//
// Waits that hold a libuv pool thread make the readFile and the receive latencies grow with N (4 threads, 50 ms
// slices: with 1,000 pending receives one fs call waits seconds): every phase has a time budget, and a sample
// still running at its limit is reported as censored (a lower bound) instead of stalling the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Channel, limits, summary } from '../lib/index.js';
import { futexCallCounts } from '../lib/internal.js';
import { hostInfo, tasksetAvailable, type Host } from './sweep.js';
import { ROOT, lineReader } from './session.js';
import { median, percentile } from './patterns/common.js';
import { fmtNs, textTable } from './report/format.js';
import { writeFile } from './report/write.js';

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------------------------
// Options, results, targets
// ---------------------------------------------------------------------------------------------------------------

export interface PendingOptions {
  /** The numbers of channels (pending receives), one consumer process each. */
  counts: number[];
  /** Peer processes per consumer (at most one per channel). */
  peers: number;
  /** Ring size of each channel. */
  capacity: number;
  /** Seconds of idle CPU measurement, with and without pending receives. */
  idleSeconds: number;
  /** readFile samples per phase, at most. */
  readFileSamples: number;
  /** Messages the peers send in the latency phase, spread over `sendWindowMs` at random moments. */
  sends: number;
  sendWindowMs: number;
  /** How long a phase may take beyond its own schedule: readFile stops sampling, the receive phase stops waiting. */
  budgetMs: number;
  /** The longest one readFile sample may take before it is counted as censored. */
  sampleCapMs: number;
  rounds: number;
  pin: 'cross' | 'same' | 'none';
  seed: number;
  /** Kill a consumer process that has not reported after this long. */
  consumerTimeoutMs: number;
}

export const DEFAULTS: PendingOptions = {
  counts: [8, 100, 1000],
  peers: 4,
  capacity: 4096,
  idleSeconds: 5,
  readFileSamples: 200,
  sends: 200,
  sendWindowMs: 4000,
  budgetMs: 20_000,
  sampleCapMs: 60_000,
  rounds: 1,
  pin: 'cross',
  seed: 1,
  consumerTimeoutMs: 15 * 60_000,
};

/** Percentiles of a set of samples, in ns. `censored`: samples cut at their limit (their value is a lower bound). */
export interface Latency {
  samples: number;
  censored: number;
  p50: number;
  p99: number;
  max: number;
}

export interface IdleCpu {
  seconds: number;
  userUs: number;
  systemUs: number;
  /** CPU time per second of wall-clock time, in ms (1000 = one core busy). */
  msPerSecond: number;
  /** futex system calls of the library (counted by lib/internal.ts) during the window. */
  futexCalls: number;
}

/** What one consumer process measured at one N. */
export interface PendingRound {
  n: number;
  peers: number;
  /** Sample values in ns (censored ones at their limit). */
  readFileNs: { none: number[]; pending: number[]; pendingCensored: number };
  receiveNs: number[];
  sent: number;
  received: number;
  /** Messages sent on a channel whose receive had failed (nothing could receive them). */
  sentToFailed: number;
  /** Messages on working channels still not received when the phase's budget ran out. */
  missing: number;
  /** Receives that failed (rejected with an error) while they should have been waiting, grouped by message. */
  failedReceives: number;
  failures: ReceiveFailure[];
  idle: { none: IdleCpu; pending: IdleCpu };
  setupMs: number;
  teardownMs: number;
  /** Integrity failures (a message that does not check out), and receives still pending after the teardown. */
  problems: string[];
}

/** Receives that rejected with the same message, and the channels they were on (global indices). */
export interface ReceiveFailure {
  message: string;
  count: number;
  channels: string;
}

export interface PendingFigure {
  n: number;
  rounds: number;
  readFile: { none: Latency; pending: Latency };
  receive: Latency & { sent: number; received: number; missing: number; sentToFailed: number; within5ms: number };
  /** Receives that rejected while waiting (per round, summed), grouped by message. */
  failedReceives: number;
  failures: ReceiveFailure[];
  idle: { none: IdleCpu; pending: IdleCpu };
  setupMs: number;
  teardownMs: number;
  problems: string[];
}

export interface PendingTarget {
  name: string;
  n: number | null;
  met: boolean | null;
  measured: string;
}

export interface PendingOutput {
  host: Host & { uvThreadpoolSize: string; ipcNamespace: string; shmmni: number; segmentsAtStart: number; openFilesLimit: string };
  options: PendingOptions;
  figures: PendingFigure[];
  rounds: PendingRound[];
  targets: PendingTarget[];
  skipped: Array<{ n: number; reason: string }>;
  errors: Array<{ n: number; message: string }>;
  /** Segments left in the namespace after the run, beyond those found at its start (0 expected). */
  segmentsLeft: number;
  seconds: number;
}

/** The issue's targets for this scenario. */
export const READFILE_SLACK_MS = 2;
export const RECEIVE_BOUND_MS = 5;
/** "Idle CPU ~0": at most this many ms of CPU per second (1% of one core). */
export const IDLE_CPU_MS_PER_S = 10;

export function latency(values: number[], censored = 0): Latency {
  const s = [...values].sort((a, b) => a - b);
  return { samples: s.length, censored, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.length ? s[s.length - 1] : NaN };
}

function medianIdle(values: IdleCpu[]): IdleCpu {
  return {
    seconds: median(values.map((v) => v.seconds)),
    userUs: median(values.map((v) => v.userUs)),
    systemUs: median(values.map((v) => v.systemUs)),
    msPerSecond: median(values.map((v) => v.msPerSecond)),
    futexCalls: median(values.map((v) => v.futexCalls)),
  };
}

/** One figure per N from its rounds: latency samples pooled over the rounds, CPU and times the rounds' medians. */
export function mergePending(rounds: PendingRound[]): PendingFigure {
  const r0 = rounds[0];
  const receiveNs = rounds.flatMap((r) => r.receiveNs);
  const missing = rounds.reduce((a, r) => a + r.missing, 0);
  // A message still missing at the end of its phase took at least the phase's length: it counts at the top.
  const receive = latency([...receiveNs, ...rounds.flatMap((r) => Array(r.missing).fill(Infinity) as number[])], missing);
  return {
    n: r0.n,
    rounds: rounds.length,
    readFile: {
      none: latency(rounds.flatMap((r) => r.readFileNs.none)),
      pending: latency(
        rounds.flatMap((r) => r.readFileNs.pending),
        rounds.reduce((a, r) => a + r.readFileNs.pendingCensored, 0),
      ),
    },
    receive: {
      ...receive,
      sent: rounds.reduce((a, r) => a + r.sent, 0),
      received: rounds.reduce((a, r) => a + r.received, 0),
      missing,
      sentToFailed: rounds.reduce((a, r) => a + r.sentToFailed, 0),
      within5ms: receiveNs.filter((ns) => ns <= RECEIVE_BOUND_MS * 1e6).length / Math.max(1, receiveNs.length + missing),
    },
    idle: { none: medianIdle(rounds.map((r) => r.idle.none)), pending: medianIdle(rounds.map((r) => r.idle.pending)) },
    setupMs: median(rounds.map((r) => r.setupMs)),
    teardownMs: median(rounds.map((r) => r.teardownMs)),
    failedReceives: rounds.reduce((a, r) => a + r.failedReceives, 0),
    failures: rounds.flatMap((r) => r.failures),
    problems: rounds.flatMap((r) => r.problems),
  };
}

/** A latency for the report: '-' when there is none, 'missing' for a message that never arrived (counted as infinite). */
const ms = (ns: number) => (Number.isNaN(ns) ? '-' : Number.isFinite(ns) ? fmtNs(ns) : 'missing');

/** The scenario's targets per N: readFile within 2 ms of no waits (p50 and p99), receives within 5 ms (p99), idle CPU ~0. */
export function pendingTargets(figures: PendingFigure[], options: Pick<PendingOptions, 'sendWindowMs' | 'budgetMs'>): PendingTarget[] {
  const targets: PendingTarget[] = [];
  for (const f of figures) {
    const { none, pending } = f.readFile;
    const d50 = pending.p50 - none.p50;
    const d99 = pending.p99 - none.p99;
    const readOk = pending.samples > 0 && none.samples > 0;
    targets.push({
      name: `readFile with N pending receives: p50 and p99 within ${READFILE_SLACK_MS} ms of none pending`,
      n: f.n,
      met: readOk ? d50 <= READFILE_SLACK_MS * 1e6 && d99 <= READFILE_SLACK_MS * 1e6 : null,
      measured: readOk
        ? `p50 ${ms(pending.p50)} vs ${ms(none.p50)}, p99 ${ms(pending.p99)} vs ${ms(none.p99)} (${pending.samples} samples${pending.censored ? `, ${pending.censored} censored at the cap` : ''})`
        : 'not measured',
    });
    const r = f.receive;
    const recvOk = r.sent > 0;
    targets.push({
      name: `each receive resolves within ${RECEIVE_BOUND_MS} ms of its send (judged at p99)`,
      n: f.n,
      met: recvOk ? r.p99 <= RECEIVE_BOUND_MS * 1e6 : null,
      measured: recvOk
        ? `p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, max ${ms(r.max)}; ${(100 * r.within5ms).toFixed(0)}% within ${RECEIVE_BOUND_MS} ms; ${r.received}/${r.sent} received` +
          (r.missing ? `, ${r.missing} not within ${(options.sendWindowMs + options.budgetMs) / 1000} s of the first send` : '') +
          (f.failedReceives ? `; ${f.failedReceives} of ${f.n * f.rounds} receives failed (${r.sentToFailed} messages sent to those channels)` : '')
        : 'not measured',
    });
    const idle = f.idle.pending;
    targets.push({
      name: `idle CPU with N pending receives ~0 (<= ${IDLE_CPU_MS_PER_S} ms per s)`,
      n: f.n,
      met: Number.isFinite(idle.msPerSecond) ? idle.msPerSecond <= IDLE_CPU_MS_PER_S : null,
      measured: `${idle.msPerSecond.toFixed(1)} ms/s (none pending: ${f.idle.none.msPerSecond.toFixed(1)} ms/s; ${idle.futexCalls} futex calls in ${idle.seconds.toFixed(1)} s)`,
    });
  }
  return targets;
}

export function renderPending(out: PendingOutput, extraTargets: PendingTarget[] = []): string {
  const h = out.host;
  const o = out.options;
  const parts: string[] = [];
  parts.push(
    `pending-waits: ${h.cpus} x ${h.cpuModel}${h.hypervisor ? ` (VM: ${h.hypervisor})` : ''}, Linux ${h.kernel}, Node ${h.node}; ` +
      `UV_THREADPOOL_SIZE ${h.uvThreadpoolSize}; IPC namespace ${h.ipcNamespace}; ${placementLine(o.pin)}; ` +
      `${o.rounds} round${o.rounds > 1 ? 's' : ''}; load average at start ${h.loadavg.join(' ')}.`,
  );
  parts.push(
    `Each N: a fresh consumer process opens N channels (capacity ${o.capacity} B) created by ${o.peers} peer processes (fewer when N is smaller), ` +
      `every consumer awaiting receiveAsync(). readFile: a ${TINY_FILE_BYTES}-byte file, up to ${o.readFileSamples} samples in ${o.budgetMs / 1000} s, a sample ` +
      `cut at ${o.sampleCapMs / 1000} s (censored); receives: ${o.sends} messages of 64 B sent at random moments within ${o.sendWindowMs / 1000} s on random channels, ` +
      `waited for up to ${o.budgetMs / 1000} s more; idle CPU: ${o.idleSeconds} s.`,
  );
  const rows = out.figures.map((f) => [
    String(f.n),
    `${ms(f.readFile.none.p50)} / ${ms(f.readFile.none.p99)}`,
    `${ms(f.readFile.pending.p50)} / ${ms(f.readFile.pending.p99)}`,
    `${f.readFile.pending.samples}${f.readFile.pending.censored ? ` (${f.readFile.pending.censored} cut)` : ''}`,
    `${ms(f.receive.p50)} / ${ms(f.receive.p99)} / ${ms(f.receive.max)}`,
    `${f.receive.received}/${f.receive.sent}`,
    f.failedReceives ? String(f.failedReceives) : '',
    `${f.idle.none.msPerSecond.toFixed(1)} / ${f.idle.pending.msPerSecond.toFixed(1)}`,
    `${(f.setupMs / 1000).toFixed(1)} s`,
  ]);
  parts.push(
    `\n${textTable(
      [
        'N',
        'readFile p50 / p99, none pending',
        'with N pending',
        'samples',
        'send to resolve p50 / p99 / max',
        'received',
        'failed receives',
        'idle CPU ms/s: none / N pending',
        'setup',
      ],
      rows,
    )}`,
  );
  const targets = [...out.targets, ...extraTargets];
  if (targets.length) {
    parts.push("\nTargets (the issue's; measured here, never asserted):");
    parts.push(
      textTable(
        ['target', 'N', 'met', 'measured'],
        targets.map((t) => [t.name, t.n === null ? '' : String(t.n), t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', t.measured]),
      ),
    );
  }
  for (const s of out.skipped) parts.push(`SKIPPED N = ${s.n}: ${s.reason}`);
  for (const e of out.errors) parts.push(`FAILED N = ${e.n}: ${e.message}`);
  for (const f of out.figures) {
    for (const x of f.failures) parts.push(`FAILED RECEIVES at N = ${f.n}: ${x.count} rejected with "${x.message}" (channels ${x.channels})`);
    for (const p of f.problems) parts.push(`PROBLEM at N = ${f.n}: ${p}`);
  }
  if (out.segmentsLeft !== 0) parts.push(`${out.segmentsLeft} segment(s) left behind in the namespace`);
  parts.push(`\n${out.figures.length} figures in ${out.seconds.toFixed(0)} s.`);
  return parts.join('\n');
}

function placementLine(pin: PendingOptions['pin']): string {
  if (pin === 'cross') return 'consumer on CPU 0, peers on CPU 1 (taskset)';
  if (pin === 'same') return 'consumer and peers on CPU 0 (taskset)';
  return 'unpinned';
}

// ---------------------------------------------------------------------------------------------------------------
// Messages: 64 bytes, every byte checked
// ---------------------------------------------------------------------------------------------------------------

const MESSAGE = 64;
const MAGIC = 0x31545750; // "PWT1"
const TINY_FILE_BYTES = 64;

function tagOf(channel: number, seq: number, lo: number, hi: number): number {
  let h = Math.imul(channel ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ seq ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ lo ^ (h >>> 16), 0x27d4eb2f);
  h = Math.imul(h ^ hi ^ (h >>> 15), 0x165667b1);
  return (h ^ (h >>> 15)) | 0;
}

/** Bytes 24..60: a pattern of the channel and the sequence number. */
function fillByte(channel: number, seq: number, i: number): number {
  return (channel * 31 + seq * 17 + i * 7) & 0xff;
}

export function buildMessage(m: Uint8Array, channel: number, seq: number, sendNs: bigint): void {
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const lo = Number(sendNs & 0xffffffffn) | 0;
  const hi = Number(sendNs >> 32n) | 0;
  const tag = tagOf(channel, seq, lo, hi);
  v.setInt32(0, MAGIC, true);
  v.setInt32(4, channel, true);
  v.setInt32(8, seq, true);
  v.setInt32(12, tag, true);
  v.setInt32(16, lo, true);
  v.setInt32(20, hi, true);
  for (let i = 24; i < MESSAGE - 4; i++) m[i] = fillByte(channel, seq, i);
  v.setInt32(MESSAGE - 4, tag ^ 0x5a5a5a5a, true);
}

/** The send time of a message that checks out, or a description of what is wrong with it. */
export function checkMessage(m: Uint8Array, channel: number, seq: number): bigint | string {
  if (m.length !== MESSAGE) return `length ${m.length}, expected ${MESSAGE}`;
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  if (v.getInt32(0, true) !== MAGIC) return 'bad magic';
  if (v.getInt32(4, true) !== channel) return `arrived on channel ${channel}, addressed to ${v.getInt32(4, true)}`;
  if (v.getInt32(8, true) !== seq) return `sequence ${v.getInt32(8, true)}, expected ${seq} (dropped, duplicated or reordered)`;
  const lo = v.getInt32(16, true);
  const hi = v.getInt32(20, true);
  const tag = tagOf(channel, seq, lo, hi);
  if (v.getInt32(12, true) !== tag || v.getInt32(MESSAGE - 4, true) !== (tag ^ 0x5a5a5a5a)) return 'tag mismatch (corrupted)';
  for (let i = 24; i < MESSAGE - 4; i++) if (m[i] !== fillByte(channel, seq, i)) return `payload byte ${i} differs (corrupted)`;
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Sorted integers as ranges: '3, 7-9, 12'. */
export function ranges(values: number[]): string {
  const s = [...new Set(values)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(j > i ? `${s[i]}-${s[j]}` : String(s[i]));
    i = j + 1;
  }
  return out.join(', ');
}

/** A small deterministic generator (xorshift32) in [0, 1). */
function random(seed: number): () => number {
  let x = seed | 0 || 0x2545f491;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Processes: runner -> consumer (one per N) -> peers
// ---------------------------------------------------------------------------------------------------------------

function command(role: '--consumer' | '--peer', payload: unknown, cpu: number | null): [string, string[]] {
  const node = [process.execPath, '--import', 'tsx', SELF, role, JSON.stringify(payload)];
  return cpu === null ? [node[0], node.slice(1)] : ['taskset', ['-c', String(cpu), ...node]];
}

const sleep = (msec: number) => new Promise<void>((r) => setTimeout(r, msec));

// --- peer: creates its channels, sends when told, closes when told (or when the consumer is gone) --------------

interface PeerSpec {
  /** Global index of its first channel, and how many it creates. */
  first: number;
  count: number;
  capacity: number;
}

type PeerCommand = { cmd: 'send'; count: number; windowMs: number; seed: number } | { cmd: 'close' };

async function peerMain(spec: PeerSpec): Promise<void> {
  const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const producers = Array.from({ length: spec.count }, () => Channel.create({ capacity: spec.capacity }));
  const seqs = new Int32Array(spec.count);
  const closeAll = () => {
    for (const p of producers) p.close();
  };
  out({ type: 'ids', ids: producers.map((p) => p.id) });
  const next = lineReader(process.stdin, 'the consumer');
  const message = new Uint8Array(MESSAGE);
  for (;;) {
    let command: PeerCommand;
    try {
      command = JSON.parse(await next()) as PeerCommand;
    } catch {
      closeAll(); // the consumer is gone
      process.exit(0);
    }
    if (command.cmd === 'close') {
      closeAll();
      out({ type: 'closed' });
      process.exit(0);
    }
    // Random moments in the window, each on a random channel of this peer (distinct ones while there are enough).
    const rnd = random(command.seed);
    const times = Array.from({ length: command.count }, () => rnd() * command.windowMs).sort((a, b) => a - b);
    const order = Array.from({ length: spec.count }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const targets = times.map((_, k) => (k < order.length ? order[k] : Math.floor(rnd() * spec.count)));
    const start = performance.now();
    let full = 0;
    const channels: number[] = [];
    for (let k = 0; k < times.length; k++) {
      const wait = start + times[k] - performance.now();
      if (wait > 0) await sleep(wait);
      const local = targets[k];
      buildMessage(message, spec.first + local, seqs[local], process.hrtime.bigint());
      if (producers[local].trySend(message)) {
        seqs[local]++;
        channels.push(spec.first + local);
      } else full++;
    }
    out({ type: 'sent', count: channels.length, full, channels });
  }
}

// --- consumer: opens every channel, measures ---------------------------------------------------------------------

interface ConsumerSpec {
  n: number;
  options: PendingOptions;
  tmpdir: string;
  round: number;
}

/** readFile samples until `max` or the budget (at least one); a sample past `capMs` is cut and counted as censored. */
async function sampleReadFile(path: string, expected: Buffer, max: number, budgetMs: number, capMs: number): Promise<{ ns: number[]; censored: number }> {
  const ns: number[] = [];
  let censored = 0;
  const start = performance.now();
  while (ns.length < max && (ns.length === 0 || performance.now() - start < budgetMs)) {
    const t0 = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<null>((r) => (timer = setTimeout(() => r(null), capMs)));
    const got = await Promise.race([readFile(path), cut]);
    clearTimeout(timer);
    if (got === null) {
      ns.push(capMs * 1e6);
      censored++;
      break; // the cut read is still queued behind the waits: the next one would only queue behind it
    }
    if (!got.equals(expected)) throw new Error('readFile returned other bytes than the file holds');
    ns.push(Number(process.hrtime.bigint() - t0));
  }
  return { ns, censored };
}

async function idleCpu(seconds: number): Promise<IdleCpu> {
  const futex0 = futexCallCounts();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) / 1000;
  const futex = futexCallCounts();
  return {
    seconds: wall,
    userUs: c.user,
    systemUs: c.system,
    msPerSecond: (c.user + c.system) / 1000 / wall,
    futexCalls: futex.wait + futex.wake - futex0.wait - futex0.wake,
  };
}

async function consumerMain(spec: ConsumerSpec): Promise<void> {
  const { n, options: o } = spec;
  const file = join(spec.tmpdir, `tiny-${process.pid}.txt`);
  const content = Buffer.alloc(TINY_FILE_BYTES, 'x');
  writeFileSync(file, content);
  const peerCount = Math.max(1, Math.min(o.peers, n));
  const peers: Array<{ child: ChildProcess; next: () => Promise<string>; first: number; count: number }> = [];
  const consumers: Array<ReturnType<typeof Channel.open>> = [];
  const problems: string[] = [];
  const peerCpu = o.pin === 'cross' ? 1 : o.pin === 'same' ? 0 : null;
  try {
    const setup0 = performance.now();
    for (let p = 0, first = 0; p < peerCount; p++) {
      const count = Math.floor(n / peerCount) + (p < n % peerCount ? 1 : 0);
      const [cmd, args] = command('--peer', { first, count, capacity: o.capacity } satisfies PeerSpec, peerCpu);
      const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
      peers.push({ child, next: lineReader(child.stdout!, `peer ${p}`), first, count });
      first += count;
    }
    for (const peer of peers) {
      const { ids } = JSON.parse(await peer.next()) as { ids: number[] };
      if (ids.length !== peer.count) throw new Error(`a peer created ${ids.length} channels, expected ${peer.count}`);
      for (const id of ids) consumers.push(Channel.open(id));
    }
    const setupMs = performance.now() - setup0;

    // No receive pending: the reference figures of this process, its channels open.
    const idleNone = await idleCpu(o.idleSeconds);
    const readNone = await sampleReadFile(file, content, o.readFileSamples, o.budgetMs, o.sampleCapMs);

    // Every consumer awaiting receiveAsync(): each message is checked and timed, then the next receive starts.
    const receiveNs: number[] = [];
    const expected = new Int32Array(n);
    let received = 0;
    let onReceived: (() => void) | null = null;
    let tearingDown = false;
    // Receives that reject while they should wait (before the teardown; at the teardown anything but the EPIPE of a
    // closed producer or the ERR_CHANNEL_CLOSED of a closed consumer), by message.
    const failed = new Map<string, number[]>();
    const pump = async (i: number) => {
      const consumer = consumers[i];
      for (;;) {
        let m: Uint8Array | null;
        try {
          m = await consumer.receiveAsync();
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (!tearingDown || (code !== 'EPIPE' && code !== 'ERR_CHANNEL_CLOSED')) {
            const text = (error as Error).message;
            failed.set(text, [...(failed.get(text) ?? []), i]);
          }
          return;
        }
        const now = process.hrtime.bigint();
        if (m === null) continue;
        const sent = checkMessage(m, i, expected[i]);
        if (typeof sent === 'string') {
          problems.push(`channel ${i}, message ${expected[i]}: ${sent}`);
          return;
        }
        expected[i]++;
        receiveNs.push(Number(now - sent));
        received++;
        onReceived?.();
      }
    };
    const pumps = consumers.map((_, i) => pump(i));
    await sleep(200); // every receive reaches its wait

    const idlePending = await idleCpu(o.idleSeconds);
    const readPending = await sampleReadFile(file, content, o.readFileSamples, o.budgetMs, o.sampleCapMs);

    // Messages at random moments: the peers share the count in proportion to their channels.
    let assigned = 0;
    const shares = peers.map((peer, p) => {
      const share = p === peers.length - 1 ? o.sends - assigned : Math.round((o.sends * peer.count) / n);
      assigned += share;
      return share;
    });
    const phase0 = performance.now();
    for (const [p, peer] of peers.entries()) {
      const seed = o.seed * 7919 + p * 104729 + spec.round;
      peer.child.stdin!.write(`${JSON.stringify({ cmd: 'send', count: shares[p], windowMs: o.sendWindowMs, seed } satisfies PeerCommand)}\n`);
    }
    let sent = 0;
    const sentOn: number[] = [];
    for (const peer of peers) {
      const report = JSON.parse(await peer.next()) as { type: string; count: number; full: number; channels: number[] };
      sent += report.count;
      sentOn.push(...report.channels);
      if (report.full) problems.push(`a peer found ${report.full} channel(s) full: those messages were not sent`);
    }
    // What the channels of failed receives got can never be received: it is not waited for.
    const deliverable = () => {
      const dead = new Set([...failed.values()].flat());
      return sentOn.filter((c) => !dead.has(c)).length;
    };
    const deadline = phase0 + o.sendWindowMs + o.budgetMs;
    while (received < deliverable() && performance.now() < deadline) {
      await new Promise<void>((r) => {
        onReceived = r;
        setTimeout(r, Math.max(1, Math.min(100, deadline - performance.now())));
      });
      onReceived = null;
    }
    const sentToFailed = sent - deliverable();
    const missing = sent - sentToFailed - received;

    // Teardown: the peers close their producers, which ends every pending receive (EPIPE); then the consumers close.
    const teardown0 = performance.now();
    tearingDown = true;
    for (const peer of peers) peer.child.stdin!.write(`${JSON.stringify({ cmd: 'close' } satisfies PeerCommand)}\n`);
    for (const peer of peers) await peer.next().catch(() => undefined);
    const settled = await Promise.race([Promise.all(pumps).then(() => true), sleep(o.budgetMs).then(() => false)]);
    if (!settled) problems.push(`some receives were still pending ${o.budgetMs / 1000} s after every producer closed`);
    for (const c of consumers) c.close();
    const teardownMs = performance.now() - teardown0;

    const round: PendingRound = {
      n,
      peers: peerCount,
      readFileNs: { none: readNone.ns, pending: readPending.ns, pendingCensored: readPending.censored },
      receiveNs,
      sent,
      received,
      sentToFailed,
      missing,
      failedReceives: [...failed.values()].reduce((a, c) => a + c.length, 0),
      failures: [...failed.entries()].map(([message, channels]) => ({ message, count: channels.length, channels: ranges(channels) })),
      idle: { none: idleNone, pending: idlePending },
      setupMs,
      teardownMs,
      problems,
    };
    process.stdout.write(`${JSON.stringify({ type: 'result', round })}\n`);
  } finally {
    for (const c of consumers) c.close();
    for (const peer of peers) if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill('SIGKILL');
    rmSync(file, { force: true });
  }
  process.exit(0);
}

// --- runner --------------------------------------------------------------------------------------------------------

function runConsumer(spec: ConsumerSpec, cpu: number | null, timeoutMs: number): Promise<PendingRound> {
  const [cmd, args] = command('--consumer', spec, cpu);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const next = lineReader(child.stdout!, `the consumer of N = ${spec.n}`);
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the consumer took longer than ${Math.round(timeoutMs / 1000)} s and was killed`));
    }, timeoutMs);
    next().then(
      (line) => {
        clearTimeout(timer);
        const event = JSON.parse(line) as { type: string; round: PendingRound };
        child.once('exit', () => resolvePromise(event.round));
        if (child.exitCode !== null) resolvePromise(event.round);
      },
      (error: Error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Whether this process runs in an IPC namespace of its own: one of its ancestors (below pid 1, which may belong to
 * a container's runtime) is in another one, as the shell that ran `unshare --ipc --fork` is.
 */
function ipcNamespace(): string {
  try {
    const own = readlinkSync('/proc/self/ns/ipc');
    for (let pid = process.ppid; pid > 1; ) {
      if (readlinkSync(`/proc/${pid}/ns/ipc`) !== own) return `private (${own})`;
      pid = Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    }
    return `${own}, the same as the shell's: run it under 'unshare --ipc --fork'`;
  } catch {
    return 'unknown';
  }
}

function openFilesLimit(): string {
  try {
    return /Max open files\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

export async function runPending(options: PendingOptions, onProgress?: (text: string) => void): Promise<PendingOutput> {
  const started = performance.now();
  const host = hostInfo();
  if (options.pin !== 'none' && !tasksetAvailable()) throw new Error('--pin needs taskset (util-linux); use --pin none');
  if (options.pin === 'cross' && host.cpus < 2) throw new Error('--pin cross needs two CPUs');
  const shmmni = Number(limits().shmmni);
  const segmentsAtStart = summary().segments;
  const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-pending-'));
  const rounds: PendingRound[] = [];
  const skipped: PendingOutput['skipped'] = [];
  const errors: PendingOutput['errors'] = [];
  const consumerCpu = options.pin === 'none' ? null : 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const n of options.counts) {
        // Each channel is one segment: the namespace must have room for N more.
        const free = shmmni - summary().segments;
        if (free < n) {
          if (round === 0) skipped.push({ n, reason: `${n} channels need ${n} segments; kernel.shmmni allows ${shmmni} and ${shmmni - free} exist` });
          continue;
        }
        onProgress?.(`N = ${n}${options.rounds > 1 ? `, round ${round + 1}/${options.rounds}` : ''}`);
        try {
          rounds.push(await runConsumer({ n, options, tmpdir: dir, round }, consumerCpu, options.consumerTimeoutMs));
        } catch (error) {
          errors.push({ n, message: (error as Error).message });
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const failed = new Set(errors.map((e) => e.n));
  const figures = options.counts.filter((n) => !failed.has(n) && rounds.some((r) => r.n === n)).map((n) => mergePending(rounds.filter((r) => r.n === n)));
  return {
    host: {
      ...host,
      uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
      ipcNamespace: ipcNamespace(),
      shmmni,
      segmentsAtStart,
      openFilesLimit: openFilesLimit(),
    },
    options,
    figures,
    rounds,
    targets: pendingTargets(figures, options),
    skipped,
    errors,
    segmentsLeft: summary().segments - segmentsAtStart,
    seconds: (performance.now() - started) / 1000,
  };
}

const HELP = `usage: unshare --ipc --fork npx tsx bench/pending-waits.ts [options]

One consumer process per N with N channels, every consumer awaiting receiveAsync(); measures readFile latency
in that process (against none pending), the time from a peer's send to the receive's resolution, and the idle
CPU of the process. Prints the issue's targets with what was measured.

  --counts LIST        numbers of channels (default ${DEFAULTS.counts.join(',')})
  --peers N            peer processes per consumer, each creating its share of the channels (default ${DEFAULTS.peers})
  --idle-s S           seconds of idle CPU measurement, with and without pending receives (default ${DEFAULTS.idleSeconds})
  --samples N          readFile samples per phase, at most (default ${DEFAULTS.readFileSamples})
  --sends N            messages sent at random moments in the receive phase (default ${DEFAULTS.sends})
  --window-s S         the window those messages are spread over (default ${DEFAULTS.sendWindowMs / 1000})
  --budget-s S         time a phase may take beyond its schedule (default ${DEFAULTS.budgetMs / 1000})
  --cap-s S            the longest one readFile sample may take before it is cut (default ${DEFAULTS.sampleCapMs / 1000})
  --rounds N           run every N this many times, alternating; latencies pooled, CPU the median (default 1)
  --pin WHERE          cross (consumer on CPU 0, peers on CPU 1; default with 2 CPUs), same, none
  --quick              --counts 8,100 --idle-s 2 --sends 50 --window-s 1 --budget-s 10
  --with-bench         also run npm run bench's async preset (the channel's async calls against a Unix socket,
                       stdio and process.send) and print its targets in the same table
  --json FILE          write the results as JSON
  --help`;

export function pendingOptionsFromArgs(argv: string[]): { options: PendingOptions; json?: string; withBench: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      counts: { type: 'string' },
      peers: { type: 'string' },
      'idle-s': { type: 'string' },
      samples: { type: 'string' },
      sends: { type: 'string' },
      'window-s': { type: 'string' },
      'budget-s': { type: 'string' },
      'cap-s': { type: 'string' },
      rounds: { type: 'string' },
      pin: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'with-bench': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick: Partial<PendingOptions> = values.quick ? { counts: [8, 100], idleSeconds: 2, sends: 50, sendWindowMs: 1000, budgetMs: 10_000 } : {};
  const base = { ...DEFAULTS, ...quick };
  const num = (text: string | undefined, fallback: number, what: string, min: number, max: number, integer = true) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new RangeError(`${what} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${text}'`);
    return n;
  };
  const counts = values.counts === undefined ? base.counts : values.counts.split(',').map((c) => num(c.trim(), 0, '--counts', 1, 30_000));
  const pin = values.pin ?? (cpus().length >= 2 && tasksetAvailable() ? 'cross' : 'none');
  if (!['cross', 'same', 'none'].includes(pin)) throw new RangeError(`--pin must be cross, same or none, got '${pin}'`);
  return {
    options: {
      ...base,
      counts,
      peers: num(values.peers, base.peers, '--peers', 1, 64),
      idleSeconds: num(values['idle-s'], base.idleSeconds, '--idle-s', 0.1, 600, false),
      readFileSamples: num(values.samples, base.readFileSamples, '--samples', 1, 100_000),
      sends: num(values.sends, base.sends, '--sends', 1, 1_000_000),
      sendWindowMs: num(values['window-s'], base.sendWindowMs / 1000, '--window-s', 0, 3600, false) * 1000,
      budgetMs: num(values['budget-s'], base.budgetMs / 1000, '--budget-s', 0.1, 3600, false) * 1000,
      sampleCapMs: num(values['cap-s'], base.sampleCapMs / 1000, '--cap-s', 0.1, 3600, false) * 1000,
      rounds: num(values.rounds, base.rounds, '--rounds', 1, 100),
      pin: pin as PendingOptions['pin'],
    },
    json: values.json,
    withBench: values['with-bench']!,
  };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof pendingOptionsFromArgs>;
  try {
    parsed = pendingOptionsFromArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`pending-waits: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  const { options, json, withBench } = parsed;
  const out = await runPending(options, (text) => process.stderr.write(`pending-waits: ${text}\n`));
  let extra: PendingTarget[] = [];
  let bench: unknown;
  if (withBench) {
    // The harness's async preset, in this run: the channel's async calls against Node's sockets and IPC.
    const { optionsFromArgs } = await import('./run.js');
    const { runSweep } = await import('./sweep.js');
    const { evaluateTargets, ASYNC_TARGETS } = await import('./report/analysis.js');
    const { sweep } = optionsFromArgs(['--preset', 'async', '--pin', options.pin]);
    process.stderr.write('pending-waits: npm run bench -- --preset async\n');
    const output = await runSweep(sweep);
    bench = output;
    const names = new Set<string>(Object.values(ASYNC_TARGETS));
    extra = evaluateTargets(output.results, output.baselines.bufferCopy)
      .filter((t) => names.has(t.name))
      .map((t) => ({ name: t.name, n: null, met: t.met, measured: t.measured }));
    for (const e of output.errors)
      extra.push({ name: `FAILED bench session ${e.transport} ${e.wait ?? ''} ${e.pattern}`, n: null, met: false, measured: e.message });
  }
  console.log(renderPending(out, extra));
  if (json) {
    writeFile(resolve(json), `${JSON.stringify({ ...out, ...(bench ? { bench, benchTargets: extra } : {}) }, null, 2)}\n`);
    console.log(`JSON: ${resolve(json)}`);
  }
  if (out.errors.length || out.figures.some((f) => f.problems.length)) process.exitCode = 1;
}

const role = process.argv[2];
if (process.argv[1] === SELF && role === '--peer') await peerMain(JSON.parse(process.argv[3]) as PeerSpec);
else if (process.argv[1] === SELF && role === '--consumer') await consumerMain(JSON.parse(process.argv[3]) as ConsumerSpec);
else if (process.argv[1] && resolve(process.argv[1]) === SELF) await main();
