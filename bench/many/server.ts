// A group's server process: spawns its N clients (pinned as the spec says), then runs every part (scenario x
// transport x size) in turn, `rounds` times, alternating them, and writes one JSON line per part's figures on
// stdout (ServerEvent). Per part: a verification repetition (every byte of every message checksummed on both
// sides), warm-up repetitions that size the timed ones (until one lasts half the target), then `repeat` timed
// repetitions.
//
// fan-in: the server says go to every client, each sends `count` messages, the server receives and checks them
//   all; messages/s = N x count over the time from the first client's first send to the arrival of the last
//   message (process.hrtime: CLOCK_MONOTONIC, one clock for every process).
// request/response: each client sends `count` requests one after the other, each waiting for its reply (the
//   request's bytes, echoed), all N clients at once; every round trip is timed by its client.
// fan-out: the server publishes `count` messages to every client; each reports when its last message arrived;
//   messages/s per subscriber = count over the time from the first publish to the last subscriber's last message.
import { CHECKSUM_SEED, IntegrityError, basePattern, checksum } from '../patterns/payload.js';
import { clamp, percentile } from '../patterns/common.js';
import { verifyCount } from '../patterns/throughput.js';
import { futexCallCounts } from '../../lib/internal.js';
import { allowedCpus } from '../transports/affinity.js';
import { ClientHandle, expectAll, sendAll, type Answer } from './control.js';
import { ipcServer, unixServer } from './sockets.js';
import { StreamChecker, flipMiddle, stampMessage, unstamp, type SentReport } from './stamps.js';
import type { ServerSetup, ServerSide } from './sides.js';
import { transportName, type GroupSpec, type PartFigure, type PartSpec, type ServerEvent } from './types.js';

const MIN_COUNT = 4;
const MAX_COUNT = 5_000_000;
/** Warm-up repetitions at most (they stop once one lasts half the target). */
const MAX_WARMUPS = 8;
/** How long the server waits for its clients to tear a part down before it gives the group up. */
const TEARDOWN_MS = 15_000;

function emit(event: ServerEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** The group cannot go on (a client is stuck or gone): the remaining parts are not run. */
class GroupBroken extends Error {
  override name = 'GroupBroken';
}

async function openServer(setup: ServerSetup): Promise<ServerSide> {
  if (setup.part.kind === 'unix') return unixServer(setup);
  if (setup.part.kind === 'ipc-advanced') return ipcServer(setup);
  // Loaded only when a part needs it: the baselines run without it.
  const { shmServer } = await import('./shm.js');
  return shmServer(setup);
}

/** Messages per client (fan-in), round trips per client (request/response) or messages (fan-out) of the verification repetition. */
function firstCount(part: PartSpec, clients: number, verifyMessages: number): number {
  const total = Math.min(verifyCount(part.size), verifyMessages);
  if (part.scenario === 'fan-out') return Math.max(MIN_COUNT, total);
  if (part.scenario === 'request-response') return Math.max(MIN_COUNT, Math.ceil(total / 4 / clients));
  return Math.max(MIN_COUNT, Math.ceil(total / clients));
}

interface RepOutcome {
  seconds: number;
  rate?: number;
  rtt?: { p50: number; p99: number; mean: number };
  /** Messages checked (and checksummed) by the clients in this repetition. */
  messages: number;
  checksummed: number;
  /** The clients' CPU time (us) and futex calls so far, all together. */
  clients: { cpuUs: number; futex: number };
}

/** What every client's answer to 'go' carries. */
interface Usage {
  cpuUs: number;
  futex: number;
}

function clientsUsage(reports: Usage[]): { cpuUs: number; futex: number } {
  return { cpuUs: reports.reduce((n, r) => n + r.cpuUs, 0), futex: reports.reduce((n, r) => n + r.futex, 0) };
}

function serverUsage(): { cpuUs: number; futex: number; ns: bigint } {
  const cpu = process.cpuUsage();
  const futex = futexCallCounts();
  return { cpuUs: cpu.user + cpu.system, futex: futex.wait + futex.wake, ns: process.hrtime.bigint() };
}

interface RttAnswer extends Answer, SentReport, Usage {
  problem: string | null;
  samples: number[];
  messages: number;
  checksummed: number;
}

interface ReceivedAnswer extends Answer, Usage {
  received: number;
  checksum: number;
  endNs: string;
  problem: string | null;
  messages: number;
  checksummed: number;
}

/** How long the server's side of a repetition may still run once every client has answered. */
const SETTLE_MS = 20_000;

/** The clients' next answers, read from now on (a rejection is handled where they are awaited, or not at all). */
function answersOf<T extends Answer>(clients: ClientHandle[], op: string): Promise<T[]> {
  const answers = expectAll<T>(clients, op);
  answers.catch(() => {});
  return answers;
}

/**
 * Waits for the server's side of a repetition beside its clients' answers: a client that answers with an error
 * ends the wait at once (the server would wait for its messages forever), and work still running SETTLE_MS after
 * every client answered is stuck. (A synchronous side has already finished: its waits have timeouts.)
 */
async function alongside(work: unknown, answers: Promise<unknown>): Promise<void> {
  if (!(work instanceof Promise)) return;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const watch = answers.then(
    () =>
      new Promise<never>((_, reject) => {
        if (!done) timer = setTimeout(() => reject(new Error(`the server's side still ran ${SETTLE_MS / 1000} s after every client had finished`)), SETTLE_MS);
      }),
  );
  watch.catch(() => {});
  work.catch(() => {});
  try {
    await Promise.race([work, watch]);
  } finally {
    done = true;
    clearTimeout(timer);
  }
}

function elapsed(start: bigint, end: bigint): number {
  return Math.max(1e-9, Number(end - start) / 1e9);
}

async function fanIn(side: ServerSide, clients: ClientHandle[], checker: StreamChecker, rep: number, count: number): Promise<RepOutcome> {
  checker.begin(rep, count);
  const answers = answersOf<Answer & SentReport & Usage & { startNs: string }>(clients, 'sent');
  await sendAll(clients, { op: 'go', rep, count });
  await alongside(side.receiveAll!(checker), answers);
  const end = process.hrtime.bigint();
  const reports = await answers;
  checker.finish(reports);
  // From the first client's first send (not the control line's trip) to the last message's arrival.
  const start = reports.reduce((min, r) => (BigInt(r.startNs) < min ? BigInt(r.startNs) : min), end);
  const seconds = elapsed(start, end);
  return { seconds, rate: (clients.length * count) / seconds, messages: 0, checksummed: 0, clients: clientsUsage(reports) };
}

async function requestResponse(side: ServerSide, clients: ClientHandle[], checker: StreamChecker, rep: number, count: number): Promise<RepOutcome> {
  checker.begin(rep, count);
  const answers = answersOf<RttAnswer>(clients, 'rtt');
  const start = process.hrtime.bigint();
  await sendAll(clients, { op: 'go', rep, count });
  await alongside(side.serveAll!(checker), answers);
  const reports = await answers;
  const end = process.hrtime.bigint();
  checker.finish(reports);
  reports.forEach((r, i) => {
    if (r.problem) throw new IntegrityError(`${checker.what}, ${checker.size}-byte messages, repetition ${rep}: client ${i}'s replies: ${r.problem}`);
  });
  const all = new Float64Array(reports.reduce((n, r) => n + r.samples.length, 0));
  let at = 0;
  let total = 0;
  for (const r of reports) for (const s of r.samples) total += all[at++] = s;
  all.sort();
  return {
    seconds: elapsed(start, end),
    rtt: { p50: percentile(all, 0.5), p99: percentile(all, 0.99), mean: total / all.length },
    messages: reports.reduce((n, r) => n + r.messages, 0),
    checksummed: reports.reduce((n, r) => n + r.checksummed, 0),
    clients: clientsUsage(reports),
  };
}

async function fanOut(side: ServerSide, clients: ClientHandle[], part: PartSpec, rep: number, count: number, spec: GroupSpec): Promise<RepOutcome> {
  const what = `${transportName(part.scenario, part.kind)} fan-out, ${part.size}-byte messages, repetition ${rep}`;
  const answers = answersOf<ReceivedAnswer>(clients, 'received');
  await sendAll(clients, { op: 'go', rep, count });
  const base = basePattern(part.size);
  const own = base.slice();
  const flip = rep === 0 && spec.corrupt ? spec.corrupt.message : -1;
  let sum = CHECKSUM_SEED;
  const start = process.hrtime.bigint();
  const publishAll = async () => {
    for (let i = 0; i < count; i++) {
      stampMessage(own, i, count, rep, 0);
      if (rep === 0) sum = checksum(sum, own);
      if (i === flip) flipMiddle(own);
      const sent = side.publish!(own);
      if (sent) await sent;
      if (i === flip) flipMiddle(own);
      // The next message is the base pattern with its own stamps only (a Topic subscriber compares every byte).
      unstamp(own, base);
    }
  };
  await alongside(publishAll(), answers);
  const reports = await answers;
  let end = start;
  reports.forEach((r, i) => {
    if (r.problem) throw new IntegrityError(`${what}: subscriber ${i}: ${r.problem}`);
    if (r.received !== count) throw new IntegrityError(`${what}: ${count} messages published, subscriber ${i} received ${r.received}`);
    if (rep === 0 && r.checksum !== sum)
      throw new IntegrityError(
        `${what}: full checksum mismatch (corrupted payload) at subscriber ${i}: published 0x${(sum >>> 0).toString(16)}, received 0x${(r.checksum >>> 0).toString(16)}`,
      );
    const e = BigInt(r.endNs);
    if (e > end) end = e;
  });
  const seconds = elapsed(start, end);
  return {
    seconds,
    rate: count / seconds,
    messages: reports.reduce((n, r) => n + r.messages, 0),
    checksummed: reports.reduce((n, r) => n + r.checksummed, 0),
    clients: clientsUsage(reports),
  };
}

async function teardown(clients: ClientHandle[], side: ServerSide | null): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GroupBroken(`the clients did not close their ends within ${TEARDOWN_MS / 1000} s`)), TEARDOWN_MS);
  });
  try {
    await Promise.race([
      (async () => {
        await sendAll(clients, { op: 'teardown' });
        // Every client answers; what a failed repetition left unread is skipped, so that none is left out of step.
        const answers = await Promise.allSettled(clients.map((c) => c.until('closed')));
        const failed = answers.find((a) => a.status === 'rejected');
        if (failed) throw new GroupBroken(String((failed as PromiseRejectedResult).reason?.message ?? failed));
      })(),
      late,
    ]);
  } finally {
    clearTimeout(timer);
    const closed = side?.close();
    if (closed) await closed;
  }
}

async function runPart(spec: GroupSpec, clients: ClientHandle[], part: PartSpec, round: number): Promise<PartFigure> {
  let side: ServerSide | null = null;
  try {
    side = await openServer({ part, clients, spec });
    const what = `${transportName(part.scenario, part.kind)} ${part.scenario}`;
    const checker = new StreamChecker(clients.length, part.size, what);
    let count = firstCount(part, clients.length, spec.verifyMessages);
    const figure: PartFigure = {
      part,
      round,
      rates: [],
      rtt: [],
      messagesPerRepeat: 0,
      verified: { messages: 0, checksummed: 0 },
      detail: side.detail,
      load: { seconds: 0, messages: 0, serverCpuSeconds: 0, clientsCpuSeconds: 0, serverFutex: 0, clientsFutex: 0 },
    };
    const run = (rep: number, n: number) =>
      part.scenario === 'fan-in'
        ? fanIn(side!, clients, checker, rep, n)
        : part.scenario === 'request-response'
          ? requestResponse(side!, clients, checker, rep, n)
          : fanOut(side!, clients, part, rep, n, spec);
    let rep = 0;
    const verify = await run(rep, count);
    figure.verified.messages += verify.messages;
    figure.verified.checksummed += verify.checksummed;
    // Warm-up, sizing the timed repetitions: N processes woken one after the other on a shared CPU start up to
    // milliseconds apart, and one that waits for the CPU (other work) stalls a repetition, so a short repetition
    // measures their start and a long one may measure a stall. Warm-up repetitions grow until one lasts at least
    // half the target; the timed ones are sized from the fastest rate seen (a start or a stall only slows one down).
    let best = count / verify.seconds;
    let last = verify;
    for (let w = 0; w < MAX_WARMUPS; w++) {
      count = clamp(best * spec.repSeconds, MIN_COUNT, MAX_COUNT);
      last = await run(++rep, count);
      figure.verified.messages += last.messages;
      figure.verified.checksummed += last.checksummed;
      best = Math.max(best, count / last.seconds);
      if (last.seconds >= spec.repSeconds / 2 || count >= MAX_COUNT) break;
    }
    count = clamp(best * spec.repSeconds, MIN_COUNT, MAX_COUNT);
    figure.messagesPerRepeat = count;
    const server0 = serverUsage();
    const clients0 = last.clients;
    for (let t = 0; t < spec.repeat; t++) {
      const r = await run(++rep, count);
      figure.verified.messages += r.messages;
      figure.verified.checksummed += r.checksummed;
      if (r.rtt) figure.rtt.push(r.rtt);
      else figure.rates.push(r.rate!);
      figure.load.messages += part.scenario === 'fan-out' ? count : count * clients.length;
      last = r;
    }
    const server1 = serverUsage();
    figure.load.seconds = Number(server1.ns - server0.ns) / 1e9;
    figure.load.serverCpuSeconds = (server1.cpuUs - server0.cpuUs) / 1e6;
    figure.load.serverFutex = server1.futex - server0.futex;
    figure.load.clientsCpuSeconds = (last.clients.cpuUs - clients0.cpuUs) / 1e6;
    figure.load.clientsFutex = last.clients.futex - clients0.futex;
    figure.verified.messages += checker.messages;
    figure.verified.checksummed += checker.checksummed;
    const s = side;
    side = null;
    await teardown(clients, s);
    return figure;
  } catch (error) {
    if (side) {
      try {
        await teardown(clients, side);
      } catch (broken) {
        throw new GroupBroken(`${(error as Error).name}: ${(error as Error).message}; then ${(broken as Error).message}`);
      }
    }
    throw error;
  }
}

export async function serverMain(spec: GroupSpec): Promise<void> {
  const clients = spec.clientCpus.map(
    (cpu, index) => new ClientHandle(index, { index, clients: spec.clients, ...(spec.corrupt ? { corrupt: spec.corrupt } : {}) }, cpu),
  );
  try {
    const hellos = await expectAll<Answer & { pid: number; allowed: string }>(clients, 'hello');
    emit({
      type: 'hello',
      server: { pid: process.pid, allowed: allowedCpus() },
      clients: hellos.map((h) => ({ pid: h.pid, allowed: h.allowed })),
    });
    rounds: for (let round = 0; round < spec.rounds; round++) {
      for (const part of spec.parts) {
        emit({ type: 'progress', label: `N=${spec.clients} ${transportName(part.scenario, part.kind)} ${part.scenario} ${part.size} B` });
        try {
          emit({ type: 'figure', figure: await runPart(spec, clients, part, round) });
        } catch (error) {
          emit({ type: 'part-error', part, name: (error as Error).name, message: (error as Error).message });
          if (error instanceof GroupBroken) break rounds;
        }
      }
    }
    await sendAll(clients, { op: 'exit' });
    emit({ type: 'done' });
  } catch (error) {
    emit({ type: 'error', name: (error as Error).name, message: (error as Error).message });
    process.exitCode = 1;
  } finally {
    await new Promise((r) => setTimeout(r, 200));
    for (const c of clients) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  }
  process.exit();
}
