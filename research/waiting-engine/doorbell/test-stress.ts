// Lost-wakeup stress: 200 async waiters in this process, each on its own cell (two segments), re-arming after every
// change, some with short random timeouts and some aborted at random (slot reuse, stale tokens); a C or Node waker
// process bumps random cells and rings, as fast as it can, then sets every cell to -1. Without timeouts on the
// final waits, a lost wake-up leaves a waiter hanging: the watchdog reports it.
import { setMaxListeners } from 'node:events';
import { createSegment, nodeChild, output, cChild } from './common.js';
import { CELL_WORDS, Engine } from './engine.js';

const CELLS = 200;
const BUMPS = Number(process.env.BUMPS ?? 100_000);

async function run(transport: 'pipe' | 'socket', sharing: 'process' | 'per-end', waker: 'c' | 'node') {
  const seg = createSegment(CELLS * CELL_WORDS * 4);
  const v = seg.i32;
  const engine = new Engine({ transport, sharing });
  let waits = 0;
  let timeouts = 0;
  let aborts = 0;
  const consumer = async (k: number) => {
    const i = k * CELL_WORDS;
    for (;;) {
      const cur = Atomics.load(v, i);
      if (cur === -1) return;
      const r = Math.random();
      const ac = r < 0.05 ? new AbortController() : undefined;
      if (ac) setMaxListeners(0, ac.signal);
      const p = engine.wait(v, i, cur, { timeoutMs: r > 0.9 ? Math.random() * 3 : undefined, signal: ac?.signal });
      if (ac) setTimeout(() => ac.abort(), Math.random() * 2);
      waits++;
      try {
        if ((await p) === 'timed-out') timeouts++;
      } catch {
        aborts++;
      }
    }
  };
  const all = Promise.all(Array.from({ length: CELLS }, (_, k) => consumer(k)));
  const t = performance.now();
  const child = waker === 'c' ? cChild(['stress', String(seg.segment.id), String(CELLS), String(BUMPS)]) : nodeChild(['peer.ts', 'stress', String(seg.segment.id), String(CELLS), String(BUMPS)]);
  const done = output(child);
  const { code } = await done;
  let hung = false;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(() => ((hung = true), r()), 10_000)))]);
  clearTimeout(timer);
  if (hung) console.log(`  HUNG: ${engine.stats().pending} waits still pending 10 s after the last bump`);
  const s = engine.stats();
  console.log(
    `${transport}/${sharing} waker ${waker}: ${BUMPS} bumps, ${waits} waits (${timeouts} timed out, ${aborts} aborted), doorbell events ${s.events}, full scans ${s.scans}, ${Math.round(performance.now() - t)} ms, waker exit ${code}${hung ? ' HUNG' : ''}`,
  );
  engine.close();
  seg.detach();
}

for (const transport of ['pipe', 'socket'] as const) for (const sharing of ['process', 'per-end'] as const) for (const w of ['c', 'node'] as const) await run(transport, sharing, w);
