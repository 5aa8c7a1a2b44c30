// Child-process roles for the measurements: wakers (sync Node), ping-pong peers (sync futex / async doorbell /
// the library's current waitAsync / net / process.send).
import net from 'node:net';
import { notify, waitAsync } from '/work/main/lib/index.js';
import { attachSegment, sleepSync } from './common.js';
import { C_STATE, C_KIND, C_PID, C_A, C_B, Engine, S_IDLE, Waker, waitSync } from './engine.js';

const [role, ...args] = process.argv.slice(2);

function now(): bigint {
  return process.hrtime.bigint();
}

if (role === 'wake') {
  // wake SHMID WORDINDEX COUNT GAPMIN_MS GAPMAX_MS: like cwaker wake, from synchronous Node
  const [id, index, count, gmin, gmax] = args.map(Number);
  const seg = attachSegment(id);
  const view = seg.i32;
  const stampIndex = (index + 16) / 2; // 64 bytes after the cell, as a BigInt64 index
  const waker = new Waker();
  for (let i = 0; i < count; i++) {
    const t = Date.now();
    while (Atomics.load(view, index + C_STATE) === S_IDLE) {
      if (Date.now() - t > 5000) throw new Error('receiver never armed');
      sleepSync(0.02);
    }
    sleepSync(gmin + Math.random() * (gmax - gmin));
    Atomics.store(seg.i64, stampIndex, now());
    Atomics.add(view, index, 1);
    const r = waker.ring(view, index);
    if (r !== 'rung' && r !== 'full' && r !== 'futex') throw new Error(`ring: ${r}`);
  }
  seg.detach();
} else if (role === 'ringcost') {
  // ringcost SHMID WORDINDEX N: ns per ring: idle cell, cached doorbell, uncached doorbell (Node + koffi)
  const [id, index, n] = args.map(Number);
  const seg = attachSegment(id);
  const v = seg.i32;
  const kind = v[index + C_KIND], pid = v[index + C_PID], a = v[index + C_A], b = v[index + C_B];
  const idle = new Int32Array(seg.i32.buffer, 3072, 8); // a cell nobody waits on (in the segment)
  const cached = new Waker();
  const uncached = new Waker({ cache: false });
  const res: Record<string, number> = {};
  for (let round = 0; round < 2; round++) {
    // round 0 warms up
    let t = now();
    for (let i = 0; i < n * 100; i++) cached.ring(idle, 0);
    res.idle_ns = Number(now() - t) / (n * 100);
    t = now();
    for (let i = 0; i < n; i++) cached.ringDoorbell(kind, pid, a, b);
    res.cached_ns = Number(now() - t) / n;
    t = now();
    for (let i = 0; i < n / 10; i++) uncached.ringDoorbell(kind, pid, a, b);
    res.uncached_ns = Number(now() - t) / (n / 10);
  }
  console.log(JSON.stringify(res));
  seg.detach();
} else if (role === 'stress') {
  // stress SHMID CELLS BUMPS: like cwaker stress, from synchronous Node
  const [id, cells, bumps] = args.map(Number);
  const seg = attachSegment(id);
  const v = seg.i32;
  const waker = new Waker();
  for (let i = 0; i < bumps; i++) {
    const k = Math.floor(Math.random() * cells) * 8;
    Atomics.add(v, k, 1);
    waker.ring(v, k);
    if ((i & 15) === 0) sleepSync(Math.random() * 0.2);
  }
  for (let k = 0; k < cells; k++) {
    Atomics.store(v, k * 8, -1);
    waker.ring(v, k * 8);
  }
  seg.detach();
} else if (role === 'ring-hang') {
  // ring-hang SHMID: publish + ring once (the socket transport connects and keeps the connection), then hang
  const seg = attachSegment(Number(args[0]));
  const waker = new Waker();
  Atomics.add(seg.i32, 0, 1);
  console.log(JSON.stringify({ ring: waker.ring(seg.i32, 0) }));
  setInterval(() => {}, 1 << 30);
} else if (role === 'ringidle') {
  // ringidle N: N rings of a cell nobody sleeps on (in a segment), between two marker writes, for strace
  const { createSegment } = await import('./common.js');
  const seg = createSegment();
  const waker = new Waker();
  const n = Number(args[0]);
  for (let i = 0; i < 1000; i++) waker.ring(seg.i32, 0); // warm up (JIT)
  process.stderr.write('BEGIN\n');
  for (let i = 0; i < n; i++) waker.ring(seg.i32, 0);
  process.stderr.write('END\n');
  seg.detach();
} else if (role === 'pong-sync') {
  // pong-sync SHMID: synchronous Node peer (FUTEX_WAIT through waitSync); P at word 0, Q at word 32; -1 ends
  const seg = attachSegment(Number(args[0]));
  const v = seg.i32;
  const waker = new Waker();
  let last = 0; // pings start at 1
  for (;;) {
    let x: number;
    while ((x = Atomics.load(v, 0)) === last) waitSync(v, 0, last, 5000);
    if (x === -1) break;
    seg.bytes.copyWithin(384, 256, 320);
    last = x;
    Atomics.store(v, 32, x);
    waker.ring(v, 32);
  }
  seg.detach();
} else if (role === 'pong-async' || role === 'pong-lib') {
  // pong-async SHMID TRANSPORT SHARING: async doorbell peer. pong-lib SHMID: the library's waitAsync (pool thread).
  const seg = attachSegment(Number(args[0]));
  const v = seg.i32;
  const engine = role === 'pong-async' ? new Engine({ transport: args[1] as 'pipe', sharing: args[2] as 'process' }) : undefined;
  const waker = new Waker();
  let last = 0; // pings start at 1
  for (;;) {
    let x: number;
    while ((x = Atomics.load(v, 0)) === last) {
      if (engine) await engine.wait(v, 0, last, { timeoutMs: 5000 });
      else await waitAsync(v, 0, last, 5000, { spin: 0 });
    }
    if (x === -1) break;
    seg.bytes.copyWithin(384, 256, 320);
    last = x;
    Atomics.store(v, 32, x);
    if (engine) waker.ring(v, 32);
    else notify(v, 32);
  }
  engine?.close();
  seg.detach();
} else if (role === 'pong-net') {
  // pong-net PATH: a Unix-domain net socket echo of 64-byte messages
  const c = net.connect({ path: args[0] });
  c.setNoDelay?.(true);
  let pending = Buffer.alloc(0);
  c.on('data', (d) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= 64) {
      c.write(pending.subarray(0, 64));
      pending = pending.subarray(64);
    }
  });
  c.on('error', () => {});
} else if (role === 'pong-ipc') {
  // pong-ipc: process.send echo (serialization chosen by the parent)
  process.on('message', (m: any) => {
    if (m === 'end') process.disconnect();
    else process.send!(m);
  });
}
