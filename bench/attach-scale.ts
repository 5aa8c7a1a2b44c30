// Attach and detach at scale: what shmat/shmdt cost through the library against a native addon and plain C,
// measured side by side in one run.
//
//   npx tsx bench/attach-scale.ts [--quick] [--parts scale,cycles,breakdown] [--rounds N] [--cpu N|none]
//                                 [--levels 10,1000,10000,100000] [--counts 100,3000,100000] [--json FILE]
//                                 [--no-shm-typed-array] [--profile VARIANT[:COUNT[:WARMUP]]]
//
// Run it inside a private IPC namespace (`unshare --ipc --fork npx tsx bench/attach-scale.ts`) so that nothing
// it does is seen by other programs; it removes the segments it creates.
//
// 1. scale: the cost of one shmat(id) + shmdt(a) of an existing 4 KiB segment through the C-shaped layer, with
//    10 .. 100,000 other attachments alive in the same process (made first with the library's shmat: they are
//    in its ledger, lib/c/address-space.ts). After 3,000 untimed cycles, each cycle is timed alone; median and
//    p90, and the process's CPU time per cycle. Beside it, in the same process and alternating with it, the
//    native addon's plain cycle; and the C program's with as many attachments of its own. 100,000 attachments
//    are 100,000 mappings: above the default vm.max_map_count (65530), so the run raises it when it is root and
//    restores it at the end, or skips that level and says why. No other limit applies (shmat takes no file
//    descriptor; RLIMIT_AS is printed).
// 2. cycles: attach, touch, detach repeated 100, 3,000 and 100,000 times in a fresh process each (one
//    untimed cycle first loads libc and koffi): the Segment API (`segment.attach()`, `bytes[0] = 1`,
//    `detach()`, on one Segment.fromId(id) made before), the C layer (`shmat`, `new Uint8Array(a.buffer)[0] = 1`,
//    `shmdt`), the same without the buffer, the native addon with and without an ArrayBuffer, shm-typed-array,
//    and the C program. Cost per cycle per batch of 1000 (median, first and last batch) and overall, in CPU time
//    (user + system of the whole process: what the cycle costs, robust to other programs on the machine) and
//    wall-clock time. The loops are synchronous, as a C loop is; "segment, yielding" awaits setImmediate after
//    each batch, which lets FinalizationRegistry callbacks run (placeholders become free and are reused).
// 3. breakdown: two ladders of partial cycles, without and with a buffer, from the native references to the
//    Segment API, built from the library's own FFI calls (lib/native/libc.ts) one step at a time: what each step
//    adds (koffi, IPC_STAT, madvise, koffi.view, the placeholder mmap, the library's JavaScript, the Segment
//    layer). The rows of a ladder run in one process and take turns batch by batch, so that they see the same
//    machine; CPU time per cycle, median of the batches.
//
// The native baseline is a Node-API addon of our own (bench/native/shm_cycle.c, built with node-gyp into
// .cache/attach-scale/ at bench time against the running Node's headers). shm-typed-array (npm, installed at
// bench time into .cache/attach-scale/, not a dependency) is measured beside it for information only: its
// get(key)/detach(key) pair is not a plain cycle (a shmget and an IPC_STAT in each, and detach(key) unmaps only
// the first mapping it recorded for a key, so every later cycle leaves one mapping behind: the table counts
// them), and it does not build on Node 26 (it calls v8::Object::GetIsolate, gone from V8). The C floor is
// bench/native/attach-cycle.c, compiled with gcc at bench time.
//
// --profile VARIANT[:COUNT[:WARMUP]] runs one cycle variant (see VARIANTS) instead: a CPU profile of its timed
// cycles only (node:inspector; results/attach-scale-profile/) summed by function, then the whole child under
// `strace -c -f` if strace is installed: system calls per cycle.
//
// Every measuring process is pinned to one CPU with taskset (--cpu, default the last CPU); the machine is
// shared and noisy: compare figures within one run only.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import * as inspector from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// The functions lib/index.ts exports, imported from their modules so that nothing else of the library is loaded.
import { IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_RMID, IPC_STAT, Segment, ShmError, shmat, shmctl, shmdt, shmget, type Attachment } from '../lib/index.js';
import { addressSpaceStats, koffi, libc } from '../lib/internal.js';
import { median, percentile } from './patterns/common.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NATIVE = fileURLToPath(new URL('./native/', import.meta.url));
const CACHE = join(ROOT, '.cache/attach-scale');
const SEGMENT_SIZE = 4096;
const BATCH = 1000;
const STA_VERSION = '0.1.1';
/** shm-typed-array leaves a mapping per cycle (see the header): it runs at most this many cycles. */
const STA_MAX_CYCLES = 3000;
/** Untimed cycles before the timed ones: in the scale part (each level), and in the breakdown (each row). */
const SCALE_WARMUP = 3000;

// ---------------------------------------------------------------------------------------------------------------
// What is measured
// ---------------------------------------------------------------------------------------------------------------

const VARIANTS = {
  segment: 'Segment API: segment.attach(), bytes[0] = 1, detach()',
  'segment-yield': 'Segment API, awaiting setImmediate after each batch of 1000',
  'segment-fromid': 'Segment API with Segment.fromId(id) in each cycle',
  'c-buffer': 'C layer: shmat(id), new Uint8Array(a.buffer)[0] = 1, shmdt(a)',
  'c-plain': 'C layer without buffer: shmdt(shmat(id))',
  'addon-buffer': 'native addon: shmat + external ArrayBuffer, [0] = 1, detach buffer + shmdt',
  'addon-plain': 'native addon: shmat, shmdt',
  'shm-typed-array': `shm-typed-array ${STA_VERSION}: get(key), [0] = 1, detach(key)`,
  'ffi-plain': 'koffi: shmat + shmdt (the library FFI, no library code)',
  'ffi-stat': 'koffi: IPC_STAT + shmat + shmdt',
  'ffi-stat-madvise': 'koffi: IPC_STAT + shmat + madvise(DONTFORK) + shmdt',
  'ffi-view': 'koffi: shmat + koffi.view, [0] = 1, shmdt',
  'ffi-view-placeholder': 'koffi: shmat + koffi.view, [0] = 1, placeholder mmap',
  'ffi-all': 'koffi: IPC_STAT + shmat + madvise + koffi.view, [0] = 1, placeholder mmap',
} as const;
type Variant = keyof typeof VARIANTS;

const C_VARIANTS = {
  'c-program-touch': 'C program: shmat, p[0] = 1, shmdt',
  'c-program-plain': 'C program: shmat, shmdt',
} as const;
type CVariant = keyof typeof C_VARIANTS;

/** Part 2's rows, in table order. */
const CYCLE_ROWS: Array<Variant | CVariant> = [
  'segment',
  'segment-yield',
  'c-buffer',
  'c-plain',
  'addon-buffer',
  'addon-plain',
  'shm-typed-array',
  'c-program-touch',
  'c-program-plain',
];
/** Part 3's two ladders, in table order: each row adds one step to the row above it (the first rows are references). */
const LADDERS: Array<{ title: string; c: CVariant; variants: Variant[]; warmup: number; batch: number }> = [
  {
    title: 'Without a buffer',
    c: 'c-program-plain',
    variants: ['addon-plain', 'ffi-plain', 'ffi-stat', 'ffi-stat-madvise', 'c-plain'],
    warmup: 2000,
    batch: 200,
  },
  {
    // Fewer cycles: every library cycle here leaves a placeholder in the ledger (nothing yields to the event loop).
    title: 'With a buffer and a write',
    c: 'c-program-touch',
    variants: ['addon-buffer', 'ffi-view', 'ffi-view-placeholder', 'ffi-all', 'c-buffer', 'segment', 'segment-fromid'],
    warmup: 1000,
    batch: 100,
  },
];

interface ShmCycleAddon {
  attach(shmid: number): number;
  detach(address: number): void;
  attachBuffer(shmid: number, length: number): ArrayBuffer;
  detachBuffer(buffer: ArrayBuffer): void;
}

interface ShmTypedArray {
  get(key: number, type?: string): Uint8Array | null;
  detach(key: number, forceDestroy?: boolean): number;
}

interface ScaleSpec {
  role: 'scale';
  shmid: number;
  others: number;
  cycles: number;
  rounds: number;
  addon: string | null;
}

interface CycleSpec {
  role: 'cycle';
  variant: Variant;
  shmid: number;
  count: number;
  addon: string | null;
  /** shm-typed-array: its package directory, and the key of the segment it opens. */
  sta?: { dir: string; key: number };
  /** Untimed cycles before the timed ones (1 by default: the first use of libc, koffi and the addon). */
  warmup?: number;
  /** --profile: write a CPU profile of the timed cycles only (node:inspector) to this file. */
  profile?: string;
}

/** The breakdown: every variant in one process, taking turns batch by batch, so that all see the same machine. */
interface LadderSpec {
  role: 'ladder';
  variants: Variant[];
  shmid: number;
  addon: string | null;
  warmup: number;
  batch: number;
  rounds: number;
}

interface LadderResult {
  /** Per variant: CPU and wall time per cycle of each of its batches. */
  batches: Record<string, { cpuNs: number[]; wallNs: number[] }>;
  maps: number;
  heapMB: number;
  ledger: ReturnType<typeof addressSpaceStats>;
}

type ChildSpec = ScaleSpec | CycleSpec | LadderSpec;

interface Spread {
  p50Ns: number;
  p90Ns: number;
  meanNs: number;
  /** CPU time (user + system, whole process) per cycle over the timed cycles: the mean, including GC. */
  cpuNs: number;
}

interface ScaleResult {
  others: number;
  /** Attaching the others through the library: ns per attachment for the first and the last 1000. */
  rampFirstNs: number;
  rampLastNs: number;
  rampMs: number;
  library: Spread;
  addon: Spread | null;
  maps: number;
  ledger: ReturnType<typeof addressSpaceStats>;
}

interface CycleRun {
  count: number;
  totalNs: number;
  /** Wall-clock time per cycle of each batch. */
  batchNs: number[];
  /**
   * CPU time (user + system, every thread of the process) per cycle of each batch: what the cycle costs, without
   * the time the process waited for a CPU (the machine is shared).
   */
  batchCpuNs: number[];
  /** User and system CPU time per cycle over the whole run (the split is sampled by the kernel's tick). */
  userNs: number;
  systemNs: number;
  maps: number;
  /** Library variants: the ledger at the end (regions, placeholders, free). */
  ledger?: ReturnType<typeof addressSpaceStats>;
  /** shm-typed-array: System V mappings left behind by the run. */
  leaked?: number;
  /** V8 heap in use right after the last batch, before anything yields: what the loop kept alive. */
  heapMB?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Child side: one measurement per process
// ---------------------------------------------------------------------------------------------------------------

const requireHere = createRequire(import.meta.url);

function countMaps(): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').length - 1;
}

function countSysvMaps(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes('/SYSV')).length;
}

function spread(samples: Float64Array): Omit<Spread, 'cpuNs'> {
  const sorted = samples.slice().sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return { p50Ns: percentile(sorted, 0.5), p90Ns: percentile(sorted, 0.9), meanNs: sum / sorted.length };
}

function scaleChild(spec: ScaleSpec): ScaleResult {
  const { shmid, others, cycles, rounds } = spec;
  const addon = spec.addon ? (requireHere(spec.addon) as ShmCycleAddon) : null;
  shmdt(shmat(shmid)); // loads libc and koffi
  // The others, through the library: each goes into the ledger. Kept in an array so none is collected.
  const kept: Attachment[] = new Array(others);
  const blocks: number[] = [];
  const rampStart = performance.now();
  let blockStart = rampStart;
  for (let i = 0; i < others; i++) {
    kept[i] = shmat(shmid);
    if ((i + 1) % BATCH === 0 || i === others - 1) {
      const now = performance.now();
      blocks.push(((now - blockStart) * 1e6) / ((i % BATCH) + 1));
      blockStart = now;
    }
  }
  const rampMs = performance.now() - rampStart;
  // Untimed, so that both are measured compiled (the library's path takes a few thousand calls to get there).
  for (let i = 0; i < SCALE_WARMUP; i++) {
    shmdt(shmat(shmid));
    if (addon) addon.detach(addon.attach(shmid));
  }
  // Alternating rounds, each cycle timed alone.
  const library = new Float64Array(cycles * rounds);
  const native = new Float64Array(addon ? cycles * rounds : 0);
  let libraryCpu = 0;
  let addonCpu = 0;
  const cpuMicros = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return used.user + used.system;
  };
  for (let r = 0; r < rounds; r++) {
    let cpu = process.cpuUsage();
    for (let i = 0; i < cycles; i++) {
      const t = performance.now();
      shmdt(shmat(shmid));
      library[r * cycles + i] = (performance.now() - t) * 1e6;
    }
    libraryCpu += cpuMicros(cpu);
    if (!addon) continue;
    cpu = process.cpuUsage();
    for (let i = 0; i < cycles; i++) {
      const t = performance.now();
      addon.detach(addon.attach(shmid));
      native[r * cycles + i] = (performance.now() - t) * 1e6;
    }
    addonCpu += cpuMicros(cpu);
  }
  const result: ScaleResult = {
    others,
    rampFirstNs: blocks[0] ?? 0,
    rampLastNs: blocks.at(-1) ?? 0,
    rampMs,
    library: { ...spread(library), cpuNs: (libraryCpu * 1000) / (cycles * rounds) },
    addon: addon ? { ...spread(native), cpuNs: (addonCpu * 1000) / (cycles * rounds) } : null,
    maps: countMaps(),
    ledger: addressSpaceStats(),
  };
  // The others are left to the kernel: exit unmaps them (detaching 100,000 one by one is not what is measured).
  void kept;
  return result;
}

/** The body of one cycle of `variant`, after whatever setup it needs (not timed). */
function cycleBody(spec: Pick<CycleSpec, 'variant' | 'shmid' | 'addon' | 'sta'>): { body: () => void; finish?: () => Partial<CycleRun> } {
  const id = spec.shmid;
  const c = libc();
  const k = c.abi.constants;
  const length = SEGMENT_SIZE;
  const stat = new Uint8Array(Math.max(c.abi.sizeof.shmidDs, 256));
  const placeholder = (address: bigint) => {
    if (c.mmap(address, length, k.PROT_READ | k.PROT_WRITE, k.MAP_PRIVATE | k.MAP_ANONYMOUS | k.MAP_FIXED | k.MAP_NORESERVE, -1, 0) === c.MAP_FAILED)
      throw new Error('mmap failed');
  };
  const attachRaw = () => {
    const address = c.shmat(id, null, 0);
    if (address === c.MAP_FAILED) throw new Error(`shmat failed: errno ${c.errno()}`);
    return address;
  };
  const addon = spec.addon ? (requireHere(spec.addon) as ShmCycleAddon) : null;
  const needAddon = (): ShmCycleAddon => {
    if (!addon) throw new Error(`${spec.variant} needs the native addon`);
    return addon;
  };
  switch (spec.variant) {
    case 'segment':
    case 'segment-yield': {
      const segment = Segment.fromId(id);
      return {
        body: () => {
          const attachment = segment.attach();
          attachment.bytes[0] = 1;
          attachment.detach();
        },
      };
    }
    case 'segment-fromid':
      return {
        body: () => {
          const attachment = Segment.fromId(id).attach();
          attachment.bytes[0] = 1;
          attachment.detach();
        },
      };
    case 'c-buffer':
      return {
        body: () => {
          const a = shmat(id);
          new Uint8Array(a.buffer)[0] = 1;
          shmdt(a);
        },
      };
    case 'c-plain':
      return { body: () => shmdt(shmat(id)) };
    case 'addon-plain': {
      const native = needAddon();
      return { body: () => native.detach(native.attach(id)) };
    }
    case 'addon-buffer': {
      const native = needAddon();
      return {
        body: () => {
          const buffer = native.attachBuffer(id, length);
          new Uint8Array(buffer)[0] = 1;
          native.detachBuffer(buffer);
        },
      };
    }
    case 'shm-typed-array': {
      if (!spec.sta) throw new Error('shm-typed-array: no package');
      const sta = requireHere(join(spec.sta.dir, 'node_modules/shm-typed-array')) as ShmTypedArray;
      const key = spec.sta.key;
      // Its detach(key) removes the segment when nattch reaches 0: one attachment of ours keeps it alive.
      const keep = shmat(id);
      const before = countSysvMaps();
      return {
        body: () => {
          const buffer = sta.get(key);
          if (!buffer) throw new Error('shm-typed-array: get(key) found no segment');
          buffer[0] = 1;
          sta.detach(key);
        },
        finish: () => {
          const leaked = countSysvMaps() - before;
          shmdt(keep);
          return { leaked };
        },
      };
    }
    case 'ffi-plain':
      return { body: () => void c.shmdt(attachRaw()) };
    case 'ffi-stat':
      return {
        body: () => {
          c.shmctl(id, IPC_STAT, stat);
          c.shmdt(attachRaw());
        },
      };
    case 'ffi-stat-madvise':
      return {
        body: () => {
          c.shmctl(id, IPC_STAT, stat);
          const address = attachRaw();
          c.madvise(address, length, k.MADV_DONTFORK);
          c.shmdt(address);
        },
      };
    // The views below are never used after the unmap (a bench only: the library never does this).
    case 'ffi-view':
      return {
        body: () => {
          const address = attachRaw();
          new Uint8Array(koffi().view(address, length))[0] = 1;
          c.shmdt(address);
        },
      };
    case 'ffi-view-placeholder':
      return {
        body: () => {
          const address = attachRaw();
          new Uint8Array(koffi().view(address, length))[0] = 1;
          placeholder(address);
        },
      };
    case 'ffi-all':
      return {
        body: () => {
          c.shmctl(id, IPC_STAT, stat);
          const address = attachRaw();
          c.madvise(address, length, k.MADV_DONTFORK);
          new Uint8Array(koffi().view(address, length))[0] = 1;
          placeholder(address);
        },
      };
  }
}

async function cycleChild(spec: CycleSpec): Promise<CycleRun> {
  const { body, finish } = cycleBody(spec);
  for (let i = 0; i < (spec.warmup ?? 1); i++) body(); // untimed
  await new Promise((resolve) => setImmediate(resolve)); // and whatever start-up left for the event loop
  const session = spec.profile ? new inspector.Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  const yieldEach = spec.variant === 'segment-yield';
  const batchNs: number[] = [];
  const batchCpuNs: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let done = 0; done < spec.count; ) {
    const n = Math.min(BATCH, spec.count - done);
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < n; i++) body();
    if (yieldEach) await new Promise((resolve) => setImmediate(resolve));
    batchNs.push(((performance.now() - t) * 1e6) / n);
    const used = process.cpuUsage(cpu);
    batchCpuNs.push(((used.user + used.system) * 1000) / n);
    done += n;
  }
  const totalNs = (performance.now() - start) * 1e6;
  const cpu = process.cpuUsage(cpuStart);
  const heapMB = process.memoryUsage().heapUsed / 2 ** 20;
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(spec.profile!, JSON.stringify(profile));
    session.disconnect();
  }
  const library = spec.variant.startsWith('segment') || spec.variant.startsWith('c-');
  return {
    count: spec.count,
    totalNs,
    batchNs,
    batchCpuNs,
    userNs: (cpu.user * 1000) / spec.count,
    systemNs: (cpu.system * 1000) / spec.count,
    maps: countMaps(),
    heapMB,
    ...(library ? { ledger: addressSpaceStats() } : {}),
    ...finish?.(),
  };
}

function ladderChild(spec: LadderSpec): LadderResult {
  const bodies = spec.variants.map((variant) => ({ variant, body: cycleBody({ variant, shmid: spec.shmid, addon: spec.addon }).body }));
  for (const { body } of bodies) for (let i = 0; i < spec.warmup; i++) body();
  const batches: LadderResult['batches'] = Object.fromEntries(spec.variants.map((v) => [v, { cpuNs: [], wallNs: [] }]));
  for (let round = 0; round < spec.rounds; round++) {
    for (const { variant, body } of bodies) {
      const cpu = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < spec.batch; i++) body();
      const wall = ((performance.now() - t) * 1e6) / spec.batch;
      const used = process.cpuUsage(cpu);
      batches[variant].cpuNs.push(((used.user + used.system) * 1000) / spec.batch);
      batches[variant].wallNs.push(wall);
    }
  }
  return { batches, maps: countMaps(), heapMB: process.memoryUsage().heapUsed / 2 ** 20, ledger: addressSpaceStats() };
}

async function runChildRole(spec: ChildSpec): Promise<void> {
  const result = spec.role === 'scale' ? scaleChild(spec) : spec.role === 'ladder' ? ladderChild(spec) : await cycleChild(spec);
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Parent side: environment, builds, processes
// ---------------------------------------------------------------------------------------------------------------

let pinCpu: number | null = null;
let currentChild: { pid?: number } | null = null;

interface Ran {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; pin?: boolean } = {}): Promise<Ran> {
  const [cmd, argv] = options.pin && pinCpu !== null ? ['taskset', ['-c', String(pinCpu), command, ...args]] : [command, args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, argv, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    currentChild = child;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (error) => {
      clearTimeout(timer);
      currentChild = null;
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      currentChild = null;
      resolvePromise({ status, signal, stdout, stderr });
    });
  });
}

async function runNodeChild<T>(spec: ChildSpec, nodeFlags: string[] = []): Promise<T> {
  const ran = await run(process.execPath, [...nodeFlags, '--import', 'tsx', SELF, '--child', JSON.stringify(spec)], { timeoutMs: 900_000, pin: true });
  const line = /^result (.*)$/m.exec(ran.stdout);
  if (!line)
    throw new Error(
      `${spec.role === 'cycle' ? spec.variant : spec.role === 'scale' ? `scale ${spec.others}` : 'ladder'} failed (${ran.status ?? ran.signal}): ${ran.stderr.trim().split('\n').slice(-6).join('\n')}`,
    );
  return JSON.parse(line[1]) as T;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function tasksetWorks(): Promise<boolean> {
  return run('taskset', ['-c', '0', 'true']).then(
    (r) => r.status === 0,
    () => false,
  );
}

/** The IPC namespace of this process, and whether it differs from init's (unknown if /proc/1 is not readable). */
function ipcNamespace(): string {
  try {
    const self = readlinkSync('/proc/self/ns/ipc');
    let init: string | undefined;
    try {
      init = readlinkSync('/proc/1/ns/ipc');
    } catch {
      // not readable
    }
    if (init === undefined) return `${self} (init's not readable)`;
    return self === init ? `${self}, the host's: run under unshare --ipc --fork to keep out of other programs' way` : `${self}, private`;
  } catch {
    return 'unknown';
  }
}

const MAP_COUNT = '/proc/sys/vm/max_map_count';

/** Raises vm.max_map_count to hold `need` mappings when root; returns how to restore it and what was done. */
function provideMapCount(need: number): { limit: number; note: string; restore: () => void } {
  const before = Number(readText(MAP_COUNT) ?? NaN);
  if (!Number.isFinite(before)) return { limit: Infinity, note: 'vm.max_map_count unreadable', restore: () => {} };
  if (before >= need) return { limit: before, note: `vm.max_map_count ${before} (enough)`, restore: () => {} };
  if (process.getuid?.() !== 0) return { limit: before, note: `vm.max_map_count ${before}, not root: cannot raise it`, restore: () => {} };
  const target = Math.max(need, 262_144);
  try {
    writeFileSync(MAP_COUNT, String(target));
  } catch (error) {
    return { limit: before, note: `vm.max_map_count ${before}; raising it failed: ${(error as Error).message}`, restore: () => {} };
  }
  let restored = false;
  return {
    limit: target,
    note: `vm.max_map_count ${before}, raised to ${target} for the run (restored at the end; by hand: sysctl vm.max_map_count=${before})`,
    restore: () => {
      if (restored) return;
      restored = true;
      try {
        writeFileSync(MAP_COUNT, String(before));
      } catch (error) {
        console.error(`could not restore vm.max_map_count to ${before}: ${(error as Error).message}`);
      }
    },
  };
}

function sourceHash(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** The Node prefix holding include/node/node_api.h for the running Node, so node-gyp needs no download. */
function nodeDir(): string | undefined {
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined;
}

/** node-gyp: npm's own copy (next to this npm), else none (npx fetches it). */
async function nodeGyp(): Promise<string[]> {
  const roots = [resolve(dirname(process.execPath), '../lib/node_modules')];
  const npmRoot = await run('npm', ['root', '-g']).catch(() => undefined);
  if (npmRoot?.status === 0) roots.unshift(npmRoot.stdout.trim());
  for (const root of roots) {
    const script = join(root, 'npm/node_modules/node-gyp/bin/node-gyp.js');
    if (existsSync(script)) return [process.execPath, script];
  }
  return ['npx', '--yes', 'node-gyp'];
}

function lastLines(text: string, pattern: RegExp, fallback: number): string {
  const lines = text.split('\n').filter((l) => l.trim());
  const hit = lines.find((l) => pattern.test(l));
  return (hit ?? lines.slice(-fallback).join(' | ')).trim().slice(0, 300);
}

/** Builds bench/native/shm_cycle.c into .cache/attach-scale/addon-<node version>/ (reused while the sources match). */
async function buildAddon(): Promise<{ path: string | null; note: string }> {
  const sources = ['binding.gyp', 'shm_cycle.c'].map((f) => join(NATIVE, f));
  const dir = join(CACHE, `addon-${process.version}`);
  const built = join(dir, 'build/Release/shm_cycle.node');
  const stamp = join(dir, 'sources.sha256');
  const hash = sourceHash(sources);
  if (existsSync(built) && readText(stamp) === hash) return { path: built, note: `native addon: cached build for ${process.version}` };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of sources) copyFileSync(file, join(dir, basename(file)));
  const [command, ...prefix] = await nodeGyp();
  const headers = nodeDir();
  const ran = await run(command, [...prefix, 'rebuild', ...(headers ? [`--nodedir=${headers}`] : [])], { cwd: dir, timeoutMs: 300_000 }).catch(
    (error: Error): Ran => ({ status: null, signal: null, stdout: '', stderr: error.message }),
  );
  if (ran.status !== 0 || !existsSync(built)) {
    return { path: null, note: `native addon: node-gyp failed on ${process.version}: ${lastLines(ran.stdout + ran.stderr, /error/i, 3)}` };
  }
  writeFileSync(stamp, hash);
  return { path: built, note: `native addon: built with node-gyp for ${process.version}${headers ? ` (headers ${headers}/include/node)` : ''}` };
}

/** Compiles bench/native/attach-cycle.c with gcc -O2 (each run: it takes a fraction of a second). */
async function buildCProgram(): Promise<{ path: string | null; note: string }> {
  mkdirSync(CACHE, { recursive: true });
  const exe = join(CACHE, 'attach-cycle');
  const cc = await run('gcc', ['-O2', '-o', exe, join(NATIVE, 'attach-cycle.c')]).catch(
    (error: Error): Ran => ({ status: null, signal: null, stdout: '', stderr: error.message }),
  );
  if (cc.status !== 0) return { path: null, note: `C program: gcc failed: ${lastLines(cc.stderr, /error/i, 2)}` };
  const version = await run('gcc', ['-dumpfullversion']);
  return { path: exe, note: `C program: gcc ${version.stdout.trim()} -O2` };
}

/**
 * Installs shm-typed-array into .cache/attach-scale/shm-typed-array-<node version>/ with npm (node-gyp builds it
 * against the running Node). A failure is remembered there, with its reason, until the directory is removed.
 */
async function installShmTypedArray(): Promise<{ dir: string | null; note: string }> {
  const dir = join(CACHE, `shm-typed-array-${process.version}`);
  const built = join(dir, 'node_modules/shm-typed-array/build/Release/shm.node');
  const failed = join(dir, 'failed.txt');
  if (existsSync(built)) return { dir, note: `shm-typed-array ${STA_VERSION}: cached build for ${process.version}` };
  const known = readText(failed);
  if (known) return { dir: null, note: known };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  const headers = nodeDir();
  // The install script runs node-gyp with the `node` first on PATH: make it this one.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  const args = [
    'install',
    `shm-typed-array@${STA_VERSION}`,
    '--no-save',
    '--no-audit',
    '--no-fund',
    '--foreground-scripts',
    ...(headers ? [`--nodedir=${headers}`] : []),
  ];
  const ran = await run('npm', args, { cwd: dir, env, timeoutMs: 600_000 }).catch(
    (error: Error): Ran => ({ status: null, signal: null, stdout: '', stderr: error.message }),
  );
  if (ran.status === 0 && existsSync(built)) return { dir, note: `shm-typed-array ${STA_VERSION}: installed and built for ${process.version}` };
  const note = `shm-typed-array ${STA_VERSION} does not build on Node ${process.version}: ${lastLines(ran.stdout + ran.stderr, /error:/, 3)}`;
  writeFileSync(failed, note + '\n');
  return { dir: null, note };
}

async function runCProgram(exe: string, args: string[]): Promise<Record<string, unknown>> {
  const ran = await run(exe, args, { timeoutMs: 900_000, pin: true });
  if (ran.status !== 0) throw new Error(`C program ${args.join(' ')} failed (${ran.status ?? ran.signal}): ${ran.stderr.trim()}`);
  return JSON.parse(ran.stdout.trim()) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------------------------

const us = (ns: number | null | undefined, digits = 2): string => (ns === null || ns === undefined || Number.isNaN(ns) ? '-' : (ns / 1000).toFixed(digits));
const ratio = (a: number | null | undefined, b: number | null | undefined): string => (a && b ? `${(a / b).toFixed(2)}x` : '-');
const thousands = (n: number): string => n.toLocaleString('en-US');

interface CycleSummary {
  variant: Variant | CVariant;
  label: string;
  count: number;
  /** CPU time per cycle: the median over rounds of each run's median batch, first and last batch; user and system. */
  cpuNs: number;
  cpuFirstNs: number;
  cpuLastNs: number;
  userNs: number;
  systemNs: number;
  cpuPerRound: number[];
  /** Wall-clock time per cycle, the same way; overall: the whole run over its cycles. */
  wallNs: number;
  wallFirstNs: number;
  wallLastNs: number;
  overallNs: number;
  wallPerRound: number[];
  end: string;
  skipped?: string;
}

function summarize(variant: Variant | CVariant, count: number, runs: CycleRun[], skipped?: string): CycleSummary {
  const label = (VARIANTS as Record<string, string>)[variant] ?? (C_VARIANTS as Record<string, string>)[variant];
  const over = (f: (r: CycleRun) => number) => (runs.length ? median(runs.map(f)) : NaN);
  const last = runs.at(-1);
  const end = last
    ? [
        last.ledger ? `ledger ${thousands(last.ledger.regions)} regions (${thousands(last.ledger.placeholders)} placeholders, ${last.ledger.free} free)` : '',
        `${thousands(last.maps)} maps`,
        last.heapMB !== undefined ? `heap ${last.heapMB.toFixed(0)} MB` : '',
        last.leaked !== undefined ? `${thousands(last.leaked)} mappings left behind` : '',
      ]
        .filter(Boolean)
        .join(', ')
    : '';
  return {
    variant,
    label,
    count,
    cpuNs: over((r) => median(r.batchCpuNs)),
    cpuFirstNs: over((r) => r.batchCpuNs[0]),
    cpuLastNs: over((r) => r.batchCpuNs.at(-1)!),
    userNs: over((r) => r.userNs),
    systemNs: over((r) => r.systemNs),
    cpuPerRound: runs.map((r) => median(r.batchCpuNs)),
    wallNs: over((r) => median(r.batchNs)),
    wallFirstNs: over((r) => r.batchNs[0]),
    wallLastNs: over((r) => r.batchNs.at(-1)!),
    overallNs: over((r) => r.totalNs / r.count),
    wallPerRound: runs.map((r) => median(r.batchNs)),
    end,
    skipped,
  };
}

function cycleTable(rows: CycleSummary[], count: number): void {
  const plain = rows.find((r) => r.variant === 'addon-plain');
  const buffer = rows.find((r) => r.variant === 'addon-buffer');
  console.log(
    `\n${thousands(count)} cycles, batches of ${Math.min(BATCH, count)}; us per cycle, medians over rounds. CPU: user + system time of the ` +
      `process (what a cycle costs; the ratios use it); wall: elapsed time (adds what other programs took from this CPU)`,
  );
  console.table(
    rows.map((r) =>
      r.skipped
        ? { case: r.label, 'CPU median batch': 'skipped', 'at the end': r.skipped }
        : {
            case: r.label,
            'CPU median batch': us(r.cpuNs),
            'CPU first / last batch': `${us(r.cpuFirstNs, 1)} / ${us(r.cpuLastNs, 1)}`,
            'CPU user / system': `${us(r.userNs, 1)} / ${us(r.systemNs, 1)}`,
            'x addon plain': ratio(r.cpuNs, plain?.cpuNs),
            'x addon buffer': ratio(r.cpuNs, buffer?.cpuNs),
            'wall median batch': us(r.wallNs),
            'wall first / last batch': `${us(r.wallFirstNs, 1)} / ${us(r.wallLastNs, 1)}`,
            'wall overall': us(r.overallNs),
            'CPU per round': r.cpuPerRound.map((x) => us(x, 1)).join(' / '),
            'at the end': r.end,
          },
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

const HELP = `usage: npx tsx bench/attach-scale.ts [options]   (inside unshare --ipc --fork)

  --quick                 one round, fewer timed cycles per level and ladder turns (the same levels and counts)
  --parts LIST            scale,cycles,breakdown (default: all three)
  --levels LIST           other attachments alive for the scale part (default 10,1000,10000,100000)
  --counts LIST           cycle counts for the cycles part (default 100,3000,100000)
  --rounds N              alternating rounds of the scale and cycles parts (default 3; 1 with --quick); each
                          figure is the median over rounds
  --cpu N|none            pin every measuring process to CPU N with taskset (default: the last CPU)
  --json FILE             also write every figure as JSON
  --no-shm-typed-array    skip installing and measuring shm-typed-array
  --profile V[:COUNT]     profile one cycle variant (${Object.keys(VARIANTS).join(', ')}) instead:
                          --cpu-prof self times and strace -c system calls per cycle (default 20000 cycles)
  --help`;

function numbers(text: string, what: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim().replace(/_/g, '')));
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`--${what}: expected positive integers, got ${text}`);
  return list;
}

interface SharedSegments {
  shmid: number;
  key: number | null;
  keyedId: number | null;
}

function createSegments(withKey: boolean): SharedSegments {
  const shmid = shmget(IPC_PRIVATE, SEGMENT_SIZE, IPC_CREAT | IPC_EXCL | 0o600);
  if (!withKey) return { shmid, key: null, keyedId: null };
  for (;;) {
    const key = 1 + Math.floor(Math.random() * 0x7ffffffe);
    try {
      return { shmid, key, keyedId: shmget(key, SEGMENT_SIZE, IPC_CREAT | IPC_EXCL | 0o600) };
    } catch (error) {
      if (!(error instanceof ShmError && error.code === 'EEXIST')) throw error;
    }
  }
}

function removeSegments(segments: SharedSegments | undefined): void {
  if (!segments) return;
  for (const id of [segments.shmid, segments.keyedId]) {
    if (id === null) continue;
    try {
      shmctl(id, IPC_RMID);
    } catch (error) {
      if (!(error instanceof ShmError && (error.code === 'EINVAL' || error.code === 'EIDRM')))
        console.error(`removing segment ${id}: ${(error as Error).message}`);
    }
  }
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number }>;
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Self time per function over the profiled cycles (koffi's calls are native: they count to the JS function calling them). */
function summarizeProfile(path: string, count: number): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const perSample = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length); // us
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(ROOT, '')}:${lineNumber + 1}:${columnNumber + 1}` : '';
    // koffi's functions are native and anonymous: their self time is the FFI call and the C function it calls.
    const name = !url && !functionName ? '(native: koffi calls, i.e. FFI + libc + system call)' : `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    self.set(name, (self.get(name) ?? 0) + (node.hitCount ?? 0) * perSample);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(
    `\nCPU profile of the timed cycles only (node:inspector, 100 us sampling): self time, ${(total / 1000).toFixed(0)} ms over ${thousands(count)} cycles`,
  );
  console.table(
    [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([name, t]) => ({
        function: name.slice(0, 110),
        'self ms': (t / 1000).toFixed(1),
        share: `${((100 * t) / total).toFixed(1)}%`,
        'us per cycle': (t / count).toFixed(2),
      })),
  );
}

/** --profile VARIANT[:COUNT[:WARMUP]]: one variant, timed, then profiled, then under strace -c. */
async function profileVariant(text: string, segments: SharedSegments, addon: string | null, sta: string | null): Promise<void> {
  const [name, countText, warmupText] = text.split(':');
  if (!(name in VARIANTS)) throw new RangeError(`--profile: unknown variant ${name}; one of ${Object.keys(VARIANTS).join(', ')}`);
  const variant = name as Variant;
  const count = Number(countText || 20_000);
  const warmup = Number(warmupText || 2000);
  const spec: CycleSpec = {
    role: 'cycle',
    variant,
    shmid: variant === 'shm-typed-array' ? segments.keyedId! : segments.shmid,
    count,
    warmup,
    addon,
    ...(variant === 'shm-typed-array' && sta ? { sta: { dir: sta, key: segments.key! } } : {}),
  };
  const dir = join(ROOT, 'results/attach-scale-profile');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${variant}-${process.version}.cpuprofile`);
  const plain = await runNodeChild<CycleRun>(spec);
  const profiled = await runNodeChild<CycleRun>({ ...spec, profile: file });
  console.log(
    `\n${VARIANTS[variant]}: ${thousands(count)} cycles after ${thousands(warmup)} untimed; per cycle (median batch) ${us(median(plain.batchNs))} us wall, ` +
      `${us(median(plain.batchCpuNs))} us CPU (user ${us(plain.userNs)}, system ${us(plain.systemNs)}); ${us(median(profiled.batchCpuNs))} us CPU while profiled; ` +
      `profile in ${file.replace(ROOT, '')}`,
  );
  summarizeProfile(file, count);
  const trace = join(dir, `${variant}-${process.version}.strace`);
  const straced = await run('strace', ['-f', '-c', '-o', trace, process.execPath, '--import', 'tsx', SELF, '--child', JSON.stringify(spec)], {
    timeoutMs: 900_000,
    pin: true,
  }).catch((error: Error): Ran => ({ status: null, signal: null, stdout: '', stderr: error.message }));
  if (straced.status !== 0 || !existsSync(trace)) {
    console.log(`strace: not run (${lastLines(straced.stderr, /strace|ENOENT/, 1)}); apt-get install strace`);
    return;
  }
  const cycles = count + warmup;
  const rows = readFileSync(trace, 'utf8')
    .split('\n')
    .map((line) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[3] !== 'total')
    .map((m) => ({ syscall: m[3], calls: Number(m[1]), errors: Number(m[2] ?? 0) }))
    .sort((a, b) => b.calls - a.calls);
  console.log(`\nstrace -c -f of the whole child (start-up, ${thousands(cycles)} cycles, exit); calls per cycle:`);
  console.table(rows.slice(0, 14).map((r) => ({ syscall: r.syscall, calls: r.calls, 'per cycle': (r.calls / cycles).toFixed(3), errors: r.errors })));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      parts: { type: 'string', default: 'scale,cycles,breakdown' },
      levels: { type: 'string', default: '10,1000,10000,100000' },
      counts: { type: 'string', default: '100,3000,100000' },
      rounds: { type: 'string' },
      cpu: { type: 'string' },
      json: { type: 'string' },
      'no-shm-typed-array': { type: 'boolean', default: false },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (process.platform !== 'linux') throw new Error('System V shared memory: Linux only');
  const quick = values.quick;
  const parts = new Set(values.parts.split(',').map((s) => s.trim()));
  for (const part of parts) if (!['scale', 'cycles', 'breakdown'].includes(part)) throw new RangeError(`--parts: unknown part ${part}`);
  const levels = numbers(values.levels, 'levels');
  const counts = numbers(values.counts, 'counts');
  const rounds = values.rounds ? numbers(values.rounds, 'rounds')[0] : quick ? 1 : 3;
  const scaleCycles = quick ? 1000 : 2000;
  // The ladder's steps are small beside the noise of the touched rows: many short turns.
  const breakdownRounds = quick ? 10 : 30;

  const canPin = await tasksetWorks();
  const cpuOption = values.cpu ?? String(cpus().length - 1);
  pinCpu = cpuOption === 'none' || !canPin ? null : Number(cpuOption);
  if (pinCpu !== null && !(Number.isInteger(pinCpu) && pinCpu >= 0 && pinCpu < cpus().length)) throw new RangeError(`--cpu: no CPU ${cpuOption}`);

  const started = performance.now();
  const host = {
    node: process.version,
    v8: process.versions.v8,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    kernel: release(),
    loadAverage: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    placement:
      pinCpu !== null
        ? `every measuring process pinned to CPU ${pinCpu} (taskset -c ${pinCpu})`
        : canPin
          ? 'not pinned (--cpu none)'
          : 'not pinned: taskset unavailable',
    ipcNamespace: ipcNamespace(),
    addressSpaceLimit: /Max address space\s+(\S+)/.exec(readText('/proc/self/limits') ?? '')?.[1] ?? '?',
  };

  // Builds first: a missing tool turns into a skipped row, not a failed run.
  const addon = await buildAddon();
  const cProgram = await buildCProgram();
  const sta = values['no-shm-typed-array'] ? { dir: null, note: 'shm-typed-array: skipped (--no-shm-typed-array)' } : await installShmTypedArray();

  // 100,000 attachments are 100,000 mappings, plus Node's own (a few hundred to a few thousand).
  const maxLevel = parts.has('scale') ? Math.max(...levels) : 0;
  const mapCount = provideMapCount(maxLevel + 20_000);
  let segments: SharedSegments | undefined;
  const cleanup = () => {
    removeSegments(segments);
    segments = undefined;
    mapCount.restore();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (currentChild?.pid) {
      try {
        process.kill(currentChild.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    cleanup();
    console.error(`\n${signal}: segments removed${mapCount.note.includes('raised') ? ', vm.max_map_count restored' : ''}`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', cleanup);

  console.log(`attach-scale on Node ${host.node} (V8 ${host.v8}); ${host.cpu}; Linux ${host.kernel}; load average ${host.loadAverage}`);
  console.log(`${host.placement}; IPC namespace ${host.ipcNamespace}; address space limit ${host.addressSpaceLimit}; ${mapCount.note}`);
  console.log(`${addon.note}\n${cProgram.note}\n${sta.note}`);

  const report: Record<string, unknown> = {
    host,
    options: { quick, parts: [...parts], levels, counts, rounds, scaleCycles, breakdownRounds },
    builds: { addon: addon.note, cProgram: cProgram.note, shmTypedArray: sta.note },
  };
  try {
    segments = createSegments(sta.dir !== null);
    if (values.profile) {
      await profileVariant(values.profile, segments, addon.path, sta.dir);
      return;
    }

    if (parts.has('scale')) {
      console.log(
        `\n1. Attach cost with other attachments alive: shmdt(shmat(id)) of an existing 4 KiB segment; us. Each cycle timed alone (wall clock), ` +
          `${thousands(rounds * scaleCycles)} per row (${rounds} alternating rounds of ${thousands(scaleCycles)}, after ${thousands(SCALE_WARMUP)} untimed); ` +
          `CPU: the process's user + system time over those cycles, per cycle`,
      );
      const rows: Array<Record<string, string | number>> = [];
      const results: unknown[] = [];
      for (const others of levels) {
        if (others + 2_000 > mapCount.limit) {
          const why = `skipped: ${thousands(others)} attachments need ${thousands(others)} mappings, vm.max_map_count is ${mapCount.limit} (run as root to let the bench raise it)`;
          rows.push({ 'others alive': thousands(others), library: why });
          results.push({ others, skipped: why });
          continue;
        }
        const js = await runNodeChild<ScaleResult>({ role: 'scale', shmid: segments.shmid, others, cycles: scaleCycles, rounds, addon: addon.path });
        const c = cProgram.path
          ? ((await runCProgram(cProgram.path, ['scale', String(segments.shmid), String(others), String(rounds * scaleCycles)])) as {
              p50Ns: number;
              p90Ns: number;
              attachNs: number;
              maps: number;
            })
          : null;
        results.push({ ...js, cProgram: c });
        rows.push({
          'others alive': thousands(others),
          'library p50': us(js.library.p50Ns),
          'library p90': us(js.library.p90Ns),
          'addon p50': us(js.addon?.p50Ns),
          'addon p90': us(js.addon?.p90Ns),
          'C p50': us(c?.p50Ns),
          'C p90': us(c?.p90Ns),
          'library / addon': ratio(js.library.p50Ns, js.addon?.p50Ns),
          'library / C': ratio(js.library.p50Ns, c?.p50Ns),
          'CPU per cycle: library / addon (mean)': `${us(js.library.cpuNs)} / ${us(js.addon?.cpuNs)} (${ratio(js.library.cpuNs, js.addon?.cpuNs)})`,
          'attaching the others (us each)':
            others > BATCH
              ? `first 1000 ${us(js.rampFirstNs)}, last 1000 ${us(js.rampLastNs)} (${(js.rampMs / 1000).toFixed(1)} s)`
              : `${us((js.rampMs * 1e6) / others)} (cold)`,
          'C attaching (us each)': us(c?.attachNs),
          maps: thousands(js.maps),
        });
      }
      console.table(rows);
      const measured = results.filter((r): r is ScaleResult => (r as ScaleResult).library !== undefined);
      if (measured.length >= 2) {
        const [low, high] = [measured[0], measured.at(-1)!];
        console.log(
          `growth, ${thousands(low.others)} -> ${thousands(high.others)} others: library p50 ${ratio(high.library.p50Ns, low.library.p50Ns)}, addon p50 ${ratio(high.addon?.p50Ns, low.addon?.p50Ns)} ` +
            `(target: the library's cost does not grow with the number of live attachments)`,
        );
      }
      report.scale = results;
    }

    if (parts.has('cycles')) {
      console.log(`\n2. Attach, touch, detach repeated N times, each row a fresh process; ${rounds} alternating round(s)`);
      const all: CycleSummary[] = [];
      for (const count of counts) {
        const runs = new Map<Variant | CVariant, CycleRun[]>(CYCLE_ROWS.map((v) => [v, []]));
        const skipped = new Map<Variant | CVariant, string>();
        if (!addon.path) for (const v of ['addon-plain', 'addon-buffer'] as const) skipped.set(v, addon.note);
        if (!cProgram.path) for (const v of ['c-program-plain', 'c-program-touch'] as const) skipped.set(v, cProgram.note);
        if (!sta.dir) skipped.set('shm-typed-array', sta.note);
        else if (count > STA_MAX_CYCLES)
          skipped.set('shm-typed-array', `each cycle leaves a mapping behind: run at <= ${thousands(STA_MAX_CYCLES)} cycles only`);
        for (let round = 0; round < rounds; round++) {
          for (const variant of CYCLE_ROWS) {
            if (skipped.has(variant)) continue;
            if (variant === 'c-program-touch' || variant === 'c-program-plain') {
              const out = (await runCProgram(cProgram.path!, [
                'cycle',
                String(segments.shmid),
                String(count),
                variant === 'c-program-touch' ? '1' : '0',
              ])) as unknown as CycleRun;
              runs.get(variant)!.push(out);
              continue;
            }
            const spec: CycleSpec = {
              role: 'cycle',
              variant: variant as Variant,
              shmid: variant === 'shm-typed-array' ? segments.keyedId! : segments.shmid,
              count,
              addon: addon.path,
              ...(variant === 'shm-typed-array' ? { sta: { dir: sta.dir!, key: segments.key! } } : {}),
            };
            runs.get(variant)!.push(await runNodeChild<CycleRun>(spec));
          }
        }
        const rows = CYCLE_ROWS.map((v) => summarize(v, count, runs.get(v)!, skipped.get(v)));
        cycleTable(rows, count);
        all.push(...rows);
      }
      // Verdicts against the targets.
      const at = (variant: string, count: number) => all.find((r) => r.variant === variant && r.count === count && !r.skipped);
      const biggest = Math.max(...counts);
      for (const variant of ['segment', 'c-buffer', 'c-plain'] as const) {
        const row = at(variant, biggest);
        if (!row) continue;
        console.log(
          `${variant} at ${thousands(biggest)} cycles: CPU last batch / first batch ${ratio(row.cpuLastNs, row.cpuFirstNs)}; median batch ` +
            `${ratio(row.cpuNs, at('addon-plain', biggest)?.cpuNs)} the addon's plain cycle, ${ratio(row.cpuNs, at('addon-buffer', biggest)?.cpuNs)} its cycle with an ` +
            `ArrayBuffer (target: constant per cycle, within 2x of the native cycle)`,
        );
      }
      report.cycles = all;
    }

    if (parts.has('breakdown')) {
      console.log(
        `\n3. Where the time goes: one step added per row, CPU time per cycle (median of the batches). Each ladder's Node rows run in one process, ` +
          `taking turns batch by batch (${breakdownRounds} turns each, after untimed cycles), so that they all see the same machine; the C program runs ` +
          `${breakdownRounds} batches before and after. Two ladders in two processes: the placeholders the buffer rows leave in the ledger would slow the plain rows`,
      );
      const reports: unknown[] = [];
      for (const step of LADDERS) {
        const variants = step.variants.filter((v): v is Variant => v in VARIANTS && (addon.path !== null || !v.startsWith('addon-')));
        const cRuns: CycleRun[] = [];
        const runC = async () => {
          if (!cProgram.path) return;
          const touch = step.c === 'c-program-touch' ? '1' : '0';
          cRuns.push(
            (await runCProgram(cProgram.path, [
              'cycle',
              String(segments!.shmid),
              String(step.batch * breakdownRounds),
              touch,
              String(step.batch),
            ])) as unknown as CycleRun,
          );
        };
        await runC();
        const js = await runNodeChild<LadderResult>({
          role: 'ladder',
          variants,
          shmid: segments.shmid,
          addon: addon.path,
          warmup: step.warmup,
          batch: step.batch,
          rounds: breakdownRounds,
        });
        await runC();
        type Row = { variant: Variant | CVariant; label: string; cpuNs: number; wallNs: number; cpuQuartiles: string };
        const row = (variant: Variant | CVariant, cpu: number[], wall: number[]): Row => {
          const sorted = [...cpu].sort((a, b) => a - b);
          return {
            variant,
            label: (VARIANTS as Record<string, string>)[variant] ?? (C_VARIANTS as Record<string, string>)[variant],
            cpuNs: median(cpu),
            wallNs: median(wall),
            cpuQuartiles: `${us(percentile(sorted, 0.25), 1)} - ${us(percentile(sorted, 0.75), 1)}`,
          };
        };
        const rows: Row[] = [
          ...(cRuns.length
            ? [
                row(
                  step.c,
                  cRuns.flatMap((r) => r.batchCpuNs),
                  cRuns.flatMap((r) => r.batchNs),
                ),
              ]
            : []),
          ...variants.map((v) => row(v, js.batches[v].cpuNs, js.batches[v].wallNs)),
        ];
        console.log(`\n${step.title}: ${thousands(step.warmup)} untimed cycles per row, then turns of ${step.batch}`);
        let previous: Row | undefined;
        console.table(
          rows.map((r) => {
            // Each row adds to the one above it, except the two references (the C program and the addon).
            const restart = r.variant.startsWith('c-program') || r.variant.startsWith('addon-');
            const added = previous && !restart ? us(r.cpuNs - previous.cpuNs) : '';
            previous = r;
            return {
              case: r.label,
              'CPU us per cycle': us(r.cpuNs),
              'added by this step': added,
              'CPU quartiles': r.cpuQuartiles,
              'wall us per cycle': us(r.wallNs),
            };
          }),
        );
        console.log(
          `at the end: ledger ${thousands(js.ledger.regions)} regions (${thousands(js.ledger.placeholders)} placeholders), ${thousands(js.maps)} maps, heap ${js.heapMB.toFixed(0)} MB`,
        );
        reports.push({ ladder: step.title, rows, batches: js.batches, ledger: js.ledger, maps: js.maps, heapMB: js.heapMB, cProgram: cRuns });
      }
      report.breakdown = reports;
    }
  } finally {
    cleanup();
  }
  report.seconds = (performance.now() - started) / 1000;
  console.log(`\n${(Number(report.seconds) / 60).toFixed(1)} min; segments removed${mapCount.note.includes('raised') ? '; vm.max_map_count restored' : ''}`);
  if (values.json) {
    writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`JSON: ${values.json}`);
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) await runChildRole(JSON.parse(process.argv[childAt + 1]) as ChildSpec);
else if (process.argv[1] === SELF) await main();
