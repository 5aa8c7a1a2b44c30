// Measurement 4: costs. In this process: creating a doorbell, arming and disarming a wait, scanning pending waits.
// In a waker process (C and sync Node): a ring when nobody sleeps, a ring of a doorbell whose fd is cached (one
// write/send), and of one opened each time (open + fstat + write + close, or socket + connect + send + close).
import { setMaxListeners } from 'node:events';
import { cChild, createSegment, median, nodeChild, output, r2, type Seg } from './common.js';
import { Engine } from './engine.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const segs: Seg[] = [];
for (let i = 0; i < 1000; i++) segs.push(createSegment(4096));
const now = () => process.hrtime.bigint();
const us = (t: bigint, n: number) => Number(now() - t) / 1000 / n;

const acc = new Map<string, number[]>();
const put = (k: string, x: number) => {
  if (!acc.has(k)) acc.set(k, []);
  acc.get(k)!.push(x);
};

for (let round = 0; round < ROUNDS; round++) {
  for (const transport of ['pipe', 'socket'] as const) {
    // Doorbell creation (per-end sharing creates one per receiving end at its first wait).
    {
      const engine = new Engine({ transport, sharing: 'per-end' });
      const t = now();
      for (let i = 0; i < 200; i++) engine.doorbellFor(segs[i].i32, 0);
      put(`${transport}: create a doorbell (us)`, us(t, 200));
      engine.close();
    }
    for (const sharing of ['process', 'per-end'] as const) {
      const engine = new Engine({ transport, sharing });
      for (let i = 0; i < 1000; i++) engine.doorbellFor(segs[i].i32, 0); // doorbells exist already
      // arm (the synchronous part of wait() that ends pending) and disarm by abort, 1000 waits on 1000 segments
      for (const withTimeout of [false, true]) {
        const acs = segs.map(() => new AbortController());
        const ps: Promise<unknown>[] = [];
        let t = now();
        for (let i = 0; i < 1000; i++) ps.push(engine.wait(segs[i].i32, 0, 0, { signal: acs[i].signal, timeoutMs: withTimeout ? 60_000 : undefined }));
        put(`${transport}/${sharing}: arm${withTimeout ? ' with a timeout' : ''} (us)`, us(t, 1000));
        // scan: one doorbell event with 1000 pending, none ready (process sharing: what every ring costs)
        if (sharing === 'process' && !withTimeout) {
          const bell = engine.doorbellFor(segs[0].i32, 0);
          t = now();
          for (let k = 0; k < 100; k++) bell.check();
          put(`${transport}/process: scan 1000 pending waits, none ready (us)`, us(t, 100));
        }
        t = now();
        for (let i = 0; i < 1000; i++) acs[i].abort();
        put(`${transport}/${sharing}: disarm by abort${withTimeout ? ' with a timeout' : ''} (us)`, us(t, 1000));
        await Promise.allSettled(ps);
      }
      // One whole cycle on one thread: arm, ring our own doorbell (write), epoll, read, token, settle, resume.
      {
        const v = segs[0].i32;
        const { Waker } = await import('./engine.js');
        const w = new Waker();
        for (let k = 0; k < 2; k++) {
          const t = now();
          for (let i = 0; i < 2000; i++) {
            const x = Atomics.load(v, 0);
            const p = engine.wait(v, 0, x);
            Atomics.store(v, 0, x + 1);
            w.ring(v, 0);
            await p;
          }
          if (k === 1) put(`${transport}/${sharing}: same-process cycle wait + ring + resolve (us)`, us(t, 2000));
        }
        Atomics.store(v, 0, 0);
        w.close();
      }
      // AbortController + abort with nothing attached, to subtract
      {
        const acs = segs.map(() => new AbortController());
        for (const a of acs) a.signal.addEventListener('abort', () => {}, { once: true });
        const t = now();
        for (let i = 0; i < 1000; i++) acs[i].abort();
        put(`(reference) AbortController.abort() with one listener (us)`, us(t, 1000));
      }
      engine.close();
    }

    // Rings from another process, at a doorbell of this process with one wait pending on it (the waker calls
    // ringDoorbell with the identity it read, so the wait stays armed; this process drains the bytes).
    const engine = new Engine({ transport, sharing: 'process' });
    const ac = new AbortController();
    setMaxListeners(0, ac.signal);
    const p = engine.wait(segs[0].i32, 0, 0, { signal: ac.signal }).catch(() => {});
    const id = String(segs[0].segment.id);
    const c = JSON.parse((await output(cChild(['ringcost', id, '0', '20000'], 1))).out);
    const n = JSON.parse((await output(nodeChild(['peer.ts', 'ringcost', id, '0', '20000'], { cpu: 1 }))).out);
    put(`${transport}: C ring, nobody sleeps (ns)`, c.idle_ns);
    put(`${transport}: C ring, cached fd (us)`, c.cached_ns / 1000);
    put(`${transport}: C ring, opened each time (us)`, c.uncached_ns / 1000);
    put(`${transport}: Node ring, nobody sleeps (ns)`, n.idle_ns);
    put(`${transport}: Node ring, cached fd (us)`, n.cached_ns / 1000);
    put(`${transport}: Node ring, opened each time (us)`, n.uncached_ns / 1000);
    put(`${transport}: doorbell events drained while rung 2 x 20000 + 2 x 2000 times`, engine.stats().events);
    ac.abort();
    await p;
    engine.close();
  }
}
const table = [...acc.entries()].map(([what, xs]) => ({ what, median: r2(median(xs)), min: r2(Math.min(...xs)), max: r2(Math.max(...xs)) }));
console.table(table);
console.log(JSON.stringify({ node: process.version, rounds: ROUNDS, table }));
for (const s of segs) s.detach();
