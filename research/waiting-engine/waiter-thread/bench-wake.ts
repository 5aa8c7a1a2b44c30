// Measurement 2: wake latency, from a C process's FUTEX_WAKE (stamped CLOCK_MONOTONIC) to the continuation of
// the main thread's await, with `pending` waits in all (pending - 1 others on other segments, never woken).
// node --import tsx bench-wake.ts <mode> <pending> <count>    mode: atomics | port | poll | today | sync
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { WaitEngine } from './engine.mjs';
import { makeSegments, notify, sleep, pct } from './common.ts';
import { waitAsync, wait } from '/work/main/lib/index.js';

const mode = process.argv[2];
const pending = Number(process.argv[3] ?? 1);
const count = Number(process.argv[4] ?? 1000);
const segs = makeSegments(Math.max(pending, 1));
const v = segs[0].view;
const stamps = new BigInt64Array(segs[0].att.buffer, 256, 1);
const ac = new AbortController();
setMaxListeners(0, ac.signal);
let engine: WaitEngine | undefined;
let waitFn: (view: Int32Array, i: number, e: number) => Promise<string>;
if (mode === 'today') waitFn = (view, i, e) => waitAsync(view, i, e, Infinity, { sliceMs: 50 });
else if (mode === 'sync') waitFn = async (view, i, e) => wait(view, i, e); // blocks the loop: the floor
else {
  engine = new WaitEngine({ report: mode === 'port' ? 'port' : 'atomics', forcePoll: mode === 'poll', pollMs: Number(process.env.POLL_MS ?? 1) });
  waitFn = (view, i, e) => engine!.wait(view, i, e);
}
for (let k = 1; k < pending; k++) {
  if (engine) engine.wait(segs[k].view, 0, 0, { signal: ac.signal }).catch(() => {});
  else waitAsync(segs[k].view, 0, 0, Infinity, { sliceMs: 50 }).catch(() => {});
}
if (engine) {
  // make sure every waiter thread is up before measuring
  await engine.ready();
  await sleep(200);
}
const child = spawn('/tmp/spike-waitv/c/notifier', [String(segs[0].id), String(count)], { stdio: 'inherit' });
const exited = new Promise((r) => child.once('exit', r));
const lat: number[] = [];
const toWorker: number[] = [];
const toMain: number[] = [];
let notEqual = 0;
let progress = 0;
let lastProgress = -1;
const watchdog = setInterval(() => {
  if (progress === lastProgress) {
    const s = engine?.shards[0];
    console.error(`STUCK at ${progress}: READY=${Atomics.load(v, 0)} WORD=${Atomics.load(v, 32)} stats=${JSON.stringify(engine?.stats().shards[0])} ctl=${s ? Array.from(s.ctl.slice(0, 8)) : ''} bell=${engine ? Atomics.load(engine.bell, 0) + '/' + engine.bellSeen : ''} pending=${engine?.pending}`);
    const rec = engine && [...engine.byKey.values()].find((r: any) => r.shard.table[r.slot * 8 + 3] === Number(engine!._address(v, 32) & 0xffffffffn) | 0);
    if (rec) console.error('rec', rec.slot, rec.seq, Array.from(rec.shard.table.slice(rec.slot * 8, rec.slot * 8 + 8)));
  }
  lastProgress = progress;
}, 2000);
watchdog.unref();
for (let i = 1; i <= count; i++) {
  Atomics.store(v, 0, i); // READY: the notifier sleeps 1-3 ms before it stamps and wakes
  notify(v, 0);
  const r = await waitFn(v, 32, i - 1);
  const now = process.hrtime.bigint();
  if (r !== 'ok') notEqual++;
  while (Atomics.load(v, 32) !== i) await waitFn(v, 32, Atomics.load(v, 32)); // (never, unless spurious)
  lat.push(Number(now - Atomics.load(stamps, 0)) / 1000);
  if (engine) {
    const shard = engine.shards[0];
    const tw = Atomics.load(shard.times, 0);
    toWorker.push(Number(tw - Atomics.load(stamps, 0)) / 1000);
    toMain.push(Number(now - Atomics.load(shard.times, 1)) / 1000);
  }
  progress = i;
}
await exited;
const warm = lat.slice(20);
console.log(JSON.stringify({ mode, pending, count, p50us: pct(warm, 50), p90us: pct(warm, 90), p99us: pct(warm, 99), maxus: Math.max(...warm), notEqual, toWorkerP50: pct(toWorker.slice(20), 50) ?? 0, toMainP50: pct(toMain.slice(20), 50) ?? 0, shards: engine?.shards.length ?? 0 }));
ac.abort();
process.exit(0);
