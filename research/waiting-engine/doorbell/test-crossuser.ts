// Two limits of the transports, checked: (1) a waker of another user (here: nobody) ringing a root receiver, the
// segment being shared with mode 0666: /proc/<pid>/fd is closed to it (EACCES), an abstract socket is not;
// (2) the socket transport tells the receiver at once when a waker process that had rung dies (its connection
// closes): a liveness signal that the pipe transport does not give.
import { spawn } from 'node:child_process';
import { Segment } from '/work/main/lib/index.js';
import { nodeChild, output } from './common.js';
import { Engine } from './engine.js';

const segment = Segment.create({ size: 4096, mode: 0o666 }).removeOnExit();
const att = segment.attach();
const v = att.view(Int32Array);
for (const transport of ['pipe', 'socket'] as const) {
  Atomics.store(v, 0, 0);
  const engine = new Engine({ transport });
  const p = engine.wait(v, 0, 0, { timeoutMs: 1000 });
  const c = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/tmp/spike-doorbell/cwaker', 'ring', String(segment.id), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const o = await output(c);
  const t = performance.now();
  const r = await p;
  console.log(JSON.stringify({ check: 'waker of another user', transport, cRing: o.out.trim(), wait: r, afterMs: Math.round(performance.now() - t) }));
  engine.close();
}
{
  Atomics.store(v, 0, 0);
  const engine = new Engine({ transport: 'socket' });
  const p = engine.wait(v, 0, 0, { timeoutMs: 10_000 });
  const child = nodeChild(['peer.ts', 'ring-hang', String(segment.id)]);
  const done = output(child);
  const r = await p;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = engine.stats().connections;
  let goneAt = 0;
  const gone = new Promise<void>((resolve) => {
    engine.sharedDoorbell!.onPeerGone = () => {
      goneAt = performance.now();
      resolve();
    };
  });
  const t = performance.now();
  process.kill(child.pid!, 'SIGKILL');
  await gone;
  await done;
  console.log(JSON.stringify({ check: 'socket: waker process SIGKILLed', wait: r, connectionsBefore: before, connectionsAfter: engine.stats().connections, noticedAfterMs: +(goneAt - t).toFixed(2) }));
  engine.close();
}
att.detach();
segment.remove();
