// The two processes of bench/sysv-ipc.ts:
//
//   node --import tsx bench/sysv/process.ts --driver '<DriverSpec JSON>'   spawned by the runner (pinned with taskset);
//       spawns the peer, runs every part in rounds, writes JSON lines on stdout (DriverEvent)
//   node --import tsx bench/sysv/process.ts --peer                          spawned by the driver; control lines on
//       stdin (PeerCommand), JSON answers on stdout
//
// Per part and round: a verification repetition (every byte of every message checked at both ends; in the first
// round it also sizes the repetitions from its speed), a warm-up repetition, then the timed repetitions. Every
// message of every repetition carries stamps (sequence number, repetition, inverted sequence at the tail) checked
// at both ends; the peer answers each request with its bytes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lineReader } from '../session.js';
import { type DriverEnd, MIN_SIZE, type PartSpec, type PeerEnd, checkMessage, driverEnd, fillPattern, partName, peerEnd, stampMessage } from './parts.js';

const SELF = fileURLToPath(import.meta.url);

export interface DriverSpec {
  parts: PartSpec[];
  repeat: number;
  repMs: number;
  rounds: number;
  /** Round trips of the verification repetition. */
  verifyCount: number;
  /** The CPU the peer is pinned to (taskset -c), or null. */
  peerCpu: number | null;
  /** Test only: the peer corrupts the reply with this sequence number in every verification repetition. */
  corruptAt?: number;
}

/** One part's figures from one round. */
export interface PartFigure {
  part: PartSpec;
  round: number;
  /** Mean round trip of each timed repetition, ns. */
  perRepeat: number[];
  /** Every timed round trip, ns. */
  samples: number[];
  roundTripsPerRepeat: number;
  /** CPU seconds over the timed repetitions, and their wall-clock seconds. */
  cpu: { driver: number; peer: number; seconds: number };
  verified: { roundTrips: number; fullyChecked: number };
  detail: string;
}

export type DriverEvent =
  | { type: 'placement'; driver: { pid: number; allowed: string }; peer: { pid: number; allowed: string; node: string } }
  | { type: 'figure'; figure: PartFigure }
  | { type: 'error'; part: PartSpec; round: number; message: string }
  | { type: 'done' };

type PeerCommand =
  | { op: 'setup'; part: PartSpec; ids: Record<string, number | string> }
  | { op: 'run'; count: number; rep: number; full: boolean; corruptAt?: number }
  | { op: 'close' };

export function allowedCpus(): string {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

// ---------------------------------------------------------------------------------------------------------------
// The peer.

async function peerMain(): Promise<void> {
  const next = lineReader(process.stdin, 'the driver');
  const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ pid: process.pid, allowed: allowedCpus(), node: process.version });
  let end: PeerEnd | undefined;
  let part: PartSpec | undefined;
  for (;;) {
    let line: string;
    try {
      line = await next();
    } catch {
      return; // the driver is gone
    }
    const command = JSON.parse(line) as PeerCommand;
    try {
      if (command.op === 'setup') {
        part = command.part;
        end = await peerEnd(part, command.ids);
        say({ ok: true, ids: end.ids ?? {} });
      } else if (command.op === 'run') {
        const { count, rep, full, corruptAt } = command;
        const size = part!.size;
        const cpu0 = process.cpuUsage();
        let problem: string | null = null;
        let seq = 0;
        const answer = (request: Uint8Array) => {
          if (seq !== corruptAt) return request;
          const bad = request.slice();
          bad[bad.length >> 1] ^= 0x40;
          return bad;
        };
        for (; seq < count; seq++) {
          let request = end!.serve(answer);
          if (request instanceof Promise) request = await request;
          if (size && problem === null) problem = checkMessage(request!, size, seq, rep, full);
        }
        say({ ok: true, served: count, problem, cpu: cpuSeconds(process.cpuUsage(cpu0)) });
      } else {
        await end?.close();
        end = undefined;
        say({ ok: true });
      }
    } catch (error) {
      say({ ok: false, error: (error as Error).stack ?? String(error) });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The driver.

interface PeerProcess {
  child: ChildProcess;
  next: () => Promise<string>;
  info: { pid: number; allowed: string; node: string };
}

async function startPeer(cpu: number | null): Promise<PeerProcess> {
  const node = [process.execPath, '--import', 'tsx', SELF, '--peer'];
  const [command, args] = cpu === null ? [node[0], node.slice(1)] : ['taskset', ['-c', String(cpu), ...node]];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const next = lineReader(child.stdout!, 'the peer');
  const info = JSON.parse(await next()) as PeerProcess['info'];
  return { child, next, info };
}

async function ask(peer: PeerProcess, command: PeerCommand): Promise<Record<string, unknown>> {
  peer.child.stdin!.write(`${JSON.stringify(command)}\n`);
  const answer = JSON.parse(await peer.next()) as Record<string, unknown>;
  if (!answer.ok) throw new Error(`the peer failed: ${answer.error}`);
  return answer;
}

/** One repetition: `count` round trips, each reply checked; returns the wall-clock ns and the peer's answer. */
async function repetition(
  peer: PeerProcess,
  end: DriverEnd,
  part: PartSpec,
  count: number,
  rep: number,
  full: boolean,
  corruptAt: number | undefined,
  samples: number[] | null,
): Promise<{ ns: number; peerCpu: number }> {
  const size = part.size;
  const m = new Uint8Array(size);
  if (size) fillPattern(m, rep);
  peer.child.stdin!.write(`${JSON.stringify({ op: 'run', count, rep, full, corruptAt } satisfies PeerCommand)}\n`);
  const t0 = performance.now();
  for (let seq = 0; seq < count; seq++) {
    if (size) stampMessage(m, seq, rep);
    const s = samples ? performance.now() : 0;
    let reply = end.roundTrip(m);
    if (reply instanceof Promise) reply = await reply;
    if (samples) samples.push(Math.round((performance.now() - s) * 1e6));
    if (size) {
      const problem = checkMessage(reply!, size, seq, rep, full);
      if (problem) throw new Error(`${partName(part)}: the reply to request ${seq} of repetition ${rep} is wrong: ${problem}`);
    }
  }
  const ns = (performance.now() - t0) * 1e6;
  const answer = JSON.parse(await peer.next()) as { ok: boolean; served: number; problem: string | null; cpu: number; error?: string };
  if (!answer.ok) throw new Error(`the peer failed: ${answer.error}`);
  if (answer.problem) throw new Error(`${partName(part)}: the peer received a wrong request in repetition ${rep}: ${answer.problem}`);
  if (answer.served !== count) throw new Error(`${partName(part)}: the peer served ${answer.served} of ${count}`);
  return { ns, peerCpu: answer.cpu };
}

/** Sets a part up, measures it, closes it; the driver's end is closed whatever happens (the first error is reported). */
async function runPart(peer: PeerProcess, spec: DriverSpec, part: PartSpec, round: number, counts: Map<string, number>): Promise<PartFigure> {
  if (part.size && part.size < MIN_SIZE) throw new RangeError(`messages of ${part.size} B are too short for the stamps (at least ${MIN_SIZE})`);
  const end = await driverEnd(part);
  let figure: PartFigure;
  try {
    figure = await measurePart(peer, spec, part, round, counts, end);
  } catch (error) {
    await Promise.resolve(end.close()).catch(() => {});
    throw error;
  }
  await end.close();
  return figure;
}

async function measurePart(
  peer: PeerProcess,
  spec: DriverSpec,
  part: PartSpec,
  round: number,
  counts: Map<string, number>,
  end: DriverEnd,
): Promise<PartFigure> {
  let rep = round * 1000;
  const answer = await ask(peer, { op: 'setup', part, ids: end.ids });
  await end.connect?.(answer.ids as Record<string, number | string>);

  const verify = await repetition(peer, end, part, spec.verifyCount, rep++, true, spec.corruptAt, null);
  const name = partName(part);
  let count = counts.get(name);
  if (count === undefined) {
    const perRoundTripMs = verify.ns / 1e6 / spec.verifyCount;
    count = Math.max(5, Math.min(1_000_000, Math.round(spec.repMs / Math.max(perRoundTripMs, 1e-6))));
    counts.set(name, count);
  }
  await repetition(peer, end, part, count, rep++, false, undefined, null); // warm-up

  const perRepeat: number[] = [];
  const samples: number[] = [];
  let driverCpu = 0;
  let peerCpu = 0;
  let seconds = 0;
  for (let i = 0; i < spec.repeat; i++) {
    const cpu0 = process.cpuUsage();
    const r = await repetition(peer, end, part, count, rep++, false, undefined, samples);
    driverCpu += cpuSeconds(process.cpuUsage(cpu0));
    peerCpu += r.peerCpu;
    seconds += r.ns / 1e9;
    perRepeat.push(r.ns / count);
  }
  await ask(peer, { op: 'close' });
  return {
    part,
    round,
    perRepeat,
    samples,
    roundTripsPerRepeat: count,
    cpu: { driver: driverCpu, peer: peerCpu, seconds },
    verified: { roundTrips: spec.verifyCount + count * (spec.repeat + 1), fullyChecked: spec.verifyCount },
    detail: end.detail,
  };
}

async function driverMain(spec: DriverSpec): Promise<void> {
  const say = (event: DriverEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);
  let peer = await startPeer(spec.peerCpu);
  say({ type: 'placement', driver: { pid: process.pid, allowed: allowedCpus() }, peer: peer.info });
  const counts = new Map<string, number>();
  for (let round = 0; round < spec.rounds; round++) {
    for (const part of spec.parts) {
      try {
        say({ type: 'figure', figure: await runPart(peer, spec, part, round, counts) });
      } catch (error) {
        say({ type: 'error', part, round, message: (error as Error).message });
        // The peer may be stuck in its end of the part: a fresh one for the next part.
        peer.child.kill('SIGKILL');
        peer = await startPeer(spec.peerCpu);
      }
    }
  }
  peer.child.stdin!.end();
  say({ type: 'done' });
}

const role = process.argv[2];
if (process.argv[1] === SELF) {
  if (role === '--driver') await driverMain(JSON.parse(process.argv[3]) as DriverSpec);
  else if (role === '--peer') await peerMain();
  else throw new Error(`usage: bench/sysv/process.ts --driver SPEC | --peer (got '${role}')`);
}
