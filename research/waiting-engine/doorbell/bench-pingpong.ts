// Measurement 3: 64-byte async ping-pong between two Node processes (this one pings; peer.ts pongs), pinned to
// CPUs 0 and 1: both ends waiting through doorbells, next to a Unix-domain net socket, process.send with
// serialization 'advanced', the library's current waitAsync (pool thread), and an async end against a synchronous
// C end (FUTEX_WAIT) for the interop.
import fs from 'node:fs';
import net from 'node:net';
import { notify, waitAsync } from '/work/main/lib/index.js';
import { cChild, createSegment, median, nodeChild, output, r2, summary } from './common.js';
import { Engine, Waker } from './engine.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const N = Number(process.env.N ?? 3000);
const WARM = 200;

async function shmPingPong(kind: 'doorbell' | 'library' | 'doorbell-vs-c' | 'doorbell-vs-sync', transport: 'pipe' | 'socket', sharing: 'process' | 'per-end'): Promise<number[]> {
  const seg = createSegment();
  const v = seg.i32;
  const id = String(seg.segment.id);
  const engine = kind === 'library' ? undefined : new Engine({ transport, sharing });
  const waker = new Waker();
  const child =
    kind === 'doorbell'
      ? nodeChild(['peer.ts', 'pong-async', id, transport, sharing], { cpu: 1 })
      : kind === 'library'
        ? nodeChild(['peer.ts', 'pong-lib', id], { cpu: 1 })
        : kind === 'doorbell-vs-sync'
          ? nodeChild(['peer.ts', 'pong-sync', id], { cpu: 1 })
          : cChild(['pong', id], 1);
  const done = output(child);
  const payload = Buffer.alloc(64);
  const rtt: number[] = [];
  for (let i = 1; i <= N + WARM; i++) {
    const t0 = process.hrtime.bigint();
    payload.writeInt32LE(i, 0);
    seg.bytes.set(payload, 256);
    Atomics.store(v, 0, i);
    if (engine) waker.ring(v, 0);
    else notify(v, 0);
    let cur: number;
    while ((cur = Atomics.load(v, 32)) !== i) {
      if (engine) await engine.wait(v, 32, cur, { timeoutMs: 5000 });
      else await waitAsync(v, 32, cur, 5000, { spin: 0 });
    }
    if (seg.bytes[384] !== (i & 0xff)) throw new Error('payload mismatch');
    if (i > WARM) rtt.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  Atomics.store(v, 0, -1);
  if (engine) waker.ring(v, 0);
  else notify(v, 0);
  const { code } = await done;
  if (code !== 0) throw new Error(`peer exited ${code}`);
  engine?.close();
  waker.close();
  seg.detach();
  return rtt;
}

async function netPingPong(): Promise<number[]> {
  const path = `/tmp/spike-doorbell/pp-${process.pid}.sock`;
  fs.rmSync(path, { force: true });
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(path, r));
  const child = nodeChild(['peer.ts', 'pong-net', path], { cpu: 1 });
  const done = output(child);
  const conn: net.Socket = await new Promise((r) => server.once('connection', r));
  let got = 0;
  let wake: (() => void) | undefined;
  conn.on('data', (d) => {
    got += d.length;
    if (got >= 64) {
      got -= 64;
      wake?.();
    }
  });
  const payload = Buffer.alloc(64);
  const rtt: number[] = [];
  for (let i = 1; i <= N + WARM; i++) {
    const t0 = process.hrtime.bigint();
    const p = new Promise<void>((r) => (wake = r));
    conn.write(payload);
    await p;
    if (i > WARM) rtt.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  conn.destroy();
  child.kill();
  await done;
  server.close();
  fs.rmSync(path, { force: true });
  return rtt;
}

async function ipcPingPong(): Promise<number[]> {
  const child = nodeChild(['peer.ts', 'pong-ipc'], { cpu: 1, ipc: true, serialization: 'advanced' });
  const done = output(child);
  let wake: (() => void) | undefined;
  child.on('message', () => wake?.());
  const payload = new Uint8Array(64);
  const rtt: number[] = [];
  for (let i = 1; i <= N + WARM; i++) {
    const t0 = process.hrtime.bigint();
    const p = new Promise<void>((r) => (wake = r));
    child.send(payload);
    await p;
    if (i > WARM) rtt.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  child.send('end');
  await done;
  return rtt;
}

const results = new Map<string, { p50: number[]; p99: number[] }>();
const record = (name: string, rtt: number[]) => {
  const s = summary(rtt);
  if (!results.has(name)) results.set(name, { p50: [], p99: [] });
  results.get(name)!.p50.push(s.p50);
  results.get(name)!.p99.push(s.p99);
  const sorted = [...rtt].sort((a, b) => a - b);
  const q = (x: number) => r2(sorted[Math.floor(x * (sorted.length - 1))]);
  console.error(`${name}: p10 ${q(0.1)} p25 ${q(0.25)} p50 ${r2(s.p50)} p75 ${q(0.75)} p90 ${q(0.9)} p99 ${r2(s.p99)} us`);
};
const ONLY = process.env.ONLY;
for (let round = 0; round < ROUNDS && ONLY; round++) {
  if (ONLY.includes('d')) record('doorbell pipe/process (async <-> async)', await shmPingPong('doorbell', 'pipe', 'process'));
  if (ONLY.includes('l')) record('library waitAsync today (pool thread <-> pool thread)', await shmPingPong('library', 'pipe', 'process'));
  if (ONLY.includes('n')) record('net Unix socket', await netPingPong());
  if (ONLY.includes('c')) record('doorbell pipe/process async <-> sync C (futex)', await shmPingPong('doorbell-vs-c', 'pipe', 'process'));
}
for (let round = 0; round < ROUNDS && !ONLY; round++) {
  record('doorbell pipe/process (async <-> async)', await shmPingPong('doorbell', 'pipe', 'process'));
  record('doorbell pipe/per-end (async <-> async)', await shmPingPong('doorbell', 'pipe', 'per-end'));
  record('doorbell socket/process (async <-> async)', await shmPingPong('doorbell', 'socket', 'process'));
  record('doorbell socket/per-end (async <-> async)', await shmPingPong('doorbell', 'socket', 'per-end'));
  record('net Unix socket', await netPingPong());
  record("process.send (serialization 'advanced')", await ipcPingPong());
  record('library waitAsync today (pool thread <-> pool thread)', await shmPingPong('library', 'pipe', 'process'));
  record('doorbell pipe/process async <-> sync Node (futex)', await shmPingPong('doorbell-vs-sync', 'pipe', 'process'));
  record('doorbell pipe/process async <-> sync C (futex)', await shmPingPong('doorbell-vs-c', 'pipe', 'process'));
}
const table = [...results.entries()].map(([name, r]) => ({
  transport: name,
  'RTT p50 us': r2(median(r.p50)),
  'RTT p99 us': r2(median(r.p99)),
  'p50 per round': r.p50.map((x) => r2(x)).join(' '),
}));
console.table(table);
console.log(JSON.stringify({ node: process.version, rounds: ROUNDS, n: N, table }));
