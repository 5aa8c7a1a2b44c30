// Functional checks of the engine: results, timeouts, abort, rings from C and from sync Node, and verified
// ping-pongs between an async (doorbell) end and sync (futex) ends in C and Node, for each transport and sharing.
import assert from 'node:assert/strict';
import { cChild, createSegment, nodeChild, output } from './common.js';
import { C_STATE, Engine, S_IDLE, Waker, type EngineOptions } from './engine.js';

async function pingPong(engine: Engine, peer: 'c' | 'sync' | 'async', opts: EngineOptions, rounds: number): Promise<void> {
  const seg = createSegment();
  const v = seg.i32;
  const waker = new Waker();
  const child =
    peer === 'c'
      ? cChild(['pong', String(seg.segment.id)])
      : nodeChild(peer === 'sync' ? ['peer.ts', 'pong-sync', String(seg.segment.id)] : ['peer.ts', 'pong-async', String(seg.segment.id), opts.transport!, opts.sharing!]);
  const done = output(child);
  let futexWakes = 0;
  for (let i = 1; i <= rounds; i++) {
    const payload = Buffer.alloc(64, i & 0xff);
    seg.bytes.set(payload, 256);
    Atomics.store(v, 0, i);
    if (waker.ring(v, 0) === 'futex') futexWakes++;
    let cur: number;
    while ((cur = Atomics.load(v, 32)) !== i) await engine.wait(v, 32, cur, { timeoutMs: 5000 });
    assert.deepEqual(Buffer.from(seg.bytes.subarray(384, 448)), payload);
  }
  Atomics.store(v, 0, -1);
  waker.ring(v, 0);
  const { code } = await done;
  assert.equal(code, 0);
  waker.close();
  seg.detach();
  console.log(`  ping-pong with ${peer} peer: ${rounds} verified round trips (${futexWakes} rings woke a futex sleeper)`);
}

for (const transport of ['pipe', 'socket'] as const) {
  for (const sharing of ['process', 'per-end'] as const) {
    console.log(`${transport} / ${sharing}`);
    const opts = { transport, sharing };
    const engine = new Engine(opts);
    const seg = createSegment();
    const v = seg.i32;

    assert.equal(await engine.wait(v, 0, 5), 'not-equal');
    let t = performance.now();
    assert.equal(await engine.wait(v, 0, 0, { timeoutMs: 30 }), 'timed-out');
    const took = performance.now() - t;
    assert.ok(took >= 29 && took < 80, `timeout took ${took}`);
    assert.equal(v[C_STATE], S_IDLE);

    const ac = new AbortController();
    const p = engine.wait(v, 0, 0, { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    await assert.rejects(p, (e: any) => e.name === 'AbortError' && e.code === 'ABORT_ERR');
    assert.equal(v[C_STATE], S_IDLE);

    // A ring from C, then from sync Node, each after publishing.
    const fromC = engine.wait(v, 0, 0, { timeoutMs: 2000 });
    const c = await output(cChild(['ring', String(seg.segment.id), '0']));
    assert.equal(await fromC, 'ok');
    assert.match(c.out, /"ring":2/);
    const fromNode = engine.wait(v, 0, 1, { timeoutMs: 2000 });
    const w = new Waker();
    Atomics.store(v, 0, 2);
    assert.equal(w.ring(v, 0), 'rung'); // same process: reaches its own doorbell through /proc/self/fd or the socket
    assert.equal(await fromNode, 'ok');
    assert.equal(w.ring(v, 0), 'idle');
    w.close();
    console.log('  results, timeout, abort, rings from C and from Node: ok');

    await pingPong(engine, 'c', opts, 2000);
    await pingPong(engine, 'sync', opts, 2000);
    await pingPong(engine, 'async', opts, 2000);
    engine.close();
    seg.detach();
  }
}

console.log('all ok');
