// Measurement 4: main-thread cost of arming and disarming a wait, the worker's re-arm latency, the cost of
// resolving reported waits, and what 1000+ waits do (shards: threads, start-up, memory).
// node --import tsx bench-arm.ts warm         (one shard, n <= 127, repeated rounds)
// node --import tsx bench-arm.ts cold <N>     (N waits from a cold start: N/127 waiter threads)
import { readdirSync } from 'node:fs';
import { WaitEngine } from './engine.mjs';
import { makeSegments, notify, sleep, pct, median } from './common.ts';
import { waitAsync } from '/work/main/lib/index.js';

const which = process.argv[2];
const us = (ms: number) => +(ms * 1000).toFixed(2);
const threads = () => readdirSync('/proc/self/task').length;
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);

if (which === 'warm') {
  const segs = makeSegments(128);
  const engine = new WaitEngine();
  await engine.ready();
  const shard = engine.shards[0];
  // time spent by the main thread on reports, and waits resolved
  let reportMs = 0;
  let resolved = 0;
  const orig = engine._processDirty.bind(engine);
  engine._processDirty = () => { const t = performance.now(); const before = engine.pending; orig(); reportMs += performance.now() - t; resolved += before - engine.pending; };
  const out: Record<string, unknown> = {};
  for (const n of [1, 10, 100]) {
    const arm: number[] = [], flush: number[] = [], rearm: number[] = [], abort: number[] = [], armT: number[] = [], armBare: number[] = [];
    const rounds = n === 1 ? 300 : n === 10 ? 100 : 30;
    for (let r = 0; r < rounds; r++) {
      await sleep(2); // the worker asleep
      const acs = Array.from({ length: n }, () => new AbortController());
      const snaps = Atomics.load(shard.ctl, 7);
      let t = performance.now();
      const ps = acs.map((ac, i) => engine.wait(segs[i].view, 0, 0, { signal: ac.signal }).catch(() => 'aborted'));
      const t1 = performance.now();
      await null; // the flush microtask (one FUTEX_WAKE) runs before this continuation
      const t2 = performance.now();
      // the worker's re-arm: woken, re-reads the table, back in futex_waitv
      while (Atomics.load(shard.ctl, 7) === snaps || Atomics.load(shard.ctl, 1) !== 1) if (performance.now() - t2 > 50) break;
      const t3 = performance.now();
      arm.push((t1 - t) / n); flush.push(t2 - t1); rearm.push(t3 - t2);
      t = performance.now();
      for (const ac of acs) ac.abort();
      abort.push((performance.now() - t) / n);
      await Promise.all(ps);
      // with a timeout (a timer per wait), disarmed by abort
      const acs2 = Array.from({ length: n }, () => new AbortController());
      t = performance.now();
      const ps2 = acs2.map((ac, i) => engine.wait(segs[i].view, 0, 0, { signal: ac.signal, timeoutMs: 60_000 }).catch(() => 'aborted'));
      armT.push((performance.now() - t) / n);
      for (const ac of acs2) ac.abort();
      await Promise.all(ps2);
      // no signal, no timer: the engine's own cost; ended by a change of the words (the resolve path)
      await sleep(1);
      t = performance.now();
      const ps3 = acs.map((_, i) => engine.wait(segs[i].view, 0, 0));
      armBare.push((performance.now() - t) / n);
      for (let i = 0; i < n; i++) Atomics.store(segs[i].view, 0, 1);
      notify(segs[0].view, 0);
      await Promise.all(ps3);
      for (let i = 0; i < n; i++) Atomics.store(segs[i].view, 0, 0);
    }
    out[`n${n}`] = { armBareUs: us(median(armBare)), armBareMinUs: us(Math.min(...armBare)), armUs: us(median(arm)), armMinUs: us(Math.min(...arm)), armWithTimerUs: us(median(armT)), flushUs: us(median(flush)), workerRearmUs: us(median(rearm)), workerRearmP99Us: us(pct(rearm, 99)), abortUs: us(median(abort)), abortMinUs: us(Math.min(...abort)) };
  }
  // resolving: 100 waits, all 100 words changed + FUTEX_WAKE from this thread
  reportMs = 0; resolved = 0;
  for (let r = 0; r < 20; r++) {
    const ps = segs.slice(0, 100).map((s) => engine.wait(s.view, 0, 0));
    await sleep(5);
    for (const s of segs.slice(0, 100)) { Atomics.store(s.view, 0, 1); notify(s.view, 0); }
    await Promise.all(ps);
    for (const s of segs.slice(0, 100)) Atomics.store(s.view, 0, 0);
  }
  out.resolve = { perWaitUs: us(reportMs / resolved), resolved, reportsSeen: engine.counters.reports };
  // today: the sync part of a waitAsync call (a koffi async call queued on the pool), for comparison
  const todays: number[] = [];
  for (let r = 0; r < 200; r++) {
    const t = performance.now();
    const p = waitAsync(segs[0].view, 0, 0, 20, { sliceMs: 50, spin: 0 });
    todays.push(performance.now() - t);
    await p;
  }
  out.todayWaitAsyncCallUs = us(median(todays));
  out.notifyUs = (() => { const t = performance.now(); for (let i = 0; i < 2000; i++) notify(segs[127].view, 0); return us((performance.now() - t) / 2000); })();
  console.log(JSON.stringify({ which, ...out }));
  process.exit(0);
} else {
  const n = Number(process.argv[3]);
  // n waits spread over at most 1000 segments (several words per segment beyond 1000)
  const segs = makeSegments(Math.min(n, 1000));
  const engine = new WaitEngine();
  const rss0 = rss(), th0 = threads();
  const acs = Array.from({ length: n }, () => new AbortController());
  // the cost of constructing one Worker (synchronous part), measured apart
  const tw = performance.now();
  engine._shardWithRoom();
  const workerCtorMs = performance.now() - tw;
  let t = performance.now();
  const ps = acs.map((ac, i) => engine.wait(segs[i % 1000].view, Math.floor(i / 1000), 0, { signal: ac.signal }).catch(() => 'aborted'));
  const armUs = ((performance.now() - t) / n) * 1000;
  const t0 = performance.now();
  await engine.ready();
  const readyMs = performance.now() - t0;
  // every thread asleep in futex_waitv
  while (!engine.shards.every((s) => Atomics.load(s.ctl, 1) === 1)) await sleep(5);
  const asleepMs = performance.now() - t0;
  await sleep(500);
  const rss1 = rss(), th1 = threads();
  t = performance.now();
  for (const ac of acs) ac.abort();
  const abortUs = ((performance.now() - t) / n) * 1000;
  await Promise.all(ps);
  const cpu0 = process.cpuUsage();
  await sleep(2000);
  const c = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ which, n, shards: engine.shards.length, workerCtorMs: +workerCtorMs.toFixed(1), armUs: +armUs.toFixed(2), abortUs: +abortUs.toFixed(2), readyMs: Math.round(readyMs), allAsleepMs: Math.round(asleepMs), threadsBefore: th0, threadsAfter: th1, rssBeforeMiB: rss0, rssAfterMiB: rss1, rssPerThreadMiB: +((rss1 - rss0) / engine.shards.length).toFixed(1), idleCpuPctAfterAbort: +(((c.user + c.system) / 1000 / 2000) * 100).toFixed(3) }));
  process.exit(0);
}
