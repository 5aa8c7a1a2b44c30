// One benchmark session: a driver process (spawned by the runner, bench/sweep.ts) and its peer (a process the
// driver spawns, or a worker thread), one transport, one pattern, every message size in turn. For the C
// transports the driver process starts a C driver and a C peer per size instead (bench/transports/native.ts).
//
//   node --import tsx bench/session.ts --driver '<SessionSpec JSON>'   writes JSON lines on stdout:
//       {"type":"result","result":{...}} per size, then {"type":"done"}; or {"type":"error","message":...}
//   node --import tsx bench/session.ts --peer '<{spec, extra} JSON>'    talks to the driver on fd 3
import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import { CAPABILITIES, transportModule, type DriverContext, type Link, type Rx, type SessionSpec } from './transports/index.js';
import { runNativeSession } from './transports/native.js';
import { driveThroughput, serveThroughput } from './patterns/throughput.js';
import { drivePingPong, servePingPong } from './patterns/pingpong.js';
import type { BenchResult } from './patterns/common.js';

const SELF = fileURLToPath(import.meta.url);
export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The command that runs this file in a new process (on the Node binary `node`), pinned to `cpu` with taskset when given. */
export function sessionCommand(role: '--driver' | '--peer', payload: unknown, cpu: number | null, nodeBinary = process.execPath): [string, string[]] {
  const node = [nodeBinary, '--import', 'tsx', SELF, role, JSON.stringify(payload)];
  return cpu === null ? [node[0], node.slice(1)] : ['taskset', ['-c', String(cpu), ...node]];
}

/**
 * The lines of a child's stream, one per call; rejects once the stream ended first (`what` names the child in that
 * error).
 */
export function lineReader(stream: NodeJS.ReadableStream, what = 'the peer'): () => Promise<string> {
  const lines: string[] = [];
  const waiters: Array<{ resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  let ended = false;
  const gone = () => new Error(`${what} ended its output (it failed: see its error above)`);
  const rl = createInterface({ input: stream });
  rl.on('line', (line) => {
    const w = waiters.shift();
    if (w) w.resolve(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    for (const w of waiters.splice(0)) w.reject(gone());
  });
  return () => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (ended) return Promise.reject(gone());
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };
}

/** Test-only corruption: flips the middle byte of the n-th message the peer receives. */
function corrupting(rx: Rx, n: number): Rx {
  let seen = 0;
  const flip = (m: Uint8Array) => {
    if (seen++ === n) m[m.length >> 1] ^= 0x40;
    return m;
  };
  return {
    receive(size) {
      const m = rx.receive(size);
      return m instanceof Promise ? m.then(flip) : flip(m);
    },
    release: () => rx.release(),
  };
}

export async function servePeer(spec: SessionSpec, link: Link): Promise<void> {
  const served = spec.corrupt ? { ...link, rx: corrupting(link.rx, spec.corrupt.message) } : link;
  if (spec.pattern === 'throughput') await serveThroughput(served, spec);
  else await servePingPong(served, spec);
}

async function driver(spec: SessionSpec): Promise<void> {
  const emit = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
  let peer: ChildProcess | undefined;
  let peerLine: (() => Promise<string>) | undefined;
  const ctx: DriverContext = {
    spec,
    spawnPeer({ stdio = ['ignore', 'ignore', 'inherit', 'pipe'], serialization, extra = {} }) {
      const [cmd, args] = sessionCommand('--peer', { spec, extra }, spec.placement.cpus ? spec.placement.cpus[1] : null);
      peer = spawn(cmd, args, { cwd: ROOT, stdio, ...(serialization ? { serialization } : {}) });
      peerLine = lineReader(peer.stdio[3] as Readable);
      return peer;
    },
    peerLine: () => (peerLine ? peerLine() : Promise.reject(new Error('no peer was started'))),
  };
  try {
    const onResult = (result: BenchResult) => emit({ type: 'result', result });
    if (CAPABILITIES[spec.transport].native) {
      await runNativeSession(spec, onResult);
    } else {
      const link = await transportModule(spec.transport).openDriver(ctx);
      if (spec.pattern === 'throughput') await driveThroughput(link, spec, onResult);
      else await drivePingPong(link, spec, onResult);
      await link.close();
    }
    if (peer && peer.exitCode === null) {
      const exited = new Promise((r) => peer!.once('exit', r));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    emit({ type: 'done' });
  } catch (error) {
    emit({ type: 'error', name: (error as Error).name, message: (error as Error).message });
    process.exitCode = 1;
  } finally {
    if (peer && peer.exitCode === null) peer.kill('SIGKILL');
  }
  process.exit();
}

async function peerMain(payload: { spec: SessionSpec; extra: Record<string, unknown> }): Promise<void> {
  const tell = (line: string) => writeSync(3, `${line}\n`);
  const link = await transportModule(payload.spec.transport).openPeer({ spec: payload.spec, extra: payload.extra, tell });
  await servePeer(payload.spec, link);
  await link.close(); // may wait until what this end sent has left the process (child_process IPC)
  process.exit(0);
}

const role = process.argv[2];
const entry = isMainThread && process.argv[1] === SELF;
if (entry && role === '--driver') await driver(JSON.parse(process.argv[3]) as SessionSpec);
else if (entry && role === '--peer') await peerMain(JSON.parse(process.argv[3]));
