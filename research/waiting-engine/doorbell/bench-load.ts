// Measurement 1: with 8, 100 and 1000 pending waits on 1000 different segments, for each transport and sharing:
// fs.promises.readFile latency of a tiny file, idle CPU over IDLE_MS, file descriptors. Next to no waits at all and
// to the library's current waitAsync (koffi async call on libuv's pool, 50 ms slices).
import fs from 'node:fs';
import { setMaxListeners } from 'node:events';
import { notify, waitAsync } from '/work/main/lib/index.js';
import { createSegment, fdCount, r2, sleep, summary, median, type Seg } from './common.js';
import { Engine } from './engine.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const IDLE_MS = Number(process.env.IDLE_MS ?? 5000);
const READS = 200;
const tiny = '/tmp/spike-doorbell/tiny.txt';
fs.writeFileSync(tiny, 'hello\n');

const segs: Seg[] = [];
for (let i = 0; i < 1000; i++) segs.push(createSegment(4096));

async function readLatency(n: number): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fs.promises.readFile(tiny);
    ms.push(performance.now() - t);
  }
  const s = summary(ms);
  return { p50: s.p50, p99: s.p99 };
}

/** Context switches (voluntary + involuntary) of the main thread, and of all threads of the process. */
function switches(): { main: number; all: number } {
  const read = (tid: string) => {
    const s = fs.readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)![1]) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)![1]);
  };
  let all = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) all += read(tid);
  return { main: read(String(process.pid)), all };
}

async function idleCpu(): Promise<{ cpuMs: number; mainWakeups: number; allWakeups: number }> {
  await sleep(1000); // let the compiler and GC threads finish after the reads
  const s0 = switches();
  const before = process.cpuUsage();
  await sleep(IDLE_MS);
  const d = process.cpuUsage(before);
  const s1 = switches();
  // ms of CPU over IDLE_MS; context switches minus the one of the sleep's own timer and of the reads of /proc
  return { cpuMs: (d.user + d.system) / 1000, mainWakeups: s1.main - s0.main, allWakeups: s1.all - s0.all };
}

type Row = { config: string; pending: number; p50: number; p99: number; cpuMs: number; mainWakeups: number; allWakeups: number; fds: number; events: number };
const rows: Row[] = [];

async function measure(config: string, pending: number, arm: () => Promise<() => Promise<void>> | (() => Promise<void>), reads = READS) {
  const fds0 = fdCount();
  const disarm = await arm();
  await sleep(50);
  const fds = fdCount() - fds0;
  const lat = await readLatency(reads);
  const { cpuMs, mainWakeups, allWakeups } = await idleCpu();
  const events = (globalThis as any).__events?.() ?? 0;
  await disarm();
  rows.push({ config, pending, p50: lat.p50, p99: lat.p99, cpuMs, mainWakeups, allWakeups, fds, events });
  console.error(`${config} n=${pending}: readFile p50 ${r2(lat.p50)} ms p99 ${r2(lat.p99)} ms, idle CPU ${r2(cpuMs)} ms/${IDLE_MS} ms, ctx switches main ${mainWakeups} all ${allWakeups}, fds +${fds}, events ${events}`);
}

for (let round = 0; round < ROUNDS; round++) {
  await measure('no waits', 0, () => async () => {});
  for (const transport of ['pipe', 'socket'] as const) {
    for (const sharing of ['process', 'per-end'] as const) {
      for (const n of [8, 100, 1000]) {
        const engine = new Engine({ transport, sharing });
        (globalThis as any).__events = () => engine.stats().events;
        await measure(`${transport}/${sharing}`, n, () => {
          const ac = new AbortController();
          setMaxListeners(0, ac.signal);
          const ps = segs.slice(0, n).map((s) => engine.wait(s.i32, 0, 0, { signal: ac.signal, timeoutMs: 600_000 }).catch(() => {}));
          return async () => {
            ac.abort();
            await Promise.all(ps);
            engine.close();
          };
        });
        (globalThis as any).__events = undefined;
      }
    }
  }
  // The library today: each pending waitAsync holds a pool thread in 50 ms slices (what receiveAsync does).
  for (const n of [4, 8]) {
    await measure(
      'library waitAsync (sliceMs 50)',
      n,
      () => {
        const ps = segs.slice(0, n).map((s) => waitAsync(s.i32, 0, 0, 600_000, { sliceMs: 50, spin: 0 }));
        return async () => {
          for (const s of segs.slice(0, n)) {
            Atomics.store(s.i32, 0, 1);
            notify(s.i32, 0);
          }
          await Promise.all(ps);
          for (const s of segs.slice(0, n)) Atomics.store(s.i32, 0, 0);
        };
      },
      20,
    );
  }
}

// Medians over rounds.
const groups = new Map<string, Row[]>();
for (const r of rows) {
  const k = `${r.config}|${r.pending}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k)!.push(r);
}
const table = [...groups.entries()].map(([k, rs]) => {
  const [config, pending] = k.split('|');
  return {
    config,
    pending: Number(pending),
    'readFile p50 ms': r2(median(rs.map((r) => r.p50))),
    'readFile p99 ms': r2(median(rs.map((r) => r.p99))),
    'idle CPU ms / 5 s': r2(median(rs.map((r) => r.cpuMs))),
    'main-thread ctx sw / 5 s': median(rs.map((r) => r.mainWakeups)),
    'all-threads ctx sw / 5 s': median(rs.map((r) => r.allWakeups)),
    'fds added': median(rs.map((r) => r.fds)),
    'doorbell events while idle': median(rs.map((r) => r.events)),
  };
});
console.table(table);
console.log(JSON.stringify({ node: process.version, rounds: ROUNDS, idleMs: IDLE_MS, table }));
for (const s of segs) s.detach();
