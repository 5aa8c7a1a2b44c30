// `npm run bench:many`: one server and N clients (N = 1, 2, 4, 8 processes), the library against what Node offers,
// side by side in one run (issue #15):
//
//   fan-in            N senders into one Mailbox, against N Unix sockets into one server (length-prefixed frames)
//                     and child_process IPC (process.send, serialization 'advanced') from N children
//   request/response  each client's requests into the server's Mailbox, the replies through the client's own
//                     Channel; against the same over Unix sockets and process.send; all N clients at once
//   fan-out           one Topic (policy 'block') to N subscribers, against writing the same message to N sockets
//
// at 64 B and 64 KiB. Every message is checked (sequence number and stamps; every byte checksummed in a
// verification repetition). Each N is one group of processes (bench/many/server.ts spawns its N clients:
// bench/many/client.ts); the group runs every part in turn, in alternating rounds. Prints tables and the issue's
// targets; writes results/many-processes.html (charts), results/many-processes.json and --json FILE.
//
//   unshare --ipc --fork npm run bench:many [-- --quick] [--json FILE] [--help]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runEventProcess, type ProcessError } from './child-events.js';
import { median } from './patterns/common.js';
import { progressBar } from './progress.js';
import { writeFile } from './report/write.js';
import { parseSize } from './run.js';
import { ROOT } from './session.js';
import { hostInfo, tasksetAvailable } from './sweep.js';
import { processCommand } from './many/control.js';
import { evaluateManyTargets, renderManyHtml, renderManyText } from './many/report.js';
import { MAX_CLIENTS } from './many/stamps.js';
import {
  APIS,
  KINDS,
  SCENARIOS,
  SCENARIO_KINDS,
  transportName,
  type GroupSpec,
  type Kind,
  type ManyError,
  type ManyOptions,
  type ManyOutput,
  type ManyPlacement,
  type ManyResult,
  type PartFigure,
  type PartSpec,
  type Scenario,
  type ServerEvent,
} from './many/types.js';

export const MANY_PRESETS = {
  default: { what: 'N = 1, 2, 4, 8; 64 B and 64 KiB; 5 repetitions of ~100 ms in 2 alternating rounds (about 3 min)', repeat: 5, repMs: 100, rounds: 2 },
  quick: { what: 'N = 1, 2, 4, 8; 64 B and 64 KiB; 3 repetitions of ~25 ms, one round (under a minute)', repeat: 3, repMs: 25, rounds: 1 },
} as const;

export const MANY_DEFAULTS: ManyOptions = {
  clients: [1, 2, 4, 8],
  sizes: [64, 65536],
  scenarios: [...SCENARIOS],
  kinds: [...KINDS],
  repeat: MANY_PRESETS.default.repeat,
  repSeconds: MANY_PRESETS.default.repMs / 1000,
  rounds: MANY_PRESETS.default.rounds,
  pin: 'cross',
  verifyMessages: 2000,
  preset: 'default',
};

const VERIFICATION =
  "every message: its client's sequence number, the count still to come, a tag, a rotating and a tail stamp, the repetition, and the sender the transport names (a Mailbox's sender id, the connection) checked by its receiver; " +
  'replies: the same, checked by the client; the verification repetition of every part: every byte of every message checksummed on both sides, per client; ' +
  'a Topic subscriber compares every byte of every message where it lies with what the publisher wrote.';

const HELP = `usage: npm run bench:many -- [options]      (run it in a private IPC namespace: unshare --ipc --fork npm run bench:many)

  --quick               ${MANY_PRESETS.quick.what}
                        (default: ${MANY_PRESETS.default.what})
  --clients LIST        numbers of client processes (default 1,2,4,8; at most ${MAX_CLIENTS})
  --sizes LIST          message sizes (default 64,64K)
  --scenarios LIST      ${SCENARIOS.join(',')}
  --transports LIST     ${KINDS.join(',')} (shm: Mailbox, Mailbox + Channel, Topic; fan-out has no ipc-advanced)
  --repeat N            timed repetitions per figure; the median is reported
  --rep-ms N            target length of one repetition in ms
  --rounds N            run every part N times, alternating them; each figure is the median over all rounds
  --pin WHERE           cross (default with taskset and 2+ CPUs: the server on CPU 0, the clients on the other CPUs,
                        round robin), none
  --json FILE           also write the results as JSON to FILE (results/many-processes.json always)
  --out DIR             where many-processes.html and .json go (default results/)
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

function integer(text: string | undefined, fallback: number, what: string, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${what} must be an integer in [1, ${max}], got '${text}'`);
  return n;
}

export function manyOptionsFromArgs(argv: string[]): { options: ManyOptions; json?: string; out: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      clients: { type: 'string' },
      sizes: { type: 'string' },
      scenarios: { type: 'string' },
      transports: { type: 'string' },
      repeat: { type: 'string' },
      'rep-ms': { type: 'string' },
      rounds: { type: 'string' },
      pin: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'results') },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const preset = values.quick ? MANY_PRESETS.quick : MANY_PRESETS.default;
  const clients = values.clients
    ? [...new Set(values.clients.split(',').map((c) => integer(c.trim(), 1, '--clients', MAX_CLIENTS)))].sort((a, b) => a - b)
    : MANY_DEFAULTS.clients;
  const sizes = values.sizes ? [...new Set(values.sizes.split(',').map(parseSize))].sort((a, b) => a - b) : MANY_DEFAULTS.sizes;
  const repMs = values['rep-ms'] === undefined ? preset.repMs : Number(values['rep-ms']);
  if (!Number.isFinite(repMs) || repMs < 1) throw new RangeError(`--rep-ms must be a number >= 1, got '${values['rep-ms']}'`);
  const canPin = tasksetAvailable() && cpus().length >= 2;
  const pin = list(values.pin, ['cross', 'none'] as const, '--pin placement')?.[0] ?? (canPin ? 'cross' : 'none');
  if (pin === 'cross' && !canPin) throw new RangeError('--pin cross needs taskset (util-linux) and two CPUs; use --pin none');
  return {
    options: {
      ...MANY_DEFAULTS,
      clients,
      sizes,
      scenarios: list<Scenario>(values.scenarios, SCENARIOS, 'scenario') ?? [...SCENARIOS],
      kinds: list<Kind>(values.transports, KINDS, 'transport') ?? [...KINDS],
      repeat: integer(values.repeat, preset.repeat, '--repeat', 1000),
      repSeconds: repMs / 1000,
      rounds: integer(values.rounds, preset.rounds, '--rounds', 100),
      pin,
      preset: values.quick ? 'quick' : 'default',
    },
    json: values.json,
    out: resolve(values.out!),
  };
}

/** The parts of one group: every scenario x size x the transports it compares (alternating within a size). */
export function planParts(options: ManyOptions): PartSpec[] {
  const parts: PartSpec[] = [];
  for (const scenario of options.scenarios)
    for (const size of options.sizes) for (const kind of SCENARIO_KINDS[scenario]) if (options.kinds.includes(kind)) parts.push({ scenario, kind, size });
  return parts;
}

/** Where the group's processes run: the server on CPU 0, the clients round robin on the others. */
export function groupCpus(pin: ManyOptions['pin'], clients: number, cpuCount = cpus().length): { server: number | null; clients: Array<number | null> } {
  if (pin === 'none' || cpuCount < 2) return { server: null, clients: Array(clients).fill(null) };
  return { server: 0, clients: Array.from({ length: clients }, (_, i) => 1 + (i % (cpuCount - 1))) };
}

/** One result from a part's figures over the rounds: the median over every timed repetition of every round. */
export function mergeFigures(figures: PartFigure[], clients: number, placement: ManyPlacement): ManyResult {
  const { part } = figures[0];
  const base = {
    scenario: part.scenario,
    transport: transportName(part.scenario, part.kind),
    kind: part.kind,
    clients,
    messageSize: part.size,
  };
  const load = (k: keyof PartFigure['load']) => figures.reduce((n, f) => n + f.load[k], 0);
  const seconds = load('seconds');
  const messages = load('messages');
  const rest = {
    messagesPerRepeat: median(figures.map((f) => f.messagesPerRepeat)),
    verified: {
      messages: figures.reduce((n, f) => n + f.verified.messages, 0),
      checksummed: figures.reduce((n, f) => n + f.verified.checksummed, 0),
    },
    cpu: { server: seconds ? load('serverCpuSeconds') / seconds : 0, clients: seconds ? load('clientsCpuSeconds') / seconds : 0 },
    futexPerMessage: { server: messages ? load('serverFutex') / messages : 0, clients: messages ? load('clientsFutex') / messages : 0 },
    api: APIS[part.scenario][part.kind] ?? '',
    detail: figures[0].detail,
    placement,
    node: process.version,
    ...(figures.length > 1 ? { rounds: figures.length } : {}),
  };
  if (part.scenario === 'request-response') {
    const all = figures.flatMap((f) => f.rtt);
    return {
      ...base,
      rttNs: { p50: median(all.map((r) => r.p50)), p99: median(all.map((r) => r.p99)), mean: median(all.map((r) => r.mean)) },
      perRepeat: all.map((r) => r.p50),
      repeats: all.length,
      ...rest,
      ...(figures.length > 1 ? { perRound: figures.map((f) => median(f.rtt.map((r) => r.p50))) } : {}),
    };
  }
  const rates = figures.flatMap((f) => f.rates);
  const messagesPerSec = median(rates);
  return {
    ...base,
    messagesPerSec,
    bytesPerSec: messagesPerSec * part.size,
    ...(part.scenario === 'fan-out' ? { deliveredPerSec: messagesPerSec * clients } : {}),
    perRepeat: rates,
    repeats: rates.length,
    ...rest,
    ...(figures.length > 1 ? { perRound: figures.map((f) => median(f.rates)) } : {}),
  };
}

/** Runs one group (a server process and its N clients) to its end; its events go to `onEvent`. */
function runGroup(spec: GroupSpec, timeoutMs: number, onEvent: (e: ServerEvent) => void): Promise<{ error?: ProcessError }> {
  const [cmd, args] = processCommand('--server', spec, spec.serverCpu);
  return runEventProcess<ServerEvent>(cmd, args, { onEvent, timeoutMs, what: 'the group', who: 'the server', stderrLines: 8 });
}

export async function runMany(options: ManyOptions): Promise<ManyOutput> {
  const started = performance.now();
  for (const n of options.clients)
    if (!Number.isInteger(n) || n < 1 || n > MAX_CLIENTS) throw new RangeError(`client counts must be integers in [1, ${MAX_CLIENTS}], got ${n}`);
  const host = hostInfo();
  if (options.pin === 'cross' && (!host.tasksetAvailable || host.cpus < 2)) throw new Error('--pin cross needs taskset (util-linux) and two CPUs');
  const parts = planParts(options);
  const dir = mkdtempSync(join(tmpdir(), 'sysv-shm-many-'));
  const results: ManyResult[] = [];
  const errors: ManyError[] = [];
  const total = options.clients.length * parts.length * options.rounds;
  let done = 0;
  try {
    for (const n of options.clients) {
      const where = groupCpus(options.pin, n, host.cpus);
      const spec: GroupSpec = {
        clients: n,
        parts,
        repeat: options.repeat,
        repSeconds: options.repSeconds,
        rounds: options.rounds,
        verifyMessages: options.verifyMessages,
        serverCpu: where.server,
        clientCpus: where.clients,
        tmpdir: dir,
        ...(options.corrupt ? { corrupt: options.corrupt } : {}),
      };
      const placement: ManyPlacement = {
        kind: options.pin === 'cross' ? 'cross-core' : 'unpinned',
        server: where.server,
        clients: where.clients,
        tool: options.pin === 'cross' ? 'taskset' : null,
        allowed: { server: '?', clients: [] },
      };
      const figures = new Map<string, PartFigure[]>();
      const failed = new Set<string>();
      const key = (p: PartSpec) => `${p.scenario}/${p.kind}/${p.size}`;
      const label = (p: PartSpec) => `N=${n} ${transportName(p.scenario, p.kind)} ${p.scenario} ${p.size} B`;
      let seen = 0;
      const budget = options.groupTimeoutMs ?? 120_000 + parts.length * options.rounds * (8_000 + (options.repeat + 2) * options.repSeconds * 6_000);
      const outcome = await runGroup(spec, budget, (event) => {
        if (event.type === 'hello') placement.allowed = { server: event.server.allowed, clients: event.clients.map((c) => c.allowed) };
        else if (event.type === 'progress') options.onProgress?.({ done, total, label: event.label });
        else if (event.type === 'figure') {
          const k = key(event.figure.part);
          figures.set(k, [...(figures.get(k) ?? []), event.figure]);
          seen++;
          options.onProgress?.({ done: ++done, total, label: label(event.figure.part) });
        } else if (event.type === 'part-error') {
          failed.add(key(event.part));
          seen++;
          errors.push({
            scenario: event.part.scenario,
            transport: transportName(event.part.scenario, event.part.kind),
            clients: n,
            messageSize: event.part.size,
            name: event.name,
            message: event.message,
          });
          options.onProgress?.({ done: ++done, total, label: label(event.part) });
        }
      });
      done += parts.length * options.rounds - seen;
      if (outcome.error) errors.push({ clients: n, ...outcome.error });
      // A part that failed in any round reports nothing: its other rounds would not be side by side.
      for (const part of parts) {
        const f = figures.get(key(part));
        if (f?.length && !failed.has(key(part))) results.push(mergeFigures(f, n, placement));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const apis: Record<string, string> = {};
  for (const s of options.scenarios) for (const k of SCENARIO_KINDS[s]) if (options.kinds.includes(k)) apis[`${transportName(s, k)} (${s})`] = APIS[s][k] ?? '';
  return {
    host,
    options: {
      preset: options.preset,
      clients: options.clients,
      sizes: options.sizes,
      scenarios: options.scenarios,
      kinds: options.kinds,
      repeat: options.repeat,
      repSeconds: options.repSeconds,
      rounds: options.rounds,
      pin: options.pin,
      node: process.version,
      verification: VERIFICATION,
      apis,
      loadavgAfter: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    results,
    targets: evaluateManyTargets(results),
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Writes the JSON and the HTML report of a run; returns the terminal report. */
export function writeManyReports(output: ManyOutput, out: string, json?: string): string {
  const text = renderManyText(output);
  const jsonText = `${JSON.stringify(output, null, 2)}\n`;
  writeFile(join(out, 'many-processes.json'), jsonText);
  if (json) writeFile(resolve(json), jsonText);
  writeFile(join(out, 'many-processes.html'), renderManyHtml(output, text));
  return text;
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof manyOptionsFromArgs>;
  try {
    parsed = manyOptionsFromArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`bench:many: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  const { options, json, out } = parsed;
  const progress = progressBar('parts');
  const output = await runMany({ ...options, onProgress: progress.onProgress });
  progress.stop();
  const text = writeManyReports(output, out, json);
  console.log(text);
  console.log(`\nreport: ${join(out, 'many-processes.html')}; JSON: ${join(out, 'many-processes.json')}${json ? `, ${resolve(json)}` : ''}`);
  if (output.errors.length) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
