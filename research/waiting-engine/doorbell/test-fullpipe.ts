// A token dropped because the doorbell is full (EAGAIN) must not lose the wake-up: the reader then reads a full
// 64 KiB chunk and checks every wait. Filled synchronously from this process while its loop cannot read.
import assert from 'node:assert/strict';
import { createSegment } from './common.js';
import { C_A, C_B, C_KIND, C_PID, Engine, Waker } from './engine.js';

for (const transport of ['pipe', 'socket'] as const) {
  const seg = createSegment();
  const v = seg.i32;
  const engine = new Engine({ transport });
  const p = engine.wait(v, 0, 0, { timeoutMs: 2000 });
  const w = new Waker();
  let junk = 0;
  while (w.ringDoorbell(v[C_KIND], v[C_PID], v[C_A], v[C_B], 123456) === 'rung') junk++; // tokens nobody owns
  Atomics.store(v, 0, 1);
  const r = w.ring(v, 0);
  const t = performance.now();
  assert.equal(await p, 'ok');
  const s = engine.stats();
  console.log(JSON.stringify({ transport, junkTokens: junk, bytes: junk * 4, ring: r, resolvedAfterMs: +(performance.now() - t).toFixed(2), events: s.events, fullScans: s.scans }));
  w.close();
  engine.close();
  seg.detach();
}
