// `sysv-shm hexdump` beside util-linux's `hexdump -C`, and the memory of `sysv-shm cat`: wall time and peak
// resident memory, median of a few runs, for a few segment sizes. Not a test: it prints numbers.
//
//   npx tsx bench/cli-hexdump.ts [--sizes 16M,64M,1G] [--runs 3] [--data random|text|zeros] [--no-verify]
//
// The command runs as installed: lib/ built to JavaScript (esbuild, into a temporary folder) on plain Node, not
// through tsx, whose loader alone makes a process about 85 MB. hexdump -C reads a file with the same bytes on tmpfs
// (/dev/shm), so that neither side touches a disk. Both write to /dev/null. Runs alternate between the two.
//
// Wall time runs from spawn to exit (Node's start included); CPU time is user + system time, which a busy machine
// disturbs less. Peak resident memory is VmHWM, which counts the pages of the segment the process had mapped in as well as its own.
// For sysv-shm it is exact: a preload reads /proc/self/status as the process exits. For hexdump -C, which this
// script cannot preload, it is the last of samples of /proc/<pid>/status taken every 5 ms (hexdump's memory is
// flat, so the samples find its peak). Before the timed runs, each size up to 256 MiB is checked once: the outputs
// of both tools, and cat's against the bytes written, compared by sha256 (--no-verify skips it).
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Segment } from '../lib/index.js';
import { median } from './patterns/common.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PEAK_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(`import { readFileSync, writeSync } from 'node:fs';
process.on('exit', () => writeSync(3, /VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]));`);

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

function parseSize(text: string): number {
  const match = /^(\d+)([KMG]?)$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text} (use 16M, 1G, ...)`);
  return Number(match[1]) * 1024 ** ' KMG'.indexOf(match[2].toUpperCase() || ' ');
}

const sizes = option('--sizes', '16M,64M,1G').split(',').map(parseSize);
const runs = Number(option('--runs', '3'));
const data = option('--data', 'random') as 'random' | 'text' | 'zeros';
const verify = !process.argv.includes('--no-verify');
/** Checking the outputs runs hexdump -C once more: on random data, minutes per GiB. */
const VERIFY_UP_TO = 256 << 20;

interface Run {
  ms: number;
  /** User + system CPU time, ms (the last sample of /proc/<pid>/stat: to within the 5 ms between samples). */
  cpuMs: number;
  /** Peak resident memory, bytes. */
  peak: number;
  status: number | null;
  stderr: string;
  sha256?: string;
}

/** sysconf(_SC_CLK_TCK): the unit of the times in /proc/<pid>/stat; 100 on every Linux CPU Node runs on. */
const CLOCK_TICKS = 100;

/** Runs a program with stdout to /dev/null (or hashed), timing it and following its peak memory. */
function measure(command: string, args: string[], options: { preload?: boolean; hash?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const devNull = options.hash ? undefined : openSync('/dev/null', 'w');
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', devNull ?? 'pipe', 'pipe', options.preload ? 'pipe' : 'ignore'] });
    if (devNull !== undefined) closeSync(devNull);
    const hash = options.hash ? createHash('sha256') : undefined;
    child.stdout?.on('data', (chunk: Buffer) => hash?.update(chunk));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let reported = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => (reported += chunk.toString()));
    let sampled = 0;
    let cpuMs = 0;
    const sample = setInterval(() => {
      try {
        const kb = /VmHWM:\s*(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (kb) sampled = Math.max(sampled, Number(kb[1]) * 1024);
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuMs = Math.max(cpuMs, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
      } catch {
        // gone
      }
    }, 5);
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(sample);
      const ms = performance.now() - started;
      resolve({ ms, cpuMs, peak: reported ? Number(reported) * 1024 : sampled, status, stderr, sha256: hash?.digest('hex') });
    });
  });
}

/** lib/ as the installed package has it (JavaScript), from the current sources. */
async function buildCli(dir: string): Promise<string> {
  const lib = join(ROOT, 'lib');
  const entryPoints = readdirSync(lib, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(lib, file));
  await build({
    entryPoints,
    outdir: join(dir, 'lib'),
    outbase: lib,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'lib/cli/main.js');
}

const STEP = 16 << 20;
const TEXT = Buffer.from('The quick brown fox jumps over the lazy dog; 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\n'.repeat(210_000));

/** A segment and a tmpfs file with the same `size` bytes. */
function makeData(size: number, dir: string): { segment: Segment; file: string } {
  const segment = Segment.create({ size }).removeOnExit();
  const file = join(dir, `data-${size}`);
  const fd = openSync(file, 'w');
  const attachment = segment.attach();
  const step = Buffer.alloc(STEP);
  try {
    for (let at = 0; at < size; at += STEP) {
      const n = Math.min(STEP, size - at);
      if (data === 'random') randomFillSync(step, 0, n);
      else if (data === 'text') TEXT.copy(step, 0, at % 1000, (at % 1000) + n);
      // zeros: the step stays zero
      attachment.write(step.subarray(0, n), at);
      writeSync(fd, step, 0, n);
    }
  } finally {
    attachment.detach();
    closeSync(fd);
  }
  return { segment, file };
}

const mib = (bytes: number) => (bytes >= 1 << 30 ? `${bytes / (1 << 30)} GiB` : `${bytes / (1 << 20)} MiB`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const hexdumpVersion = await new Promise<string>((resolve) => {
    const child = spawn('hexdump', ['--version']);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('close', () => resolve(out.trim()));
    child.on('error', () => resolve('hexdump not found'));
  });
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`Node ${process.version}, ${cpu} (${cpus().length} CPUs), Linux ${release()}, ${hexdumpVersion}`);
  console.log(`data: ${data}; ${runs} runs per cell, medians; output to /dev/null\n`);

  const work = mkdtempSync(join(tmpdir(), 'sysv-shm-bench-cli-'));
  const tmpfs = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/sysv-shm-bench-cli-') : work;
  try {
    const main = await buildCli(join(work, 'built'));
    const node = process.execPath;
    const baseline = await measure(node, ['--import', PEAK_PRELOAD, main, '--version'], { preload: true });
    console.log(`sysv-shm --version alone (Node and the library loaded): peak ${mb(baseline.peak)}\n`);

    const rows: string[][] = [['size', 'tool', 'wall (median)', 'min..max', 'input MiB/s', 'CPU user+sys', 'peak RSS (median)']];
    for (const size of sizes) {
      const { segment, file } = makeData(size, tmpfs);
      try {
        const ours = ['--import', PEAK_PRELOAD, main, 'hexdump', String(segment.id)];
        const cat = ['--import', PEAK_PRELOAD, main, 'cat', String(segment.id)];
        if (verify && size <= VERIFY_UP_TO) {
          const [a, b, c] = [
            await measure(node, ours, { preload: true, hash: true }),
            await measure('hexdump', ['-C', file], { hash: true }),
            await measure(node, cat, { preload: true, hash: true }),
          ];
          const bytes = createHash('sha256');
          for await (const chunk of createReadStream(file)) bytes.update(chunk as Buffer);
          if (a.status !== 0 || a.sha256 !== b.sha256) throw new Error(`${mib(size)}: sysv-shm hexdump differs from hexdump -C (${a.stderr})`);
          if (c.status !== 0 || c.sha256 !== bytes.digest('hex')) throw new Error(`${mib(size)}: sysv-shm cat differs from the bytes (${c.stderr})`);
          console.log(`${mib(size)}: sysv-shm hexdump = hexdump -C, sysv-shm cat = the bytes (sha256)`);
        }
        const times: Record<'ours' | 'theirs' | 'cat', Run[]> = { ours: [], theirs: [], cat: [] };
        for (let r = 0; r < runs; r++) {
          times.ours.push(await measure(node, ours, { preload: true }));
          times.theirs.push(await measure('hexdump', ['-C', file]));
          times.cat.push(await measure(node, cat, { preload: true }));
        }
        for (const [name, list] of [
          ['sysv-shm hexdump', times.ours],
          ['hexdump -C', times.theirs],
          ['sysv-shm cat', times.cat],
        ] as const) {
          const failed = list.find((run) => run.status !== 0);
          if (failed) throw new Error(`${name} failed: ${failed.stderr}`);
          const ms = list.map((run) => run.ms);
          rows.push([
            mib(size),
            name,
            secs(median(ms)),
            `${secs(Math.min(...ms))}..${secs(Math.max(...ms))}`,
            (size / (1 << 20) / (median(ms) / 1000)).toFixed(0),
            secs(median(list.map((run) => run.cpuMs))),
            mb(median(list.map((run) => run.peak))),
          ]);
        }
        const ratio = median(times.theirs.map((run) => run.ms)) / median(times.ours.map((run) => run.ms));
        console.log(`${mib(size)}: sysv-shm hexdump is ${ratio.toFixed(1)}x as fast as hexdump -C`);
      } finally {
        segment.remove();
        rmSync(file, { force: true });
      }
    }
    console.log();
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) console.log(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (tmpfs !== work) rmSync(tmpfs, { recursive: true, force: true });
  }
}

await main();
