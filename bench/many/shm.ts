// The library's sides, all synchronous (every process here is dedicated to its loop): fan-in, N senders into one
// Mailbox; request/response, requests into the server's Mailbox and each reply through the client's own Channel
// (the server's Producer, the client's Consumer); fan-out, one Topic (policy 'block') to N subscribers that read
// every message in place (peek + release).
import { Channel, Mailbox, Topic } from '../../lib/index.js';
import { get32, put32 } from '../patterns/payload.js';
import { capacityFor } from '../transports/capacity.js';
import { expectAll, sendAll } from './control.js';
import { UNKNOWN_SENDER, type StreamChecker } from './stamps.js';
import type { ClientSetup, ClientSide, ServerSetup, ServerSide } from './sides.js';

/** The longest any synchronous call here waits before the run is declared stuck. */
export const SYNC_TIMEOUT_MS = 20_000;
const wait = { timeoutMs: SYNC_TIMEOUT_MS };

/** A sender's first message: who it is (its client index). */
const HELLO_MAGIC = 0x6f6c6548; // "Helo"
const HELLO = 8;

function stuck(what: string): Error {
  return new Error(`${what}: nothing arrived for ${SYNC_TIMEOUT_MS / 1000} s`);
}

/** Receives one hello per client: which Mailbox sender is which client. */
function hellos(mailbox: Mailbox, clients: number): Array<{ sender: number; index: number }> {
  const hello = new Uint8Array(HELLO);
  const out: Array<{ sender: number; index: number }> = [];
  for (let i = 0; i < clients; i++) {
    const r = mailbox.receiveInto(hello, wait);
    if (!r) throw stuck('mailbox: a client did not say hello');
    const index = get32(hello, 4);
    if (r.length !== HELLO || get32(hello, 0) !== HELLO_MAGIC || !(index >= 0 && index < clients)) throw new Error('mailbox: a malformed hello');
    out.push({ sender: r.sender, index });
  }
  return out;
}

function connect(id: number, index: number): ReturnType<typeof Mailbox.connect> {
  const sender = Mailbox.connect(id);
  const hello = new Uint8Array(HELLO);
  put32(hello, 0, HELLO_MAGIC);
  put32(hello, 4, index);
  sender.send(hello, wait);
  return sender;
}

export async function shmServer({ part, clients }: ServerSetup): Promise<ServerSide> {
  const capacity = capacityFor(part.size);
  const n = clients.length;
  if (part.scenario === 'fan-out') {
    const topic = Topic.create({ capacity, subscribers: n, policy: 'block' });
    try {
      await sendAll(clients, { op: 'setup', part, extra: { id: topic.id } });
      await expectAll(clients, 'ready');
    } catch (error) {
      topic.close();
      throw error;
    }
    return {
      detail: `one Topic (policy 'block', ring ${capacity >> 10} KiB), one copy in shared memory for all subscribers; publisher publish(), subscribers peek() + release()`,
      publish(m) {
        topic.publish(m, wait);
      },
      close: () => topic.close(),
    };
  }
  const mailbox = Mailbox.create({ capacity, senders: n });
  const replies: Array<ReturnType<typeof Channel.create>> = [];
  try {
    await sendAll(clients, { op: 'setup', part, extra: { id: mailbox.id } });
    // Which sender is which client; request/response: the server makes each client's reply channel (Channel.create
    // returns the sending end) and tells the client its id, which the client opens.
    const senders = new Map<number, number>();
    for (const { sender, index } of hellos(mailbox, n)) {
      senders.set(sender, index);
      if (part.scenario === 'request-response') {
        const reply = Channel.create({ capacity });
        replies[index] = reply;
        await clients[index].send({ op: 'reply-channel', id: reply.id });
      }
    }
    await expectAll(clients, 'ready');
    const target = new Uint8Array(part.size);
    const what = part.scenario === 'fan-in' ? 'mailbox' : 'mailbox+channel';
    return {
      detail:
        part.scenario === 'fan-in'
          ? `one Mailbox (a lane of ${capacity >> 10} KiB per sender, ${n} senders), receiveInto() into one buffer`
          : `requests into one Mailbox (lanes of ${capacity >> 10} KiB), each reply through the client's own Channel (${capacity >> 10} KiB); server receiveInto() + send(), client send() + receiveInto()`,
      receiveAll(checker: StreamChecker) {
        while (!checker.done) {
          const r = mailbox.receiveInto(target, wait);
          if (!r) throw stuck(what);
          checker.check(r.length === target.length ? target : target.subarray(0, r.length), senders.get(r.sender) ?? UNKNOWN_SENDER);
        }
      },
      serveAll(checker: StreamChecker) {
        while (!checker.done) {
          const r = mailbox.receiveInto(target, wait);
          if (!r) throw stuck(what);
          const m = r.length === target.length ? target : target.subarray(0, r.length);
          const index = senders.get(r.sender) ?? UNKNOWN_SENDER;
          checker.check(m, index);
          if (index < 0) throw new Error(`${what}: a request from sender ${r.sender}, which never said hello`);
          replies[index].send(m, wait);
        }
      },
      close() {
        for (const r of replies) r?.close();
        mailbox.close();
      },
    };
  } catch (error) {
    for (const r of replies) r?.close();
    mailbox.close();
    throw error;
  }
}

export async function shmClient({ part, index, extra, link }: ClientSetup): Promise<ClientSide> {
  const id = Number(extra.id);
  if (part.scenario === 'fan-out') {
    const subscriber = Topic.subscribe(id);
    return {
      inPlace: true,
      receive() {
        const m = subscriber.peek(wait);
        if (!m) throw stuck('topic');
        return m;
      },
      release: () => subscriber.release(),
      close: () => subscriber.close(),
    };
  }
  const sender = connect(id, index);
  if (part.scenario === 'fan-in') return { send: (m) => sender.send(m, wait), close: () => sender.close() };
  let reply: ReturnType<typeof Channel.open>;
  try {
    const command = await link.next();
    if (command.op !== 'reply-channel') throw new Error(`expected the reply channel's id, got '${command.op}'`);
    reply = Channel.open(command.id);
  } catch (error) {
    sender.close();
    throw error;
  }
  const target = new Uint8Array(part.size);
  return {
    send: (m) => sender.send(m, wait),
    receive() {
      const n = reply.receiveInto(target, wait);
      if (n === null) throw stuck('reply channel');
      return n === target.length ? target : target.subarray(0, n);
    },
    close() {
      reply.close();
      sender.close();
    },
  };
}
