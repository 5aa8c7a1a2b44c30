// A client process of a group: obeys the server's control lines (setup, go, teardown, exit) and runs its side of
// each part: fan-in, sending `count` stamped messages; request/response, `count` requests one at a time, each
// round trip timed (performance.now()); fan-out, receiving and checking `count` messages (a Topic subscriber reads
// every byte in place, compared with what the publisher wrote).
import { CHECKSUM_SEED, InPlaceReader, basePattern, checksum, describeProblem, PAYLOAD_DIFFERS } from '../patterns/payload.js';
import { futexCallCounts } from '../../lib/internal.js';
import { allowedCpus } from '../transports/affinity.js';
import { ServerLink, type Answer, type Command } from './control.js';
import { ipcClient, unixClient } from './sockets.js';
import { OrderChecker, flipMiddle, stampMessage } from './stamps.js';
import type { ClientSetup, ClientSide } from './sides.js';
import type { PartSpec } from './types.js';

export interface ClientPayload {
  index: number;
  clients: number;
  /** Test only: client 0 flips a byte of this message of the verification repetition (after checksumming it). */
  corrupt?: { message: number };
}

async function openClient(setup: ClientSetup): Promise<ClientSide> {
  if (setup.part.kind === 'unix') return unixClient(setup);
  if (setup.part.kind === 'ipc-advanced') return ipcClient();
  const { shmClient } = await import('./shm.js');
  return shmClient(setup);
}

/** One part's state in this client. */
class Part {
  readonly own: Uint8Array;
  readonly checker: OrderChecker;
  #reader: InPlaceReader | null = null;

  constructor(
    readonly spec: PartSpec,
    readonly side: ClientSide,
    readonly me: ClientPayload,
  ) {
    this.own = basePattern(spec.size);
    this.checker = new OrderChecker(spec.size);
  }

  #flipAt(rep: number): number {
    return rep === 0 && this.me.index === 0 && this.me.corrupt ? this.me.corrupt.message : -1;
  }

  /** One repetition; the answer carries this process's CPU time and futex calls so far (the server takes differences). */
  async run(rep: number, count: number): Promise<Answer> {
    const answer =
      this.spec.scenario === 'fan-in'
        ? await this.#send(rep, count)
        : this.spec.scenario === 'request-response'
          ? await this.#roundTrips(rep, count)
          : await this.#receive(rep, count);
    const cpu = process.cpuUsage();
    const futex = futexCallCounts();
    return { ...answer, cpuUs: cpu.user + cpu.system, futex: futex.wait + futex.wake };
  }

  async #send(rep: number, count: number): Promise<Answer> {
    const { own, side } = this;
    const flip = this.#flipAt(rep);
    let sum = CHECKSUM_SEED;
    const startNs = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      stampMessage(own, i, count, rep, this.me.index);
      if (rep === 0) sum = checksum(sum, own);
      if (i === flip) flipMiddle(own);
      const sent = side.send!(own);
      if (sent) await sent;
      if (i === flip) flipMiddle(own);
    }
    return { op: 'sent', sent: count, checksum: sum, startNs: String(startNs) };
  }

  async #roundTrips(rep: number, count: number): Promise<Answer> {
    const { own, side, checker } = this;
    const flip = this.#flipAt(rep);
    checker.begin(rep, this.me.index);
    const messages0 = checker.messages;
    const checksummed0 = checker.checksummed;
    const rtt = new Float64Array(count);
    let sum = CHECKSUM_SEED;
    for (let i = 0; i < count; i++) {
      stampMessage(own, i, count, rep, this.me.index);
      if (rep === 0) sum = checksum(sum, own);
      if (i === flip) flipMiddle(own);
      const t0 = performance.now();
      const sent = side.send!(own);
      if (sent) await sent;
      let m = side.receive!();
      if (m instanceof Promise) m = await m;
      const t1 = performance.now();
      if (i === flip) flipMiddle(own);
      checker.check(m);
      side.release?.();
      rtt[i] = (t1 - t0) * 1e6;
    }
    let problem = checker.problem;
    if (!problem && rep === 0 && checker.sum !== sum) problem = `${describeProblem(6)}: the replies differ from the requests`;
    return {
      op: 'rtt',
      sent: count,
      checksum: sum,
      problem,
      samples: Array.from(rtt, Math.round),
      messages: checker.messages - messages0,
      checksummed: checker.checksummed - checksummed0,
    };
  }

  async #receive(rep: number, count: number): Promise<Answer> {
    const { side, checker } = this;
    checker.begin(rep, 0);
    const messages0 = checker.messages;
    const checksummed0 = checker.checksummed;
    const reader = side.inPlace ? (this.#reader ??= new InPlaceReader(this.spec.size)) : null;
    let problem: string | null = null;
    for (let i = 0; i < count; i++) {
      let m = side.receive!();
      if (m instanceof Promise) m = await m;
      if (checker.check(m) && reader && !reader.matches(m, checker.header)) problem ??= `message ${i}: ${describeProblem(PAYLOAD_DIFFERS)}`;
      side.release?.();
    }
    const endNs = process.hrtime.bigint();
    return {
      op: 'received',
      received: checker.received,
      checksum: checker.sum,
      endNs: String(endNs),
      problem: checker.problem ?? problem,
      messages: checker.messages - messages0,
      checksummed: checker.checksummed - checksummed0,
    };
  }
}

export async function clientMain(me: ClientPayload): Promise<void> {
  const link = new ServerLink();
  link.tell({ op: 'hello', pid: process.pid, allowed: allowedCpus() });
  let part: Part | null = null;
  for (;;) {
    let command: Command;
    try {
      command = await link.next();
    } catch {
      process.exit(1); // the server is gone
    }
    try {
      switch (command.op) {
        case 'setup': {
          const side = await openClient({ part: command.part, index: me.index, clients: me.clients, extra: command.extra, link });
          part = new Part(command.part, side, me);
          link.tell({ op: 'ready' });
          break;
        }
        case 'go':
          if (!part) throw new Error('go before setup');
          link.tell(await part.run(command.rep, command.count));
          break;
        case 'teardown': {
          const p = part;
          part = null;
          const closed = p?.side.close();
          if (closed) await closed;
          link.tell({ op: 'closed' });
          break;
        }
        case 'exit':
          process.exit(0);
          break;
        default:
          throw new Error(`unexpected command '${command.op}'`);
      }
    } catch (error) {
      link.tell({ op: 'error', name: (error as Error).name, message: (error as Error).message });
    }
  }
}
