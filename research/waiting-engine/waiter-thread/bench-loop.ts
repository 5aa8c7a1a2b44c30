// Measurement 1: fs.readFile latency of a tiny file and idle CPU, with N pending waits on N different segments.
// node --import tsx bench-loop.ts <mode> <N>   mode: none | atomics | port | poll | today
import { readFile, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { WaitEngine } from './engine.mjs';
import { makeSegments, sleep, pct } from './common.ts';
import { waitAsync } from '/work/main/lib/index.js';

const mode = process.argv[2];
const n = Number(process.argv[3] ?? 0);
const file = `/tmp/spike-waitv/out/tiny-${process.pid}.txt`;
writeFileSync(file, 'hello, tiny file\n');
const segs = makeSegments(1000);
let engine: WaitEngine | undefined;
const ac = new AbortController();
setMaxListeners(0, ac.signal);
const t0 = performance.now();
if (mode === 'today') {
  // what the channel does today: waitAsync on a koffi async call, 50 ms slices (SLICE_MS)
  for (let i = 0; i < n; i++) waitAsync(segs[i].view, 0, 0, Infinity, { sliceMs: 50 }).catch(() => {});
} else if (mode !== 'none') {
  engine = new WaitEngine({ report: mode === 'port' ? 'port' : 'atomics', forcePoll: mode === 'poll', pollMs: 5 });
  for (let i = 0; i < n; i++) engine.wait(segs[i].view, 0, 0, { signal: ac.signal }).catch(() => {});
}
// let the waiter threads start and arm
for (;;) {
  await sleep(50);
  if (!engine || engine.shards.every((s) => s.ctl[4] !== 0)) break;
}
const readyMs = performance.now() - t0;
await sleep(300);

const lat: number[] = [];
const reads = Number(process.env.READS ?? 100);
for (let i = 0; i < reads; i++) {
  const s = performance.now();
  await new Promise<void>((res, rej) => readFile(file, (e) => (e ? rej(e) : res())));
  lat.push(performance.now() - s);
  await sleep(7);
}
const threads = readdirSync('/proc/self/task').length;
const u0 = process.cpuUsage();
const w0 = performance.now();
await sleep(5000);
const u = process.cpuUsage(u0);
const wall = performance.now() - w0;
const cpuPct = ((u.user + u.system) / 1000 / wall) * 100;
const rss = process.memoryUsage().rss / 2 ** 20;
console.log(JSON.stringify({
  mode, n, readyMs: Math.round(readyMs), p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat),
  cpuPct, threads, rssMiB: Math.round(rss), shards: engine?.shards.length ?? 0,
  stats: engine ? { returns: engine.shards.map((s) => s.ctl[5]), wakes: engine.counters.wakeSyscalls } : undefined,
}));
ac.abort();
process.exit(0);
