// Functional checks of the engine: every outcome, sharing, sharding, negative values, wakes from this process.
import { WaitEngine } from './engine.mjs';
import { makeSegments, notify, sleep } from './common.ts';
import assert from 'node:assert/strict';

const report = (process.argv[2] ?? 'atomics') as 'atomics' | 'port';
const forcePoll = process.argv[3] === 'poll';
const engine = new WaitEngine({ report, forcePoll, pollMs: 2 });
const segs = makeSegments(300);
const v = segs[0].view;

assert.equal(await engine.wait(v, 0, 1), 'not-equal');
assert.equal(await engine.wait(v, 0, 0, { timeoutMs: 30 }), 'timed-out');
// woken by a change + notify from this thread (the worker is another thread; the futex is shared)
let p = engine.wait(v, 0, 0);
await sleep(20);
Atomics.store(v, 0, 1); notify(v, 0);
assert.equal(await p, 'ok');
// a pure FUTEX_WAKE without a change: 'ok' with futex_waitv (poll mode cannot see it: skip there)
if (!forcePoll) {
  p = engine.wait(v, 0, 1);
  await sleep(20);
  notify(v, 0);
  assert.equal(await p, 'ok');
}
// negative expected (u32 zero-extension in the waitv entry)
Atomics.store(v, 1, -5);
p = engine.wait(v, 1, -5);
await sleep(20);
Atomics.store(v, 1, 7); notify(v, 1);
assert.equal(await p, 'ok');
// abort
const ac = new AbortController();
p = engine.wait(v, 2, 0, { signal: ac.signal });
setTimeout(() => ac.abort(new Error('bye')), 10);
await assert.rejects(p, (e: any) => e.name === 'AbortError' && e.cause?.message === 'bye');
// word changed before the worker armed (no notify at all): EAGAIN path
p = engine.wait(v, 3, 0);
Atomics.store(v, 3, 1);
assert.equal(await p, 'ok');
// two waits on the same word share a slot; one times out, the other is woken
const a = engine.wait(v, 4, 0, { timeoutMs: 20 });
const b = engine.wait(v, 4, 0);
assert.equal(await a, 'timed-out');
Atomics.store(v, 4, 1); notify(v, 4);
assert.equal(await b, 'ok');
// 300 waits on 300 segments: 3 shards; wake them in random order
const ps = segs.map((s) => engine.wait(s.view, 10, 0));
await sleep(100);
console.log('armed 300:', JSON.stringify(engine.stats().shards));
const order = segs.map((_, i) => i).sort(() => Math.random() - 0.5);
const got: number[] = [];
ps.forEach((q, i) => q.then((r) => { assert.equal(r, 'ok'); got.push(i); }));
for (const i of order) { Atomics.store(segs[i].view, 10, 1); notify(segs[i].view, 10); if (i % 7 === 0) await sleep(1); }
await Promise.all(ps);
assert.equal(got.length, 300);
console.log(report, forcePoll ? 'poll' : 'waitv', 'all functional checks passed', JSON.stringify(engine.stats()));
