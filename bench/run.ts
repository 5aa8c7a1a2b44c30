// `npm run bench`: the one benchmark harness. Shared memory (the channel) against stdio, pipes, FIFOs, Unix sockets
// and worker_threads, and against its anchors in C (the channel's ring protocol, a bare ping-pong) and the bare
// floor in JavaScript, between two real processes: throughput and ping-pong over message sizes, with baselines
// (Buffer.copy, the per-call costs of the C-shaped layer). Transports, patterns, modes, waits, sizes and
// placements are selectable; presets bundle them. Prints tables with ratios and targets; writes an HTML report
// with charts to results/. `npm run bench -- --help` for the options.
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { progressBar } from './progress.js';
import { ROOT } from './session.js';
import { runSweep, tasksetAvailable, type PinMode, type SweepOptions } from './sweep.js';
import {
  BLOCKING_WAITS,
  CAPABILITIES,
  MODES,
  PATTERNS,
  TRANSPORTS,
  WAITS,
  type Mode,
  type PatternName,
  type TransportName,
  type WaitStrategy,
} from './transports/types.js';
import { renderText } from './report/table.js';
import { DOCS_DIR, writeFile, writeReports } from './report/write.js';
import { MIN_MESSAGE } from './patterns/payload.js';

const DEFAULT_THROUGHPUT = [64, 256, 1024, 4096, 16384, 65536, 262144, 1 << 20, 4 << 20, 16 << 20];
const DEFAULT_PINGPONG = [64, 512, 4096, 65536];

export interface Preset {
  what: string;
  transports: readonly TransportName[];
  patterns: readonly PatternName[];
  throughputSizes: number[];
  pingpongSizes: number[];
  modes: readonly Mode[];
  waits: readonly WaitStrategy[];
  repeat: number;
  repMs: number;
  rounds: number;
  baselines: boolean;
  callCostScale: number;
}

const EVERYTHING = { transports: TRANSPORTS, patterns: PATTERNS, modes: ['copy', 'zero-copy'] as Mode[], waits: WAITS, rounds: 1, baselines: true };
const CHANNEL_AND_ANCHORS: TransportName[] = ['shm', 'c-ring', 'c-bare', 'js-bare'];
/** The channel's async calls against what Node itself offers between two processes. */
const ASYNC_AND_NODE: TransportName[] = ['shm', 'unix', 'stdio', 'ipc-advanced', 'ipc-json'];

export const PRESETS = {
  default: {
    ...EVERYTHING,
    what: 'every transport, throughput 64 B to 16 MiB, ping-pong 64 B to 64 KiB, 5 repetitions of ~80 ms (about 3 min)',
    throughputSizes: DEFAULT_THROUGHPUT,
    pingpongSizes: DEFAULT_PINGPONG,
    repeat: 5,
    repMs: 80,
    callCostScale: 1,
  },
  quick: {
    ...EVERYTHING,
    what: 'every transport, throughput 64 B and 1 MiB, ping-pong 64 B, 3 repetitions of ~40 ms (about a minute)',
    throughputSizes: [64, 1 << 20],
    pingpongSizes: [64],
    repeat: 3,
    repMs: 40,
    callCostScale: 0.2,
  },
  channel: {
    ...EVERYTHING,
    what: 'the channel against its anchors (shm, c-ring, c-bare, js-bare): throughput 64 B to 16 MiB in copy, zero-copy and copy-alloc, ping-pong 64 B with every wait (async too), 3 alternating rounds (2-3 min)',
    transports: CHANNEL_AND_ANCHORS,
    modes: MODES,
    throughputSizes: [64, 1024, 16384, 65536, 262144, 1 << 20, 4 << 20, 16 << 20],
    pingpongSizes: [64],
    repeat: 3,
    repMs: 40,
    rounds: 3,
    callCostScale: 0.2,
  },
  floor: {
    ...EVERYTHING,
    what: '64-byte ping-pong of the channel against the C ring, the C floor and the JS floor, spin and futex, 5 alternating rounds (about a minute)',
    transports: CHANNEL_AND_ANCHORS,
    patterns: ['pingpong'],
    waits: ['spin', 'futex'],
    throughputSizes: [],
    pingpongSizes: [64],
    repeat: 3,
    repMs: 60,
    rounds: 5,
    baselines: false,
    callCostScale: 0.2,
  },
  async: {
    ...EVERYTHING,
    what: "the channel's async calls (and its default wait, hybrid) against a Unix socket, stdio and process.send (advanced, json): throughput 64 B to 1 MiB, ping-pong 64 B, 3 alternating rounds (about 2 min)",
    transports: ASYNC_AND_NODE,
    modes: ['copy'],
    waits: ['hybrid', 'async'],
    throughputSizes: [64, 4096, 65536, 1 << 20],
    pingpongSizes: [64],
    repeat: 3,
    repMs: 60,
    rounds: 3,
    baselines: false,
    callCostScale: 0.2,
  },
} satisfies Record<string, Preset>;
export type PresetName = keyof typeof PRESETS;

const HELP = `usage: npm run bench -- [options]      (run it in a private IPC namespace: unshare --ipc --fork npm run bench)

  --preset NAME         a set of defaults, which the options below change:
${Object.entries(PRESETS)
  .map(([name, p]) => `                          ${name.padEnd(8)} ${p.what}`)
  .join('\n')}
  --quick               the same as --preset quick
  --transports LIST     from:
${TRANSPORTS.map((t) => `                          ${t.padEnd(12)} ${CAPABILITIES[t].what}${CAPABILITIES[t].patterns.length < PATTERNS.length ? ` (${CAPABILITIES[t].patterns.join(', ')} only)` : ''}${CAPABILITIES[t].maxSize ? ` (messages up to ${CAPABILITIES[t].maxSize! >> 20} MiB)` : ''}`).join('\n')}
  --patterns LIST       throughput,pingpong
  --sizes LIST          message sizes, e.g. 64,4K,1M,16M (throughput uses all; ping-pong those <= 64K)
  --modes LIST          throughput modes of shm and c-ring: ${MODES.join(',')} (copy-alloc: shm only; default copy,zero-copy)
  --waits LIST          ping-pong wait strategies of shm, c-ring and worker: ${WAITS.join(',')} (c-bare: spin,futex; js-bare: spin);
                        async (shm only): both ends use sendAsync/receiveAsync (for await), in ping-pong and throughput
  --throughput-wait W   wait strategy of throughput for the transports that wait: ${BLOCKING_WAITS.join(', ')} (default hybrid;
                        shm's async throughput comes with --waits async)
  --repeat N            timed repetitions per figure; the median is reported
  --rep-ms N            target length of one repetition in ms
  --rounds N            run every session N times, alternating them; each figure is the median over all rounds
  --pin WHERE           cross (default: driver on CPU 0, peer on CPU 1), same (both on CPU 0), none,
                        or a list (same,cross); pinned with taskset (worker threads: sched_setaffinity)
  --node PATH           the Node binary that runs the JavaScript ends (default: this one)
  --json FILE           also write the results as JSON to FILE
  --out DIR             where the HTML report and charts go (default results/)
  --docs                also write docs/bench/throughput.svg, latency.svg and figures.txt (for the README)
  --no-baselines        skip Buffer.copy and the per-call costs
  --help`;

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gib)?$/i.exec(text.trim());
  if (!m) throw new RangeError(`not a size: '${text}' (examples: 64, 4K, 1M)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const n = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : 1);
  if (!Number.isInteger(n) || n < MIN_MESSAGE) throw new RangeError(`message sizes must be whole numbers of bytes >= ${MIN_MESSAGE}: '${text}'`);
  return n;
}

function list<T extends string>(text: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new RangeError(`unknown ${what} '${i}' (choose from ${allowed.join(', ')})`);
  return items as T[];
}

function integer(text: string | undefined, fallback: number, what: string, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${what} must be an integer in [1, ${max}], got '${text}'`);
  return n;
}

export function optionsFromArgs(argv: string[]): { sweep: SweepOptions; preset: PresetName; json?: string; out: string; docs: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      transports: { type: 'string' },
      patterns: { type: 'string' },
      waits: { type: 'string' },
      modes: { type: 'string' },
      'throughput-wait': { type: 'string' },
      repeat: { type: 'string' },
      'rep-ms': { type: 'string' },
      rounds: { type: 'string' },
      pin: { type: 'string' },
      node: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'results') },
      docs: { type: 'boolean', default: false },
      'no-baselines': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (values.quick && values.preset !== undefined && values.preset !== 'quick')
    throw new RangeError(`--quick and --preset ${values.preset} contradict each other`);
  const presetName = list<PresetName>(values.preset ?? (values.quick ? 'quick' : 'default'), Object.keys(PRESETS) as PresetName[], 'preset')![0];
  const preset: Preset = PRESETS[presetName];
  let throughputSizes = preset.throughputSizes;
  let pingpongSizes = preset.pingpongSizes;
  if (values.sizes) {
    const sizes = [...new Set(values.sizes.split(',').map(parseSize))].sort((a, b) => a - b);
    throughputSizes = sizes;
    const small = sizes.filter((s) => s <= 65536);
    pingpongSizes = small.length ? small : sizes;
  }
  const repeat = integer(values.repeat, preset.repeat, '--repeat', 1000);
  const repMs = values['rep-ms'] === undefined ? preset.repMs : Number(values['rep-ms']);
  if (!Number.isFinite(repMs) || repMs < 1) throw new RangeError(`--rep-ms must be a number >= 1, got '${values['rep-ms']}'`);
  const canPin = tasksetAvailable() && cpus().length >= 2;
  const pinText = values.pin ?? (canPin ? 'cross' : 'none');
  const pin = list<PinMode>(pinText === 'both' ? 'same,cross' : pinText, ['none', 'same', 'cross'], '--pin placement')!;
  return {
    sweep: {
      transports: list<TransportName>(values.transports, TRANSPORTS, 'transport') ?? [...preset.transports],
      patterns: list<PatternName>(values.patterns, PATTERNS, 'pattern') ?? [...preset.patterns],
      throughputSizes,
      pingpongSizes,
      waits: list<WaitStrategy>(values.waits, WAITS, 'wait strategy') ?? [...preset.waits],
      modes: list<Mode>(values.modes, MODES, 'mode') ?? [...preset.modes],
      throughputWait: list<WaitStrategy>(values['throughput-wait'], BLOCKING_WAITS, '--throughput-wait strategy')?.[0] ?? 'hybrid',
      repeat,
      repSeconds: repMs / 1000,
      rounds: integer(values.rounds, preset.rounds, '--rounds', 100),
      pin,
      ...(values.node ? { node: resolve(values.node) } : {}),
      baselines: preset.baselines && !values['no-baselines'],
      callCostScale: preset.callCostScale,
      preset: presetName,
    },
    preset: presetName,
    json: values.json,
    out: resolve(values.out!),
    docs: values.docs!,
  };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof optionsFromArgs>;
  try {
    parsed = optionsFromArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  const { sweep, json, out, docs } = parsed;
  const progress = progressBar('figures');
  const output = await runSweep({ ...sweep, onProgress: progress.onProgress });
  progress.stop();
  const text = renderText(output);
  console.log(text);
  const jsonText = `${JSON.stringify(output, null, 2)}\n`;
  writeFile(join(out, 'results.json'), jsonText);
  if (json) writeFile(resolve(json), jsonText);
  writeReports(output, text, out, docs);
  console.log(`\nreport: ${join(out, 'report.html')}${json ? `; JSON: ${resolve(json)}` : ''}${docs ? `; charts for the README: ${DOCS_DIR}` : ''}`);
  if (output.errors.length) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
