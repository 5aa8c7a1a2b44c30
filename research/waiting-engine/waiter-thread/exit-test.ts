// Exit behaviour of the engine: node --import tsx exit-test.ts <case> [nohook]
import { WaitEngine } from './engine.mjs';
import { makeSegments, notify, sleep } from './common.ts';

const which = process.argv[2];
const exitHook = process.argv[3] !== 'nohook';
const report = (process.argv[4] ?? 'atomics') as 'atomics' | 'port';
const t0 = performance.now();
const log = (m: string) => console.log(`[${(performance.now() - t0).toFixed(0)} ms] ${m}`);
process.on('exit', (code) => log(`exit event, code ${code}`));

if (which === 'bare-waitasync') {
  // Node itself: does a pending Atomics.waitAsync keep the process alive?
  const i32 = new Int32Array(new SharedArrayBuffer(4));
  Atomics.waitAsync(i32, 0, 0).value.then(() => log('woken?'));
  log('pending Atomics.waitAsync, nothing else');
} else {
  const engine = new WaitEngine({ exitHook, report });
  process.on('exit', () => log(`engine's exit hook waited ${engine.exitWaitMs?.toFixed(1)} ms for its threads`));
  const n = which.endsWith('1000') ? 1000 : 8;
  const segs = makeSegments(n);
  if (which === 'natural-idle') {
    // a wait that completes, then nothing pending: the workers sleep in futex_waitv (unref'd)
    const p = engine.wait(segs[0].view, 0, 0);
    await sleep(300);
    Atomics.store(segs[0].view, 0, 1); notify(segs[0].view, 0);
    log(`resolved ${await p}; nothing pending; event loop should end`);
  } else if (which === 'pending') {
    engine.wait(segs[0].view, 0, 0).then((r) => log(`resolved ${r}`));
    log('one infinite wait pending: should the process stay alive? (killed by the runner after 3 s)');
  } else if (which.startsWith('exit-pending')) {
    for (const s of segs) engine.wait(s.view, 0, 0).catch(() => {});
    await sleep(500);
    log(`${n} pending waits, ${engine.shards.length} waiter threads, statuses ${engine.shards.map((s) => s.ctl[4])}; process.exit(0)`);
    process.exit(0);
  } else if (which.startsWith('throw-pending')) {
    for (const s of segs) engine.wait(s.view, 0, 0).catch(() => {});
    await sleep(500);
    log(`${n} pending waits; throwing`);
    setTimeout(() => { throw new Error('uncaught on purpose'); }, 0);
  } else if (which.startsWith('exit-early')) {
    // process.exit() while the waiter threads are still starting (loading koffi)
    for (const s of segs) engine.wait(s.view, 0, 0).catch(() => {});
    const delay = Number(process.argv[5] ?? 0);
    setTimeout(() => { log(`exit after ${delay} ms, statuses ${engine.shards.map((s) => s.ctl[4])}`); process.exit(3); }, delay);
  }
}
