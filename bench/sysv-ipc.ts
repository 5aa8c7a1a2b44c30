// `npm run bench:sysv`: System V semaphores and message queues (issue #16) against the project's futex channel and
// a Unix socket, side by side in one run: a round trip between two processes, as a ping-pong.
//
//   sem / semop       two semaphores of one set: the driver gives 0 and takes 1, the peer takes 0 and gives 1
//                     (SemaphoreSet, sync; and the C-shaped semop)
//   queue / msgsnd    a request of type 1 and its reply of type 2 on one queue, 64 B and 4 KiB
//                     (MessageQueue sync and async; and the C-shaped msgsnd/msgrcv)
//   channel           the same request/response over two Channels (one per direction), sync and async
//   unix              the same over a Unix stream socket (node:net)
//
// Every figure is the median over the timed repetitions (of every round) of a repetition's mean round trip; the
// ratios compare with the channel (same mode; the semaphores with the 64 B channel) and the Unix socket at the
// same size. The driver runs on CPU 0 and the peer on CPU 1 (taskset) unless told otherwise; the run records the
// CPUs each process may use and the Node version. Every message is checked (bench/sysv/process.ts). Writes
// results/sysv-ipc.json and results/sysv-ipc.txt (and --json FILE).
//
//   unshare --ipc --fork npm run bench:sysv [-- --quick] [--json FILE] [--help]
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, percentile } from './patterns/common.js';
import { fmtNs, fmtRatio, fmtSize, textTable } from './report/format.js';
import { writeFile } from './report/write.js';
import { parseSize } from './run.js';
import { ROOT, lineReader } from './session.js';
import { type Host, hostInfo, tasksetAvailable } from './sweep.js';
import { API, MIN_SIZE, type Mode, type PartSpec, TRANSPORTS, type Transport, partName, planParts } from './sysv/parts.js';
import type { DriverEvent, DriverSpec, PartFigure } from './sysv/process.js';

const PROCESS = fileURLToPath(new URL('./sysv/process.ts', import.meta.url));

export const SYSV_PRESETS = {
  default: { what: '5 timed repetitions of ~100 ms per part, 2 alternating rounds (about 30 s)', repeat: 5, repMs: 100, rounds: 2, verifyCount: 200 },
  quick: { what: '2 timed repetitions of ~10 ms per part, one round (a few seconds; for tests)', repeat: 2, repMs: 10, rounds: 1, verifyCount: 20 },
} as const;

export type Pin = 'cross' | 'same' | 'none';

export interface SysvOptions {
  preset: keyof typeof SYSV_PRESETS;
  transports: Transport[];
  sizes: number[];
  modes: Mode[];
  repeat: number;
  repMs: number;
  rounds: number;
  verifyCount: number;
  pin: Pin;
  /** Test only: the peer corrupts one reply of every verification repetition. */
  corruptAt?: number;
}

export interface SysvResult {
  transport: Transport;
  mode: Mode;
  /** Bytes per message; 0 for the semaphores. */
  messageSize: number;
  api: string;
  detail: string;
  /** median: of the timed repetitions' mean round trip; p50/p99/min: over every timed round trip. */
  rttNs: { median: number; p50: number; p99: number; min: number };
  perRepeat: number[];
  repeats: number;
  roundTripsPerRepeat: number;
  rounds: number;
  /** Each round's median. */
  perRound: number[];
  /** CPU over the timed repetitions, as a share of one core (1 = one core busy). */
  cpu: { driver: number; peer: number };
  verified: { roundTrips: number; fullyChecked: number };
  /** This figure / the channel's (same mode, or sync; the semaphores: the 64 B one, or the smallest). */
  vsChannel: number | null;
  /** This figure / the Unix socket's at the same size (the semaphores: 64 B, or the smallest). */
  vsUnix: number | null;
}

export interface SysvPlacement {
  kind: Pin;
  tool: 'taskset' | null;
  driver: { cpu: number | null; allowed: string; pid: number };
  peer: { cpu: number | null; allowed: string; pid: number; node: string };
}

export interface SysvOutput {
  host: Host;
  options: SysvOptions & { node: string; loadavgAfter: number[] };
  placement: SysvPlacement | null;
  results: SysvResult[];
  errors: Array<{ part: string; round: number; message: string }>;
  seconds: number;
}

const HELP = `usage: npm run bench:sysv -- [options]      (run it in a private IPC namespace: unshare --ipc --fork npm run bench:sysv)

  --quick               ${SYSV_PRESETS.quick.what}
                        (default: ${SYSV_PRESETS.default.what})
  --transports LIST     ${TRANSPORTS.join(',')} (default: all)
  --sizes LIST          message sizes of the queues, the channel and the socket (default 64,4K; at least ${MIN_SIZE} B)
  --modes LIST          sync,async (default both; the semaphores and the C-shaped calls are sync, the socket async)
  --repeat N            timed repetitions per part and round; figures are medians over them
  --rep-ms N            target length of one repetition in ms (sized from the verification repetition)
  --rounds N            run every part N times, alternating them
  --pin WHERE           cross (default with taskset and 2+ CPUs: driver on CPU 0, peer on CPU 1), same (both on CPU 0), none
  --json FILE           also write the results as JSON to FILE (results/sysv-ipc.json always)
  --out DIR             where sysv-ipc.json and sysv-ipc.txt go (default results/)
  --help`;

function list<T extends string>(text: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new RangeError(`unknown ${what} '${i}' (choose from ${allowed.join(', ')})`);
  return [...new Set(items)] as T[];
}

function integer(text: string | undefined, fallback: number, what: string, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${what} must be an integer in [${min}, ${max}], got '${text}'`);
  return n;
}

export function canPin(): boolean {
  return tasksetAvailable() && cpus().length >= 2;
}

export function sysvOptionsFromArgs(argv: string[]): { options: SysvOptions; json?: string; out: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      transports: { type: 'string' },
      sizes: { type: 'string' },
      modes: { type: 'string' },
      repeat: { type: 'string' },
      'rep-ms': { type: 'string' },
      rounds: { type: 'string' },
      pin: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'results') },
      'corrupt-at': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const presetName = values.quick ? 'quick' : 'default';
  const preset = SYSV_PRESETS[presetName];
  const sizes = values.sizes ? [...new Set(values.sizes.split(',').map(parseSize))].sort((a, b) => a - b) : [64, 4096];
  for (const size of sizes)
    if (size < MIN_SIZE || size > 8192) throw new RangeError(`--sizes: ${size} is outside [${MIN_SIZE}, 8192] (msgmax is 8192 by default)`);
  const pin = list(values.pin, ['cross', 'same', 'none'] as const, '--pin placement')?.[0] ?? (canPin() ? 'cross' : 'none');
  if (pin !== 'none' && !tasksetAvailable()) throw new RangeError('--pin cross and same need taskset (util-linux); use --pin none');
  if (pin === 'cross' && cpus().length < 2) throw new RangeError('--pin cross needs two CPUs; use --pin same or none');
  return {
    options: {
      preset: presetName,
      transports: list<Transport>(values.transports, TRANSPORTS, 'transport') ?? [...TRANSPORTS],
      sizes,
      modes: list<Mode>(values.modes, ['sync', 'async'], 'mode') ?? ['sync', 'async'],
      repeat: integer(values.repeat, preset.repeat, '--repeat', 1, 1000),
      repMs: integer(values['rep-ms'], preset.repMs, '--rep-ms', 1, 60_000),
      rounds: integer(values.rounds, preset.rounds, '--rounds', 1, 100),
      verifyCount: preset.verifyCount,
      pin,
      ...(values['corrupt-at'] === undefined ? {} : { corruptAt: integer(values['corrupt-at'], 0, '--corrupt-at', 0, preset.verifyCount - 1) }),
    },
    json: values.json,
    out: resolve(values.out!),
  };
}

/** Where the driver and the peer run. */
export function cpusFor(pin: Pin): { driver: number | null; peer: number | null } {
  if (pin === 'cross') return { driver: 0, peer: 1 };
  if (pin === 'same') return { driver: 0, peer: 0 };
  return { driver: null, peer: null };
}

/** Results from the figures of every round: medians over every timed repetition, then the ratios. */
export function mergeFigures(figures: PartFigure[]): SysvResult[] {
  const byPart = new Map<string, PartFigure[]>();
  for (const f of figures) {
    const name = partName(f.part);
    byPart.set(name, [...(byPart.get(name) ?? []), f]);
  }
  const results: SysvResult[] = [];
  for (const group of byPart.values()) {
    const { part } = group[0];
    const perRepeat = group.flatMap((f) => f.perRepeat);
    const samples = group.flatMap((f) => f.samples).sort((a, b) => a - b);
    const seconds = group.reduce((n, f) => n + f.cpu.seconds, 0);
    results.push({
      transport: part.transport,
      mode: part.mode,
      messageSize: part.size,
      api: API[part.transport][part.mode] ?? '',
      detail: group[0].detail,
      rttNs: { median: median(perRepeat), p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), min: samples[0] ?? Number.NaN },
      perRepeat,
      repeats: perRepeat.length,
      roundTripsPerRepeat: group[0].roundTripsPerRepeat,
      rounds: group.length,
      perRound: group.map((f) => median(f.perRepeat)),
      cpu: {
        driver: seconds ? group.reduce((n, f) => n + f.cpu.driver, 0) / seconds : 0,
        peer: seconds ? group.reduce((n, f) => n + f.cpu.peer, 0) / seconds : 0,
      },
      verified: {
        roundTrips: group.reduce((n, f) => n + f.verified.roundTrips, 0),
        fullyChecked: group.reduce((n, f) => n + f.verified.fullyChecked, 0),
      },
      vsChannel: null,
      vsUnix: null,
    });
  }
  const sizes = [...new Set(results.map((r) => r.messageSize).filter((s) => s > 0))].sort((a, b) => a - b);
  const anchorSize = sizes.includes(64) ? 64 : (sizes[0] ?? 64);
  for (const r of results) {
    const size = r.messageSize || anchorSize;
    const channel =
      results.find((c) => c.transport === 'channel' && c.messageSize === size && c.mode === r.mode) ??
      results.find((c) => c.transport === 'channel' && c.messageSize === size && c.mode === 'sync');
    const unix = results.find((c) => c.transport === 'unix' && c.messageSize === size);
    r.vsChannel = channel ? r.rttNs.median / channel.rttNs.median : null;
    r.vsUnix = unix ? r.rttNs.median / unix.rttNs.median : null;
  }
  return results;
}

/** Runs the benchmark: one driver process (pinned), which runs its peer (pinned) through every part. */
export async function runSysvBench(options: SysvOptions, onProgress?: (text: string) => void): Promise<SysvOutput> {
  const started = performance.now();
  const host = hostInfo(); // its load average is the one before the run
  const parts: PartSpec[] = planParts(options.transports, options.sizes, options.modes);
  const where = cpusFor(options.pin);
  const spec: DriverSpec = {
    parts,
    repeat: options.repeat,
    repMs: options.repMs,
    rounds: options.rounds,
    verifyCount: options.verifyCount,
    peerCpu: where.peer,
    ...(options.corruptAt === undefined ? {} : { corruptAt: options.corruptAt }),
  };
  const node = [process.execPath, '--import', 'tsx', PROCESS, '--driver', JSON.stringify(spec)];
  const [command, args] = where.driver === null ? [node[0], node.slice(1)] : ['taskset', ['-c', String(where.driver), ...node]];
  const driver = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => driver.on('close', (code) => r(code)));
  const next = lineReader(driver.stdout!, 'the driver');
  const figures: PartFigure[] = [];
  const errors: SysvOutput['errors'] = [];
  let placement: SysvPlacement | null = null;
  for (;;) {
    let event: DriverEvent;
    try {
      event = JSON.parse(await next()) as DriverEvent;
    } catch (error) {
      errors.push({ part: '(driver)', round: -1, message: (error as Error).message });
      break;
    }
    if (event.type === 'done') break;
    if (event.type === 'placement') {
      placement = {
        kind: options.pin,
        tool: options.pin === 'none' ? null : 'taskset',
        driver: { cpu: where.driver, ...event.driver },
        peer: { cpu: where.peer, ...event.peer },
      };
    } else if (event.type === 'figure') {
      figures.push(event.figure);
      onProgress?.(`${partName(event.figure.part)} round ${event.figure.round + 1}: ${fmtNs(median(event.figure.perRepeat))}`);
    } else {
      errors.push({ part: partName(event.part), round: event.round, message: event.message });
      onProgress?.(`${partName(event.part)} round ${event.round + 1}: FAILED ${event.message}`);
    }
  }
  const code = await exited;
  if (code !== 0) errors.push({ part: '(driver)', round: -1, message: `the driver exited with ${code}` });
  return {
    host,
    options: { ...options, node: process.version, loadavgAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
    placement,
    results: mergeFigures(figures),
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}

const NAMES: Record<Transport, string> = {
  sem: 'SemaphoreSet',
  semop: 'semop (C layer)',
  queue: 'MessageQueue',
  msgsnd: 'msgsnd/msgrcv (C layer)',
  channel: 'Channel (futex)',
  unix: 'Unix socket',
};

export function renderSysvText(output: SysvOutput): string {
  const { host: h, options: o, placement: p } = output;
  const where =
    p === null
      ? 'placement unknown'
      : p.kind === 'none'
        ? `unpinned (driver may use CPUs ${p.driver.allowed}, peer ${p.peer.allowed})`
        : `${p.kind}: driver on CPU ${p.driver.cpu}, peer on CPU ${p.peer.cpu} (taskset; allowed: driver ${p.driver.allowed}, peer ${p.peer.allowed})`;
  const lines = [
    `sysv-ipc: ${h.cpus} x ${h.cpuModel}${h.hypervisor ? ` (VM: ${h.hypervisor})` : ''}, Linux ${h.kernel}, Node ${o.node}` +
      `${p && p.peer.node !== o.node ? ` (peer ${p.peer.node})` : ''}; ${where}; load average ${h.loadavg.join(' ')} before, ${o.loadavgAfter.join(' ')} after.`,
    `${o.preset} preset: ${o.repeat} timed repetitions of ~${o.repMs} ms per part and round, ${o.rounds} round(s); ` +
      'round trip = median over the repetitions of their mean; p50/p99 over every timed round trip; x = this / the reference (higher is slower).',
    '',
  ];
  const rows = output.results.map((r) => [
    NAMES[r.transport],
    r.mode,
    r.messageSize ? fmtSize(r.messageSize) : '-',
    fmtNs(r.rttNs.median),
    `${fmtNs(r.rttNs.p50)} / ${fmtNs(r.rttNs.p99)}`,
    fmtRatio(r.vsChannel ?? undefined),
    fmtRatio(r.vsUnix ?? undefined),
    `${Math.round(r.cpu.driver * 100)}% / ${Math.round(r.cpu.peer * 100)}%`,
    `${r.verified.roundTrips} (${r.verified.fullyChecked} byte by byte)`,
  ]);
  lines.push(textTable(['transport', 'mode', 'size', 'round trip', 'p50 / p99', 'x channel', 'x unix', 'CPU driver / peer', 'round trips checked'], rows));
  lines.push('', 'What each is:');
  for (const r of output.results) {
    if (r.messageSize && r.messageSize !== output.results.find((x) => x.transport === r.transport && x.mode === r.mode)!.messageSize) continue;
    lines.push(`  ${NAMES[r.transport]}, ${r.mode}: ${r.api}; ${r.detail}`);
  }
  for (const e of output.errors) lines.push(`FAILED ${e.part}${e.round >= 0 ? ` (round ${e.round + 1})` : ''}: ${e.message}`);
  lines.push('', `${output.seconds.toFixed(1)} s.`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { options, json, out } = sysvOptionsFromArgs(process.argv.slice(2));
  const output = await runSysvBench(options, (text) => process.stderr.write(`sysv-ipc: ${text}\n`));
  const text = renderSysvText(output);
  console.log(text);
  const body = `${JSON.stringify(output, null, 2)}\n`;
  writeFile(join(out, 'sysv-ipc.json'), body);
  writeFile(join(out, 'sysv-ipc.txt'), `${text}\n`);
  if (json) writeFile(resolve(json), body);
  console.log(`results: ${join(out, 'sysv-ipc.json')}, ${join(out, 'sysv-ipc.txt')}${json ? `, ${resolve(json)}` : ''}`);
  if (output.errors.length) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
