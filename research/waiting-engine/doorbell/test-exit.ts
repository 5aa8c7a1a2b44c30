// Measurement 5: exit behaviour (Node 20 and 26), a waiter that died while announced, a reused pid.
// Run as root inside `unshare --ipc --pid --fork --mount-proc` (the pid-reuse check writes ns_last_pid of that
// namespace). Children are started with NODE_BIN (default: this node) `--import tsx`, from /work/main.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { cChild, createSegment, output } from './common.js';
import { C_STATE, S_DOORBELL, Waker } from './engine.js';

const NODE = process.env.NODE_BIN ?? process.execPath;
const HERE = '/tmp/spike-doorbell';

function child(args: string[], stdin = false): ChildProcess {
  return spawn(NODE, ['--import', 'tsx', `${HERE}/exit-cases.ts`, ...args], { cwd: '/work/main', stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
}

interface Outcome {
  code: number | null;
  signal: string | null;
  lines: any[];
  stderr: string;
  exitAt: number;
}

function outcome(c: ChildProcess): Promise<Outcome> {
  let out = '';
  let err = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve) =>
    c.on('close', (code, signal) =>
      resolve({ code, signal, lines: out.split('\n').filter(Boolean).map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return l;
        }
      }), stderr: err.trim(), exitAt: Date.now() }),
    ),
  );
}

function firstLine(c: ChildProcess): Promise<any> {
  return new Promise((resolve) => {
    let buf = '';
    const on = (d: Buffer) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        c.stdout!.off('data', on);
        resolve(JSON.parse(buf.slice(0, nl)));
      }
    };
    c.stdout!.on('data', on);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report: any[] = new Proxy([], { get(t: any, k) { if (k === "push") return (x: any) => { console.error(JSON.stringify(x)); return t.push(x); }; return t[k]; } });
const seg = createSegment(8192);
const id = String(seg.segment.id);

// Baseline: how long a child that does nothing takes to start and exit (tsx included).
{
  const t = Date.now();
  const o = await outcome(spawn(NODE, ['--import', 'tsx', '-e', '0'], { cwd: '/work/main', stdio: ['ignore', 'pipe', 'pipe'] }));
  report.push({ case: 'baseline: empty child', ms: o.exitAt - t, code: o.code });
}

for (const transport of ['pipe', 'socket']) {
  for (const sharing of ['process', 'per-end']) {
    const mode = `${transport}/${sharing}`;
    seg.i32.fill(0);
    {
      const c = child(['resolved', transport, sharing, id]);
      const o = await outcome(c);
      const last = o.lines[0];
      report.push({ mode, case: 'waits settled, nothing pending: exits by itself', code: o.code, signal: o.signal, results: last && `${last.r1}/${last.r2}/${last.r3}`, stderr: o.stderr || undefined });
    }
    seg.i32.fill(0);
    for (const keep of ['ref', 'unref']) {
      const c = child(['pending', transport, sharing, id, keep]);
      const done = outcome(c);
      await firstLine(c);
      await sleep(1500);
      const stillAlive = alive(c.pid!);
      if (stillAlive) process.kill(c.pid!, 'SIGTERM');
      const o = await done;
      report.push({ mode, case: `one wait pending forever, keepAlive ${keep === 'ref'}`, aliveAfter1500ms: stillAlive, code: o.code, signal: o.signal, stderr: o.stderr || undefined });
      seg.i32.fill(0);
    }
    {
      const t = Date.now();
      const o = await outcome(child(['pending-timeout', transport, sharing, id]));
      report.push({ mode, case: 'one wait with timeoutMs 300: alive until it times out', resolved: o.lines[0]?.resolved, afterMs: Math.round(o.lines[0]?.after), totalMs: o.exitAt - t, code: o.code });
    }
    for (const which of ['exit-while-pending', 'throw-while-pending', 'close-while-pending']) {
      seg.i32.fill(0);
      const o = await outcome(child([which, transport, sharing, id]));
      report.push({
        mode,
        case: which,
        code: o.code,
        signal: o.signal,
        out: o.lines[0],
        stderr: o.stderr ? o.stderr.split('\n').find((l) => /Error|boom|Segmentation|Abort/.test(l)) : undefined,
      });
    }
  }
}

// A waiter that dies while announced as asleep. The waker (this process, sync Node; then C) must neither block
// nor throw, and report the doorbell stale.
for (const transport of ['pipe', 'socket']) {
  seg.i32.fill(0);
  const c = child(['arm-and-hang', transport, 'process', id]);
  const done = outcome(c);
  const info = await firstLine(c);
  const v = seg.i32;
  const w = new Waker();
  // Open (and cache) the doorbell while the waiter lives, without clearing its STATE.
  const first = w.ringDoorbell(v[2], v[3], v[4], v[5]);
  process.kill(info.pid, 'SIGKILL');
  const o = await done;
  const stateAfterDeath = v[C_STATE];
  Atomics.store(v, 0, 1);
  let t = process.hrtime.bigint();
  const cachedRing = w.ring(v, 0); // the cached fd: EPIPE (Node ignores SIGPIPE), then a reopen that fails
  const cachedUs = Number(process.hrtime.bigint() - t) / 1000;
  Atomics.store(v, C_STATE, S_DOORBELL); // still announced, as a dead waiter leaves it
  const fresh = new Waker();
  t = process.hrtime.bigint();
  const freshRing = fresh.ring(v, 0); // nothing cached: /proc/<pid>/fd ENOENT, or ECONNREFUSED
  const freshUs = Number(process.hrtime.bigint() - t) / 1000;
  Atomics.store(v, C_STATE, S_DOORBELL);
  const cOut = await output(cChild(['ring', id, '0']));
  // Steady state: what each ring of a stale cell costs a waker (nothing cached: it tries to open every time).
  const loop = new Waker();
  let results = new Set<string>();
  t = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) {
    Atomics.store(v, C_STATE, S_DOORBELL);
    results.add(loop.ring(v, 0));
  }
  const staleUs = Number(process.hrtime.bigint() - t) / 1000 / 1000;
  loop.close();
  report.push({
    transport,
    case: 'waiter SIGKILLed while announced',
    staleRingSteadyState: `${[...results].join(',')} in ${staleUs.toFixed(1)} us each`,
    killedBy: o.signal,
    stateLeft: stateAfterDeath === S_DOORBELL ? 'DOORBELL (stale)' : stateAfterDeath,
    nodeRingWhileAlive: first,
    nodeRingCachedFd: `${cachedRing} in ${cachedUs.toFixed(1)} us`,
    nodeRingFresh: `${freshRing} in ${freshUs.toFixed(1)} us`,
    cRing: `${cOut.out.trim()} exit ${cOut.code} ${cOut.signal ?? ''}`,
  });
  w.close();
  fresh.close();
}

// The C waker's cached fd to a waiter that then exits: its second write meets EPIPE; SIGPIPE is blocked and consumed.
for (const transport of ['pipe', 'socket']) {
  seg.i32.fill(0);
  const c = child(['arm-and-hang', transport, 'process', id]);
  const done = outcome(c);
  await firstLine(c);
  // First ring wakes the waiter (which then exits: nothing pending); the second, 700 ms later, finds it dead.
  const cOut = await output(cChild(['ring', id, '0', '1', '700000']));
  const o = await done;
  report.push({ transport, case: 'C waker: cached fd, receiver exited in between', waiterResult: o.lines[1]?.resolved, cRing: `${cOut.out.trim()} exit ${cOut.code} ${cOut.signal ?? ''}` });
}

// A reused pid: the dead waiter's pid goes to another process whose fd of the same number is a regular file or the
// other process's own doorbell pipe. The ring must not write into either.
const canReuse = (() => {
  try {
    fs.accessSync('/proc/sys/kernel/ns_last_pid', fs.constants.W_OK);
    return process.pid === 1;
  } catch {
    return false;
  }
})();
if (!canReuse) report.push({ case: 'pid reuse', skipped: 'run under unshare --pid --fork --mount-proc as root' });
else {
  for (const transport of ['pipe', 'socket']) {
    for (const impostorKind of ['file', 'engine']) {
      seg.i32.fill(0);
      const c = child(['arm-and-hang', transport, 'process', id]);
      const done = outcome(c);
      const info = await firstLine(c);
      process.kill(info.pid, 'SIGKILL');
      await done;
      // The next pid handed out in this namespace is the dead waiter's.
      fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(info.pid - 1));
      const imp = child(['impostor', transport, 'process', id, String(transport === 'pipe' ? info.fd : -1), impostorKind], true);
      const impDone = outcome(imp);
      const impInfo = await firstLine(imp);
      Atomics.store(seg.i32, 0, 1);
      const w = new Waker();
      const nodeRing = w.ring(seg.i32, 0);
      Atomics.store(seg.i32, C_STATE, S_DOORBELL);
      const cOut = await output(cChild(['ring', id, '0']));
      imp.stdin!.write('report\n');
      const io = await impDone;
      report.push({
        transport,
        case: `pid reuse: impostor's fd is ${impostorKind === 'file' ? 'a regular file' : 'its own doorbell'}`,
        deadPid: info.pid,
        impostorPid: impInfo.pid,
        samePid: impInfo.pid === info.pid,
        impostorFd: `${impInfo.fd} -> ${impInfo.is}`,
        nodeRing,
        cRing: cOut.out.trim(),
        impostorSaw: io.lines[1],
      });
      w.close();
    }
  }
}

console.log(JSON.stringify({ node: NODE, version: (await import('node:child_process')).execFileSync(NODE, ['-v']).toString().trim(), report }, null, 1));
seg.detach();
