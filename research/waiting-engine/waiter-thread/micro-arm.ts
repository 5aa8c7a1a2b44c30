// Micro-benchmark of arming: batches of 120 waits on 120 segments, repeated; min and median per wait.
import { WaitEngine } from './engine.mjs';
import { makeSegments, sleep, median } from './common.ts';
const segs = makeSegments(120);
const engine = new WaitEngine();
await engine.ready();
const variants: Record<string, (i: number, ac: AbortController) => Promise<unknown>> = {
  plain: (i, ac) => engine.wait(segs[i].view, 0, 0, { signal: ac.signal }),
  timer: (i, ac) => engine.wait(segs[i].view, 0, 0, { signal: ac.signal, timeoutMs: 60000 }),
};
for (const [name, fn] of Object.entries(variants)) {
  const per: number[] = [];
  const ab: number[] = [];
  for (let r = 0; r < 200; r++) {
    const acs = segs.map(() => new AbortController());
    const t = performance.now();
    const ps = acs.map((ac, i) => fn(i, ac).catch(() => 0));
    per.push(((performance.now() - t) / segs.length) * 1000);
    const t2 = performance.now();
    for (const ac of acs) ac.abort();
    ab.push(((performance.now() - t2) / segs.length) * 1000);
    await Promise.all(ps);
    if (r % 20 === 0) await sleep(1);
  }
  const s = per.slice(50), a = ab.slice(50);
  console.log(name, 'arm us/wait min', Math.min(...s).toFixed(2), 'median', median(s).toFixed(2), '| abort us/wait min', Math.min(...a).toFixed(2), 'median', median(a).toFixed(2));
}
// AbortController creation + addEventListener alone, for scale
{
  const per: number[] = [];
  for (let r = 0; r < 200; r++) {
    const t = performance.now();
    for (let i = 0; i < 120; i++) { const ac = new AbortController(); ac.signal.addEventListener('abort', () => {}, { once: true }); }
    per.push(((performance.now() - t) / 120) * 1000);
  }
  console.log('AbortController+listener alone us min', Math.min(...per.slice(50)).toFixed(2), 'median', median(per.slice(50)).toFixed(2));
}
console.log(JSON.stringify(engine.stats().shards));
process.exit(0);
