// Measurement 2: wake latency. Another process (C, or synchronous Node) waits until this process's wait is armed,
// pauses 1-3 ms (this process is then asleep in epoll), stamps CLOCK_MONOTONIC into the segment, publishes and
// rings. Latency = the moment the promise's continuation runs here minus the stamp (process.hrtime is
// CLOCK_MONOTONIC too). With 1 pending wait, and with 999 other waits pending on other segments.
import { setMaxListeners } from 'node:events';
import { waitAsync } from '/work/main/lib/index.js';
import { cChild, createSegment, median, nodeChild, output, r2, summary, type Seg } from './common.js';
import { C_STATE, Engine, S_FUTEX, S_IDLE, waitSync } from './engine.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const COUNT = Number(process.env.COUNT ?? 1000);
const segs: Seg[] = [];
for (let i = 0; i < 1000; i++) segs.push(createSegment(4096));
const target = segs[0];

type Mode = { transport: 'pipe' | 'socket'; sharing: 'process' | 'per-end'; tokens?: boolean } | 'library' | 'sync-futex';

async function run(mode: Mode, pending: number, waker: 'c' | 'node'): Promise<number[]> {
  const v = target.i32;
  Atomics.store(v, 0, 0);
  const engine = typeof mode === 'string' ? undefined : new Engine(mode);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const others = engine ? segs.slice(1, pending).map((s) => engine.wait(s.i32, 0, 0, { signal: ac.signal }).catch(() => {})) : [];
  const id = String(target.segment.id);
  const child = waker === 'c' ? cChild(['wake', id, '0', String(COUNT), '1000', '3000'], 1) : nodeChild(['peer.ts', 'wake', id, '0', String(COUNT), '1', '3'], { cpu: 1 });
  const done = output(child);
  const lat: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    let cur: number;
    while ((cur = Atomics.load(v, 0)) === i) {
      if (engine) await engine.wait(v, 0, cur, { timeoutMs: 10_000 });
      else if (mode === 'sync-futex') waitSync(v, 0, cur, 10_000); // the floor: the main thread blocked in FUTEX_WAIT
      else {
        // The library today (koffi async FUTEX_WAIT on a pool thread), announced as a futex sleeper.
        Atomics.store(v, C_STATE, S_FUTEX);
        await waitAsync(v, 0, cur, 10_000, { spin: 0, sliceMs: 50 });
        Atomics.store(v, C_STATE, S_IDLE);
      }
    }
    const t1 = process.hrtime.bigint();
    lat.push(Number(t1 - Atomics.load(target.i64, 8)) / 1000);
  }
  const { code } = await done;
  if (code !== 0) throw new Error(`waker exited with ${code}`);
  ac.abort();
  await Promise.all(others);
  engine?.close();
  return lat.slice(50); // warm-up
}

const results = new Map<string, { p50: number[]; p99: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const waker of ['c', 'node'] as const) {
    for (const pending of [1, 1000]) {
      const modes: Mode[] = [
        { transport: 'pipe', sharing: 'process' },
        { transport: 'pipe', sharing: 'per-end' },
        { transport: 'socket', sharing: 'process' },
        { transport: 'socket', sharing: 'per-end' },
      ];
      if (pending === 1) modes.push('library', 'sync-futex');
      else modes.push({ transport: 'pipe', sharing: 'process', tokens: false });
      for (const mode of modes) {
        const name = mode === 'library' ? 'library waitAsync (pool thread)' : mode === 'sync-futex' ? 'sync FUTEX_WAIT on the main thread (floor)' : `${mode.transport}/${mode.sharing}${mode.tokens === false ? ' (no tokens: scan all)' : ''}`;
        const s = summary(await run(mode, pending, waker));
        const key = `${name}|${pending}|${waker}`;
        if (!results.has(key)) results.set(key, { p50: [], p99: [] });
        results.get(key)!.p50.push(s.p50);
        results.get(key)!.p99.push(s.p99);
        console.error(`round ${round} ${name} pending ${pending} waker ${waker}: p50 ${r2(s.p50)} us p99 ${r2(s.p99)} us`);
      }
    }
  }
}
const table = [...results.entries()].map(([k, r]) => {
  const [config, pending, waker] = k.split('|');
  return { config, pending: Number(pending), waker, 'p50 us': r2(median(r.p50)), 'p99 us': r2(median(r.p99)), 'p50 per round': r.p50.map(r2).join(' ') };
});
console.table(table);
console.log(JSON.stringify({ node: process.version, rounds: ROUNDS, count: COUNT, table }));
for (const s of segs) s.detach();
