// Measurement 3: 64 B ping-pong between this process and one child (the same two processes for every transport):
// shared memory with a flag protocol where each side awaits through the engine (atomics / port / poll reports),
// through today's waitAsync (koffi async, libuv pool), a Unix-domain `net` socket, and process.send (advanced).
// node --import tsx pingpong.ts [iterations] [modes...]
import { fork } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { makeSegments, notify, pct } from './common.ts';
import { WaitEngine } from './engine.mjs';
import { waitAsync } from '/work/main/lib/index.js';

const iterations = Number(process.argv[2] ?? 3000);
const modes = process.argv.length > 3 ? process.argv.slice(3) : ['atomics', 'port', 'poll', 'today', 'uds', 'ipc'];
const WARM = 300;
// PIN=1: the child on CPU 1 (run this process under `taskset -c 0`), as the project's bench pins its two ends.
const pin = process.env.PIN === '1';
const child = fork('/tmp/spike-waitv/pingpong-child.ts', [], {
  serialization: 'advanced',
  ...(pin ? { execPath: '/usr/bin/taskset', execArgv: ['-c', '1', process.execPath, '--import', 'tsx'] } : { execArgv: ['--import', 'tsx'] }),
});
const fromChild = async () => (await once(child, 'message'))[0];
const payload = new Uint8Array(64).map((_, i) => i);
const results: Record<string, unknown>[] = [];

function summary(mode: string, rtt: number[]) {
  const w = rtt.slice(WARM);
  const r = { mode, n: w.length, p50us: +pct(w, 50).toFixed(1), p99us: +pct(w, 99).toFixed(1), meanus: +(w.reduce((a, b) => a + b, 0) / w.length).toFixed(1) };
  results.push(r);
  console.log(JSON.stringify(r));
}

for (const mode of modes) {
  const total = iterations + WARM;
  const rtt: number[] = [];
  if (mode === 'uds') {
    const path = `/tmp/spike-waitv/out/pp-${process.pid}.sock`;
    child.send({ mode, path, total });
    await fromChild(); // listening
    const sock = net.connect(path);
    await once(sock, 'connect');
    sock.setNoDelay(true);
    let got = 0;
    let done: () => void = () => {};
    sock.on('data', (chunk) => {
      got += chunk.length;
      if (got >= 64) { got -= 64; done(); }
    });
    for (let i = 0; i < total; i++) {
      const t = performance.now();
      await new Promise<void>((res) => { done = res; sock.write(payload); });
      rtt.push((performance.now() - t) * 1000);
    }
    sock.destroy();
    await fromChild();
  } else if (mode === 'ipc') {
    child.send({ mode, total });
    await fromChild();
    for (let i = 0; i < total; i++) {
      const t = performance.now();
      child.send(payload);
      await once(child, 'message');
      rtt.push((performance.now() - t) * 1000);
    }
    await fromChild();
  } else {
    const [seg] = makeSegments(1, 4096);
    const v = seg.view;
    const u8 = new Uint8Array(seg.att.buffer);
    const engine = mode === 'today' ? undefined : new WaitEngine({ report: mode === 'port' ? 'port' : 'atomics', forcePoll: mode === 'poll', pollMs: 1, lingerUs: mode === 'linger' ? Number(process.env.LINGER_US ?? 200) : 0 });
    const waitFn = engine
      ? (i: number, e: number) => engine.wait(v, i, e)
      : (i: number, e: number) => waitAsync(v, i, e, Infinity, { sliceMs: 50 });
    if (engine) await engine.ready(); // start the waiter thread
    child.send({ mode, id: seg.id, total });
    await fromChild(); // attached, engine started
    for (let i = 1; i <= total; i++) {
      const t = performance.now();
      u8.set(payload, 1024);
      u8[1024] = i & 255;
      Atomics.store(v, 0, i);
      notify(v, 0);
      for (let cur = Atomics.load(v, 32); cur !== i; cur = Atomics.load(v, 32)) await waitFn(32, cur);
      if (u8[2048] !== (i & 255)) throw new Error(`bad reply at ${i}`);
      rtt.push((performance.now() - t) * 1000);
    }
    await fromChild();
    engine?.close({ wait: true });
  }
  summary(mode, rtt);
}
child.send({ mode: 'quit' });
await once(child, 'exit');
console.log('RESULTS ' + JSON.stringify(results));
process.exit(0);
