// Race check: 400 concurrent wait loops on 400 words (4 segments, 4 shards) while a C process bumps random words
// for `seconds`, mixed with timeouts and aborts. Fails if an infinite wait stays pending > 250 ms after its word
// changed (a lost wake), or if a loop does not see the final bump of every word.
// node --import tsx stress.ts [atomics|port|poll] [seconds]
import { spawn } from 'node:child_process';
import { WaitEngine } from './engine.mjs';
import { makeSegments, sleep } from './common.ts';

const report = (process.argv[2] ?? 'atomics');
const seconds = Number(process.argv[3] ?? 10);
const PER = 100, NSEG = 4;
const segs = makeSegments(NSEG);
const engine = new WaitEngine({ report: report === 'port' ? 'port' : 'atomics', forcePoll: report === 'poll', pollMs: 2 });
await engine.ready();
const words = [];
for (const s of segs) for (let k = 0; k < PER; k++) words.push({ view: s.view, index: 4 * k });
const counts = { ok: 0, notEqual: 0, timedOut: 0, aborted: 0, late: 0 };
const pendingSince = new Map<number, { expected: number; since: number; changedAt?: number }>();
let stop = false;
const stopAll = new AbortController();
import { setMaxListeners } from 'node:events';
setMaxListeners(0, stopAll.signal);
async function loop(w: number) {
  const { view, index } = words[w];
  let seen = 0;
  while (!stop) {
    const expected = Atomics.load(view, index);
    seen = expected;
    const roll = Math.random();
    const ac = new AbortController();
    stopAll.signal.addEventListener('abort', () => ac.abort(), { once: true });
    const timeoutMs = roll < 0.3 ? 1 + Math.random() * 20 : Infinity;
    if (roll > 0.9) setTimeout(() => ac.abort(), Math.random() * 10);
    if (timeoutMs === Infinity && roll <= 0.9) pendingSince.set(w, { expected, since: performance.now() });
    try {
      const r = await engine.wait(view, index, expected, { timeoutMs, signal: ac.signal });
      if (r === 'ok') counts.ok++; else if (r === 'not-equal') counts.notEqual++; else counts.timedOut++;
    } catch (e: any) {
      if (e.name !== 'AbortError') throw e;
      counts.aborted++;
    }
    pendingSince.delete(w);
    if (stop && Atomics.load(view, index) !== expected) { /* saw a change after stop */ }
  }
}
const finals = words.map((_, w) => loop(w));
await engine.ready(); // all four waiter threads up before the toggling starts (start-up latency is measured elsewhere)
const child = spawn('/tmp/spike-waitv/c/toggler', [String(seconds), String(PER), ...segs.map((s) => String(s.id))], { stdio: 'inherit' });
const exited = new Promise((r) => child.once('exit', r));
// lost-wake detector: an infinite wait whose word differs from its expected value for > 250 ms
const detector = setInterval(() => {
  const now = performance.now();
  for (const [w, p] of pendingSince) {
    const { view, index } = words[w];
    if (Atomics.load(view, index) !== p.expected) {
      p.changedAt ??= now;
      if (now - p.changedAt > 250) {
        counts.late++;
        const rec: any = [...engine.byKey.values()].find((r: any) => r.waiters.size && [...r.waiters].some((x: any) => x.rec === r) && r.key === `${engine._address(view, index)}/${p.expected}`);
        const t = rec ? Array.from(rec.shard.table.slice(rec.slot * 8, rec.slot * 8 + 6)) : null;
        if (counts.late < 10) console.error(`LATE: word ${w} (value ${Atomics.load(view, index)}, expected ${p.expected}) changed ${(now - p.changedAt).toFixed(0)} ms ago; rec ${rec ? `shard ${rec.shard.index} slot ${rec.slot} seq ${rec.seq}` : 'none'}; table [state,seq,exp,lo,hi,fired] ${t}; ctl ${rec ? Array.from(rec.shard.ctl.slice(0, 8)) : ''}; bell ${Atomics.load(engine.bell, 0)}/${engine.bellSeen}`);
        p.changedAt = now;
      }
    }
  }
}, 50);
await exited;
await sleep(500); // the final bumps must all be delivered (the detector runs meanwhile)
stop = true;
stopAll.abort();
const t = performance.now();
await Promise.race([Promise.all(finals), sleep(3000)]);
clearInterval(detector);
const done = 0;
console.log(JSON.stringify({ report, seconds, ...counts, stillPending: done, finalMs: Math.round(performance.now() - t), stats: engine.stats().shards.map((s: any) => s.returns) }));
process.exit(counts.late || done ? 1 : 0);
