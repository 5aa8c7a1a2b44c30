// Child roles for the exit and stale-announcement checks (test-exit.ts runs them under Node 20 and Node 26).
import fs from 'node:fs';
import { attachSegment } from './common.js';
import { C_A, C_PID, Engine, Waker, type EngineOptions } from './engine.js';

const [role, transport, sharing, ...rest] = process.argv.slice(2);
const opts: EngineOptions = { transport: transport as 'pipe', sharing: sharing as 'process' };
const log = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

function localCell(): Int32Array {
  // A cell in a segment of our own (removed at once: the attachment keeps it alive until exit).
  const seg = attachSegment(Number(rest[0]));
  return seg.i32;
}

switch (role) {
  case 'resolved': {
    // A wait resolved by a ring, one by its timeout, one aborted: then nothing is pending and the process must end.
    const engine = new Engine(opts);
    const v = localCell();
    const w = new Waker();
    const p = engine.wait(v, 0, 0);
    Atomics.store(v, 0, 1);
    w.ring(v, 0);
    const r1 = await p;
    const r2 = await engine.wait(v, 8, 0, { timeoutMs: 20 });
    const ac = new AbortController();
    const p3 = engine.wait(v, 16, 0, { signal: ac.signal });
    ac.abort();
    const r3 = await p3.catch((e) => e.name);
    w.close();
    log({ r1, r2, r3, at: performance.now() });
    break; // nothing pending: the loop must empty out now
  }
  case 'pending': {
    // A wait that nothing rings and that has no timeout: kept alive (keepAlive true) or not (false).
    const engine = new Engine({ ...opts, keepAlive: rest[1] !== 'unref' });
    const v = localCell();
    engine.wait(v, 0, 0).then((r) => log({ resolved: r }));
    log({ armed: true, at: performance.now() });
    break;
  }
  case 'pending-timeout': {
    const engine = new Engine(opts);
    const v = localCell();
    const t = performance.now();
    engine.wait(v, 0, 0, { timeoutMs: 300 }).then((r) => log({ resolved: r, after: performance.now() - t }));
    break;
  }
  case 'exit-while-pending': {
    // 100 pending waits on one segment's cells, then process.exit(0) from a timer.
    const engine = new Engine(opts);
    const v = localCell();
    for (let i = 0; i < 100; i++) void engine.wait(v, i * 8, 0);
    setTimeout(() => process.exit(0), 50);
    break;
  }
  case 'throw-while-pending': {
    const engine = new Engine(opts);
    const v = localCell();
    for (let i = 0; i < 100; i++) void engine.wait(v, i * 8, 0);
    setTimeout(() => {
      throw new Error('boom (expected)');
    }, 50);
    break;
  }
  case 'close-while-pending': {
    const engine = new Engine(opts);
    const v = localCell();
    const ps = [];
    for (let i = 0; i < 100; i++) ps.push(engine.wait(v, i * 8, 0));
    setTimeout(() => engine.close(), 50);
    const rs = await Promise.all(ps);
    log({ closed: rs.every((r) => r === 'timed-out') });
    break;
  }
  case 'arm-and-hang': {
    // Arms a wait on the cell at word 0 of segment rest[0], reports pid and doorbell, then waits to be killed.
    const engine = new Engine(opts);
    const v = localCell();
    const p = engine.wait(v, 0, 0);
    log({ pid: process.pid, fd: v[C_A], announcedPid: v[C_PID] });
    const r = await p;
    log({ resolved: r, events: engine.stats().events });
    break;
  }
  case 'impostor': {
    // The process that gets a dead waiter's pid: fd rest[1] made into a regular file (rest[2] 'file') or left to
    // whatever the engine's own pipe doorbell is (rest[2] 'engine'). Reports what reached it.
    let fdWanted = Number(rest[1]);
    const kind = rest[2];
    let engine: Engine | undefined;
    const file = `/tmp/spike-doorbell/impostor-${process.pid}.txt`;
    if (kind === 'engine') {
      engine = new Engine(opts);
      const v = localCell();
      void engine.wait(v, 64, 0); // creates its doorbell (a pipe): maybe at the same fd number as the dead one
      if (fdWanted < 0) fdWanted = v[64 + 4]; // its own doorbell's fd (pipe) or nonce (socket), for the report
    } else {
      const opened: number[] = [];
      for (;;) {
        const fd = fs.openSync(file, 'a');
        if (fd === fdWanted || fdWanted < 0) {
          fdWanted = fd;
          break;
        }
        if (fd > fdWanted) throw new Error(`fd ${fdWanted} is taken`);
        opened.push(fd);
      }
      for (const fd of opened) fs.closeSync(fd);
    }
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/self/fd/${fdWanted}`);
    } catch {
      link = 'its own socket doorbell (a nonce, no fd number)';
    }
    log({ pid: process.pid, fd: fdWanted, is: link });
    process.stdin.once('data', () => {
      const size = kind === 'engine' ? undefined : fs.statSync(file).size;
      log({ events: engine?.stats().events ?? 0, fileSize: size });
      if (kind !== 'engine') fs.rmSync(file);
      process.exit(0);
    });
    break;
  }
}
