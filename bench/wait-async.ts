// waitAsync with many pending waits: what they cost the rest of the process, and how fast a wake from another
// process gets through. For each engine and each N, a fresh process leaves N waitAsync calls pending (on N distinct
// words, or with --same on one word) and measures:
//
//   (a) fs.readFile of a small file, p50/p99, with the N waits pending and, in the same process, before any wait;
//   (b) the time from a FUTEX_WAKE in another process (a peer that stamps process.hrtime.bigint(), CLOCK_MONOTONIC
//       for every process of the machine, increments one word at random and notifies it) to the resolution of the
//       waitAsync promise on that word, p50/p99, with max(N, 1) waits pending;
//   (c) the CPU time of the process over idle seconds with the N waits pending, and before any wait (after a few
//       seconds to settle).
//
// Engines: waitv (the word watcher on futex_waitv: lib/sync/word-watcher.ts), fallback (the watcher forced to its
// one-FUTEX_WAIT-per-word fallback), before (what waitAsync did until the watcher: one koffi async FUTEX_WAIT per
// pending wait on libuv's pool, in 500 ms slices; rebuilt here from lib/internal.ts's libc handle).
//
//   unshare --ipc --fork npx tsx bench/wait-async.ts [--counts 0,8,100,1000] [--engines waitv,fallback,before]
//       [--same] [--samples 200] [--wakes 200] [--idle-s 10] [--settle-s 5] [--node-args=--no-memory-reducer] [--json FILE]
//
// On Node 20 and 22 the idle figures are noisy: V8's memory reducer runs major collections (a few ms of CPU each) in
// the first seconds after activity stops, whenever it stops; --node-args=--no-memory-reducer takes them out.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { IPC_CREAT, IPC_PRIVATE, IPC_RMID, getAbi, notify, shmat, shmctl, shmget, waitAsync } from '../lib/index.js';
import { configureWordWatcher, koffi, libcHandle, wordWatcherStats } from '../lib/internal.js';
import { ROOT, lineReader } from './session.js';
import { percentile } from './patterns/common.js';
import { fmtNs, textTable } from './report/format.js';
import { hostInfo } from './sweep.js';
import { writeFile } from './report/write.js';

const SELF = fileURLToPath(import.meta.url);
type Engine = 'waitv' | 'fallback' | 'before';

interface Options {
  counts: number[];
  engines: Engine[];
  same: boolean;
  samples: number;
  wakes: number;
  idleSeconds: number;
  /** Seconds left to settle before each idle measurement (V8's memory reducer collects in the first seconds of idleness). */
  settleSeconds: number;
  /** Extra Node options of the measured processes (e.g. --no-memory-reducer). */
  nodeArgs: string[];
  /** The longest a phase may take (a starved pool makes readFile and wakes slow): samples beyond are cut. */
  budgetMs: number;
}

interface Spec {
  engine: Engine;
  n: number;
  options: Options;
}

interface Latency {
  samples: number;
  censored: number;
  p50: number;
  p99: number;
}

interface Figure {
  engine: Engine;
  n: number;
  mode: string;
  readFile: { none: Latency; pending: Latency };
  wake: Latency & { pending: number };
  idle: { none: number; pending: number };
  /** Waits the engine refused (koffi's limit of 256 async calls, for `before`). */
  refused: number;
  watcher?: unknown;
}

const DEFAULTS: Options = {
  counts: [0, 8, 100, 1000],
  engines: ['waitv', 'fallback', 'before'],
  same: false,
  samples: 200,
  wakes: 200,
  idleSeconds: 10,
  settleSeconds: 5,
  nodeArgs: [],
  budgetMs: 10_000,
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function latency(valuesNs: number[], censored = 0): Latency {
  const s = [...valuesNs].sort((a, b) => a - b);
  return { samples: s.length, censored, p50: percentile(s, 0.5), p99: percentile(s, 0.99) };
}

// --- the engine of before the watcher ----------------------------------------------------------------------------

/** waitAsync as it was: one koffi async FUTEX_WAIT per pending wait, in slices of 500 ms, on libuv's pool. */
function beforeEngine() {
  const abi = getAbi();
  const nr = abi.pointerSize === 4 && abi.time64 && abi.syscalls.futex_time64 !== undefined ? abi.syscalls.futex_time64 : abi.syscalls.futex;
  const fn = libcHandle().func('long syscall(long nr, void *uaddr, long op, long val, void *timeout, void *uaddr2, long val3)');
  const slice = abi.encodeTimespec(500);
  const { EAGAIN, ETIMEDOUT, EINTR } = abi.errno;
  let stop = false;
  const wait = (address: bigint, expected: number): Promise<string> =>
    new Promise((resolvePromise, reject) => {
      const attempt = () => {
        try {
          fn.async(nr, address, abi.constants.FUTEX_WAIT, expected, slice, null, 0, (err: unknown, ret: number | bigint) => {
            if (err) return reject(err);
            const r = Number(ret) === -1 ? -koffi().errno() : Number(ret);
            if (r >= 0) return resolvePromise('ok');
            if (-r === EAGAIN) return resolvePromise('not-equal');
            if (stop) return resolvePromise('stopped');
            if (-r === ETIMEDOUT || -r === EINTR) return attempt();
            reject(new Error(`futex: errno ${-r}`));
          });
        } catch (error) {
          reject(error); // koffi: "Too many asynchronous calls are running" (more than 256)
        }
      };
      attempt();
    });
  return { wait, stop: () => void (stop = true) };
}

// --- one process per (engine, N) ---------------------------------------------------------------------------------

async function readFileSamples(count: number, budgetMs: number): Promise<Latency> {
  const file = resolve(ROOT, 'package.json');
  const ns: number[] = [];
  let censored = 0;
  const end = performance.now() + budgetMs;
  for (let i = 0; i < count && performance.now() < end; i++) {
    const t0 = process.hrtime.bigint();
    const done = await Promise.race([readFile(file).then(() => true), sleep(Math.max(1, end - performance.now())).then(() => false)]);
    if (!done) censored++;
    ns.push(Number(process.hrtime.bigint() - t0));
  }
  return latency(ns, censored);
}

async function idleMsPerSecond(seconds: number, settleSeconds: number): Promise<number> {
  await sleep(settleSeconds * 1000);
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  await sleep(seconds * 1000);
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / 1000 / ((performance.now() - t0) / 1000);
}

async function consumerMain(spec: Spec): Promise<void> {
  const { engine, n, options } = spec;
  if (engine === 'fallback') configureWordWatcher({ engine: 'fallback' });
  const words = Math.max(n, 1);
  // Words first, then one 8-byte timestamp per word (the peer's send time).
  const stampsAt = Math.ceil((words * 4) / 8) * 8;
  const id = shmget(IPC_PRIVATE, stampsAt + words * 8, IPC_CREAT | 0o600);
  const att = shmat(id);
  shmctl(id, IPC_RMID); // gone once this process and the peer have detached
  const view = new Int32Array(att.buffer, 0, words);
  const stamps = new BigInt64Array(att.buffer, stampsAt, words);
  const wordOf = (i: number) => (options.same ? 0 : i);
  const before = engine === 'before' ? beforeEngine() : undefined;
  const controller = new AbortController();
  let refused = 0;
  /** One pending wait on word i, for the current value; resolves with the time it ended. */
  const arm = (i: number): Promise<bigint | null> => {
    const w = wordOf(i);
    const value = Atomics.load(view, w);
    const p = before
      ? before.wait(att.address + BigInt(w * 4), value)
      : waitAsync(view, w, value, undefined, { spin: 0, signal: controller.signal }).then((r) => r as string);
    return p.then(
      () => process.hrtime.bigint(),
      () => {
        refused++;
        return null;
      },
    );
  };

  const readNone = await readFileSamples(options.samples, options.budgetMs);
  const idleNone = await idleMsPerSecond(options.idleSeconds, options.settleSeconds);

  // (b) wakes: keep max(N, 1) waits pending, each re-armed once it resolved; a peer wakes one at random.
  const wakeNs: number[] = [];
  let stopped = false;
  const loop = async (i: number) => {
    while (!stopped) {
      const at = await arm(i);
      if (at === null || stopped) return;
      const stamp = Atomics.load(stamps, wordOf(i));
      if (stamp !== 0n && (!options.same || i === 0)) {
        wakeNs.push(Number(at - stamp));
        Atomics.store(stamps, wordOf(i), 0n);
      }
    }
  };
  for (let i = 0; i < words; i++) void loop(i);
  await sleep(200);
  const pendingReads = n === 0 ? readNone : await readFileSamples(options.samples, options.budgetMs);
  const idlePending = n === 0 ? idleNone : await idleMsPerSecond(options.idleSeconds, options.settleSeconds);
  const watcher = engine === 'before' ? undefined : wordWatcherStats();

  const peer = spawn(
    process.execPath,
    ['--import', 'tsx', SELF, '--peer', JSON.stringify({ id, words: options.same ? 1 : words, wakes: options.wakes, stampsAt })],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const next = lineReader(peer.stdout!, 'the peer');
  const done = await Promise.race([next(), sleep(options.budgetMs + options.wakes * 20).then(() => `done ${options.wakes}`)]);
  await sleep(100);
  const missing = Math.max(0, Number(done.split(' ')[1]) - wakeNs.length);
  stopped = true;
  controller.abort();
  before?.stop();
  if (peer.exitCode === null) peer.kill('SIGKILL');

  const figure: Figure = {
    engine,
    n,
    mode: watcher ? (watcher as { mode: string }).mode : 'pool per wait',
    readFile: { none: readNone, pending: pendingReads },
    wake: { ...latency([...wakeNs, ...Array<number>(missing).fill(Infinity)], missing), pending: n === 0 ? 1 : n },
    idle: { none: idleNone, pending: idlePending },
    refused,
    watcher,
  };
  process.stdout.write(`${JSON.stringify(figure)}\n`);
  process.exit(0);
}

async function peerMain(spec: { id: number; words: number; wakes: number; stampsAt: number }): Promise<void> {
  const att = shmat(spec.id);
  const view = new Int32Array(att.buffer, 0, spec.words);
  const stamps = new BigInt64Array(att.buffer, spec.stampsAt, spec.words);
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let sent = 0;
  for (let i = 0; i < spec.wakes; i++) {
    await sleep(2 + random() * 8);
    const w = Math.floor(random() * spec.words);
    if (Atomics.load(stamps, w) !== 0n) continue; // the last wake there was not taken yet: this one would not count
    Atomics.store(stamps, w, process.hrtime.bigint());
    Atomics.add(view, w, 1);
    notify(view, w);
    sent++;
  }
  console.log(`done ${sent}`);
}

// --- driver -------------------------------------------------------------------------------------------------------

function runConsumer(spec: Spec): Promise<Figure> {
  const child = spawn(process.execPath, [...spec.options.nodeArgs, '--import', 'tsx', SELF, '--consumer', JSON.stringify(spec)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const next = lineReader(child.stdout!, `the consumer (${spec.engine}, N = ${spec.n})`);
  return next().then((line) => JSON.parse(line) as Figure);
}

const ms = (l: Latency) => `${fmtNs(l.p50)} / ${Number.isFinite(l.p99) ? fmtNs(l.p99) : 'missing'}${l.censored ? ` (${l.censored} of ${l.samples} cut)` : ''}`;

function render(figures: Figure[], options: Options): string {
  const h = hostInfo();
  const lines = [
    `wait-async: ${h.cpus} x ${h.cpuModel}${h.hypervisor ? ` (VM: ${h.hypervisor})` : ''}, Linux ${h.kernel}, Node ${h.node}; ` +
      `UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}; load average ${h.loadavg.join(' ')}; ` +
      `N waits on ${options.same ? 'one word' : 'N distinct words'}; ${options.samples} readFile samples, ${options.wakes} wakes, ${options.idleSeconds} s idle ` +
      `after ${options.settleSeconds} s to settle${options.nodeArgs.length ? `; node ${options.nodeArgs.join(' ')}` : ''}.`,
    '',
    textTable(
      ['engine', 'N', 'readFile p50 / p99, no wait', 'with N pending', 'wake p50 / p99 (pending)', 'idle CPU ms/s: none / N', 'refused'],
      figures.map((f) => [
        `${f.engine}${f.engine !== 'before' && f.mode !== f.engine ? ` (${f.mode})` : ''}`,
        String(f.n),
        ms(f.readFile.none),
        ms(f.readFile.pending),
        `${ms(f.wake)} (${f.wake.pending})`,
        `${f.idle.none.toFixed(2)} / ${f.idle.pending.toFixed(2)}`,
        f.refused ? String(f.refused) : '',
      ]),
    ),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      counts: { type: 'string' },
      engines: { type: 'string' },
      same: { type: 'boolean', default: false },
      samples: { type: 'string' },
      wakes: { type: 'string' },
      'idle-s': { type: 'string' },
      'settle-s': { type: 'string' },
      'node-args': { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const options: Options = {
    ...DEFAULTS,
    counts: values.counts ? values.counts.split(',').map(Number) : DEFAULTS.counts,
    engines: values.engines ? (values.engines.split(',') as Engine[]) : DEFAULTS.engines,
    same: values.same!,
    samples: values.samples ? Number(values.samples) : DEFAULTS.samples,
    wakes: values.wakes ? Number(values.wakes) : DEFAULTS.wakes,
    idleSeconds: values['idle-s'] ? Number(values['idle-s']) : DEFAULTS.idleSeconds,
    settleSeconds: values['settle-s'] ? Number(values['settle-s']) : DEFAULTS.settleSeconds,
    nodeArgs: values['node-args'] ? values['node-args'].split(/\s+/).filter(Boolean) : [],
  };
  const figures: Figure[] = [];
  const failures: string[] = [];
  for (const n of options.counts) {
    for (const engine of options.engines) {
      process.stderr.write(`wait-async: ${engine}, N = ${n}\n`);
      try {
        figures.push(await runConsumer({ engine, n, options }));
      } catch (error) {
        failures.push(`${engine}, N = ${n}: ${(error as Error).message}`);
      }
    }
  }
  console.log(render(figures, options));
  for (const f of failures) console.log(`FAILED ${f}`);
  if (values.json) {
    writeFile(resolve(values.json), `${JSON.stringify({ host: hostInfo(), options, figures }, null, 2)}\n`);
    console.log(`JSON: ${resolve(values.json)}`);
  }
}

const role = process.argv[2];
if (process.argv[1] === SELF && role === '--consumer') await consumerMain(JSON.parse(process.argv[3]) as Spec);
else if (process.argv[1] === SELF && role === '--peer') await peerMain(JSON.parse(process.argv[3]));
else if (process.argv[1] && resolve(process.argv[1]) === SELF) await main();
