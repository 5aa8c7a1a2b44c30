// `npm run bench`: shared memory (the channel) against stdio, pipes, FIFOs, Unix sockets and worker_threads,
// between two real processes: throughput and ping-pong over message sizes, with baselines (Buffer.copy, the
// per-call costs of the C-shaped layer). Prints tables with ratios and targets; writes an HTML report with charts
// to results/. `npm run bench -- --help` for the options.
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import cliProgress from 'cli-progress';
import { ROOT } from './session.js';
import { runSweep, tasksetAvailable, type PinMode, type SweepOptions } from './sweep.js';
import { TRANSPORTS, WAITS, type Mode, type PatternName, type TransportName, type WaitStrategy } from './transports/types.js';
import { renderText } from './report/table.js';
import { DOCS_DIR, writeFile, writeReports } from './report/write.js';
import { MIN_MESSAGE } from './patterns/payload.js';

const HELP = `usage: npm run bench -- [options]

  --quick               64 B and 1 MiB throughput, 64 B ping-pong, 3 repetitions (under a minute)
  --sizes LIST          message sizes, e.g. 64,4K,1M,16M (throughput uses all; ping-pong those <= 64K)
  --transports LIST     ${TRANSPORTS.join(',')} (default: all)
  --patterns LIST       throughput,pingpong (default: both)
  --waits LIST          shm/worker ping-pong wait strategies: ${WAITS.join(',')} (default: all)
  --modes LIST          shm throughput modes: copy,zero-copy (default: both)
  --throughput-wait W   wait strategy of shm and worker throughput: spin, futex or hybrid (default hybrid)
  --repeat N            timed repetitions per figure (default 5; 3 with --quick); the median is reported
  --rep-ms N            target length of one repetition in ms (default 80; 40 with --quick)
  --pin WHERE           cross (default: driver on CPU 0, peer on CPU 1), same (both on CPU 0), none,
                        or a list (same,cross); pinned with taskset (worker threads: sched_setaffinity)
  --json FILE           also write the results as JSON to FILE
  --out DIR             where the HTML report and charts go (default results/)
  --docs                also write docs/bench/throughput.svg, latency.svg and figures.txt (for the README)
  --no-baselines        skip Buffer.copy and the per-call costs
  --help`;

const DEFAULT_THROUGHPUT = [64, 256, 1024, 4096, 16384, 65536, 262144, 1 << 20, 4 << 20, 16 << 20];
const DEFAULT_PINGPONG = [64, 512, 4096, 65536];

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
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new RangeError(`unknown ${what} '${i}' (choose from ${allowed.join(', ')})`);
  return items as T[];
}

export function optionsFromArgs(argv: string[]): { sweep: SweepOptions; json?: string; out: string; docs: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      transports: { type: 'string' },
      patterns: { type: 'string' },
      waits: { type: 'string' },
      modes: { type: 'string' },
      'throughput-wait': { type: 'string' },
      repeat: { type: 'string' },
      'rep-ms': { type: 'string' },
      pin: { type: 'string' },
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
  const quick = values.quick!;
  let throughputSizes = quick ? [64, 1 << 20] : DEFAULT_THROUGHPUT;
  let pingpongSizes = quick ? [64] : DEFAULT_PINGPONG;
  if (values.sizes) {
    const sizes = [...new Set(values.sizes.split(',').map(parseSize))].sort((a, b) => a - b);
    throughputSizes = sizes;
    const small = sizes.filter((s) => s <= 65536);
    pingpongSizes = small.length ? small : sizes;
  }
  const repeat = values.repeat === undefined ? (quick ? 3 : 5) : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) throw new RangeError(`--repeat must be an integer in [1, 1000], got '${values.repeat}'`);
  const repMs = values['rep-ms'] === undefined ? (quick ? 40 : 80) : Number(values['rep-ms']);
  if (!Number.isFinite(repMs) || repMs < 1) throw new RangeError(`--rep-ms must be a number >= 1, got '${values['rep-ms']}'`);
  const canPin = tasksetAvailable() && cpus().length >= 2;
  const pinText = values.pin ?? (canPin ? 'cross' : 'none');
  const pin = list<PinMode>(pinText === 'both' ? 'same,cross' : pinText, ['none', 'same', 'cross'], '--pin placement')!;
  return {
    sweep: {
      transports: list<TransportName>(values.transports, TRANSPORTS, 'transport') ?? [...TRANSPORTS],
      patterns: list<PatternName>(values.patterns, ['throughput', 'pingpong'], 'pattern') ?? ['throughput', 'pingpong'],
      throughputSizes,
      pingpongSizes,
      waits: list<WaitStrategy>(values.waits, WAITS, 'wait strategy') ?? [...WAITS],
      modes: list<Mode>(values.modes, ['copy', 'zero-copy'], 'mode') ?? ['copy', 'zero-copy'],
      throughputWait: list<WaitStrategy>(values['throughput-wait'], WAITS, 'wait strategy')?.[0] ?? 'hybrid',
      repeat,
      repSeconds: repMs / 1000,
      pin,
      baselines: !values['no-baselines'],
      callCostScale: quick ? 0.2 : 1,
    },
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
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: ' {bar} {value}/{total} figures | {duration}s | {label}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { label: 'starting' });
  const output = await runSweep({
    ...sweep,
    onProgress: ({ done, total, label }) => {
      bar.setTotal(total);
      bar.update(done, { label });
    },
  });
  bar.stop();
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
