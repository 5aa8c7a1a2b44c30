// Child program: forges one header or ring word of a channel through a second attachment (as another process of
// the same user could), then calls the end that reads it, and prints what happened:
//   case <name> <method> <json Outcome (+ again, close)>
// then "done". Arguments: the group (open | consumer | producer | liveness), optionally one case name and one method.
// A call that hangs or spins never prints its line: the test runs this with a timeout and names the missing case.
import { Channel } from '../../../lib/index.js';
import { Hostile, L, W, outcomeOf, type Outcome } from './hostile.js';

const [group, only, onlyMethod] = process.argv.slice(2);
const CAPACITY = 64; // max message 56
const WAIT = { timeoutMs: 3000 };

interface Setup {
  producer: Channel;
  consumer: Channel | undefined;
  hostile: Hostile;
}

function pair(open = true): Setup {
  const producer = Channel.create({ capacity: CAPACITY });
  const consumer = open ? Channel.open(producer.id) : undefined;
  return { producer, consumer, hostile: new Hostile(producer.id) };
}

function bytes(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, k) => (seed * 31 + k) & 255);
}

function report(name: string, method: string, outcome: Outcome & Record<string, unknown>): void {
  console.log(`case ${name} ${method} ${JSON.stringify(outcome)}`);
}

/** After an EPROTO: the next call repeats it at once, and close() works. */
async function afterwards(end: Channel, outcome: Outcome, next: () => unknown): Promise<Record<string, unknown>> {
  if (outcome.code !== 'EPROTO') return {};
  const again = await outcomeOf(next);
  const close = await outcomeOf(() => end.close());
  return { again: again.code, close: close.code };
}

function cleanup(s: Setup): void {
  s.consumer?.close();
  s.producer.close();
  s.hostile.detach();
}

// ---------------------------------------------------------------------------------------------------------------
// Forged before Channel.open: open must refuse (or, for a legitimate state, work).
// ---------------------------------------------------------------------------------------------------------------
const openCases: Record<string, (s: Setup) => void> = {
  'bad magic': (s) => s.hostile.set(W.magic, 0x12345678),
  'other version': (s) => s.hostile.set(W.version, L.VERSION + 1),
  'capacity not a power of two': (s) => s.hostile.set(W.capacity, 96),
  'capacity below the minimum': (s) => s.hostile.set(W.capacity, 32),
  'capacity too big for the segment': (s) => s.hostile.set(W.capacity, 1 << 20),
  'data offset': (s) => s.hostile.set(W.dataOffset, 2048),
  'max message': (s) => s.hostile.set(W.maxMessage, CAPACITY),
  'producer pid 0': (s) => s.hostile.set(W.producerPid, 0),
  'producer pid negative': (s) => s.hostile.set(W.producerPid, -7),
  'producer pid of another live process': (s) => s.hostile.set(W.producerPid, process.ppid),
  'producer start time NaN': (s) => (s.hostile.f64[L.OFF_PRODUCER_START / 8] = Number.NaN),
  'producer closed': (s) => s.hostile.set(W.producerClosed, 1),
  'producer closed flag 2': (s) => s.hostile.set(W.producerClosed, 2),
  'consumer pid taken': (s) => s.hostile.set(W.consumerPid, 4242),
  'consumer pid negative': (s) => s.hostile.set(W.consumerPid, -1),
  'consumer closed before any consumer': (s) => s.hostile.set(W.consumerClosed, 1),
  'head beyond tail + capacity': (s) => s.hostile.set(W.head, CAPACITY + 8),
  'head not a multiple of 8': (s) => s.hostile.set(W.head, 12),
  'tail beyond head (not written by a consumer)': (s) => s.hostile.set(W.tail, 8),
  'tail behind head (not written by a consumer)': (s) => {
    s.producer.send(bytes(24));
    s.producer.send(bytes(24, 2));
    s.hostile.set(W.tail, 16);
  },
  'legitimate: messages sent before open': (s) => {
    s.producer.send(bytes(8, 1), { timeoutMs: 0 });
    s.producer.send(bytes(0), { timeoutMs: 0 });
    s.producer.send(bytes(24, 3), { timeoutMs: 0 }); // 16 + 8 + 32 bytes: 56 of 64
  },
};

async function runOpen(name: string, forge: (s: Setup) => void): Promise<void> {
  const s = pair(false);
  try {
    forge(s);
    const opened = await outcomeOf(() => (s.consumer = Channel.open(s.producer.id)));
    const extra: Record<string, unknown> = {};
    if (opened.code === 'ok') {
      // What the consumer then delivers (nothing must come that the producer did not send).
      const got: Array<number | string | null> = [];
      for (let i = 0; i < 4; i++) {
        const r = await outcomeOf(() => s.consumer!.tryReceive());
        got.push(r.code === 'ok' ? (r.length ?? null) : r.code);
        if (r.code !== 'ok' || r.length === null) break;
      }
      extra.received = got;
    }
    report(name, 'open', { ...opened, ...extra });
  } finally {
    cleanup(s);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Forged after open, read by the consumer: every receive variant must end with EPROTO at once.
// ---------------------------------------------------------------------------------------------------------------
const consumerCases: Record<string, (s: Setup) => void> = {
  'head beyond tail + capacity': (s) => s.hostile.set(W.head, CAPACITY + 8),
  'head not a multiple of 8': (s) => s.hostile.set(W.head, 12),
  'record length larger than the ring': (s) => {
    s.producer.send(bytes(8));
    s.hostile.setRing(0, 0x04000000); // 64 MiB
  },
  'record length past the end of the ring': (s) => {
    s.producer.send(bytes(24));
    s.consumer!.receive();
    s.producer.send(bytes(16)); // at ring offset 32: at most 24 bytes fit before the end
    s.hostile.setRing(32, 40);
  },
  'record length beyond head': (s) => {
    s.producer.send(bytes(8)); // 16 bytes published
    s.hostile.setRing(0, 40); // fits the ring (48 bytes), but only 16 are published
  },
  'wrap marker at ring offset 0': (s) => {
    s.producer.send(bytes(8));
    s.hostile.setRing(0, L.WRAP_MARKER);
  },
  'two wrap markers in a row': (s) => {
    s.producer.send(bytes(24));
    s.consumer!.receive(); // tail 32
    s.producer.send(bytes(24, 2)); // at 32
    s.producer.send(bytes(24, 3)); // at 0: 64 bytes published from the tail
    s.hostile.setRing(32, L.WRAP_MARKER);
    s.hostile.setRing(0, L.WRAP_MARKER);
  },
  'wrap marker that skips past head': (s) => {
    s.producer.send(bytes(24));
    s.consumer!.receive(); // tail 32
    s.producer.send(bytes(16)); // at 32: 24 bytes published, a marker there would skip 32
    s.hostile.setRing(32, L.WRAP_MARKER);
  },
  'producer closed flag 7': (s) => s.hostile.set(W.producerClosed, 7),
};

const receivers: Record<string, (c: Channel) => unknown> = {
  tryReceive: (c) => c.tryReceive(),
  receive: (c) => c.receive(WAIT),
  receiveAsync: (c) => c.receiveAsync(WAIT),
  receiveInto: (c) => c.receiveInto(new Uint8Array(1 << 16), WAIT),
  peek: (c) => c.peek(WAIT),
};

async function runConsumer(name: string, forge: (s: Setup) => void): Promise<void> {
  for (const [method, call] of Object.entries(receivers)) {
    if (onlyMethod !== undefined && method !== onlyMethod) continue;
    const s = pair();
    try {
      forge(s);
      const outcome = await outcomeOf(() => call(s.consumer!));
      report(name, method, { ...outcome, ...(await afterwards(s.consumer!, outcome, () => s.consumer!.tryReceive())) });
    } finally {
      cleanup(s);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Forged after open, read by the producer.
// ---------------------------------------------------------------------------------------------------------------
/** Producer head 64, consumer tail 32, producer has seen tail 32 and published 16 more: head 80. */
function producerAhead(s: Setup): void {
  s.producer.send(bytes(24));
  s.producer.send(bytes(24, 2));
  s.consumer!.receive();
  s.producer.send(bytes(8)); // re-reads the tail (32)
}

const producerCases: Record<string, (s: Setup) => void> = {
  'tail beyond head': (s) => {
    s.producer.send(bytes(24));
    s.producer.send(bytes(24, 2)); // full: the next send reads the tail
    s.hostile.set(W.tail, 72);
  },
  'tail moved backwards (within a capacity of head)': (s) => {
    producerAhead(s);
    s.hostile.set(W.tail, 24); // 80 - 24 = 56 <= 64: plausible on its own, but the tail was 32
  },
  'tail not a multiple of 8': (s) => {
    producerAhead(s);
    s.hostile.set(W.tail, 36);
  },
  'consumer closed flag 7': (s) => s.hostile.set(W.consumerClosed, 7),
  'consumer pid 0 after the tail moved': (s) => {
    producerAhead(s);
    s.producer.send(bytes(8, 4)); // full again (head 96, tail 32): the next send waits
    s.hostile.set(W.consumerPid, 0);
  },
  'consumer pid negative': (s) => {
    producerAhead(s);
    s.producer.send(bytes(8, 4));
    s.hostile.set(W.consumerPid, -1);
  },
  'consumer pid changed to another live process': (s) => {
    void s.producer.peerPid; // the producer has seen its consumer
    producerAhead(s);
    s.producer.send(bytes(8, 4));
    s.hostile.set(W.consumerPid, process.ppid);
  },
};

const senders: Record<string, (c: Channel) => unknown> = {
  trySend: (c) => c.trySend(bytes(24, 9)),
  send: (c) => c.send(bytes(24, 9), WAIT),
  sendAsync: (c) => c.sendAsync(bytes(24, 9), WAIT),
  reserve: (c) => {
    c.reserve(24, WAIT);
    c.commit();
  },
  available: (c) => c.available,
};

async function runProducer(name: string, forge: (s: Setup) => void): Promise<void> {
  for (const [method, call] of Object.entries(senders)) {
    if (onlyMethod !== undefined && method !== onlyMethod) continue;
    const s = pair();
    try {
      forge(s);
      const outcome = await outcomeOf(() => call(s.producer));
      report(name, method, { ...outcome, ...(await afterwards(s.producer, outcome, () => s.producer.trySend(bytes(1)))) });
    } finally {
      cleanup(s);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Liveness: the consumer waits on an empty ring and the producer's identity in the header is forged.
// ---------------------------------------------------------------------------------------------------------------
const livenessCases: Record<string, (s: Setup) => void> = {
  'producer pid 0': (s) => s.hostile.set(W.producerPid, 0),
  'producer pid negative': (s) => s.hostile.set(W.producerPid, -1),
  'producer pid changed to another live process': (s) => s.hostile.set(W.producerPid, process.ppid),
  'producer start time NaN': (s) => (s.hostile.f64[L.OFF_PRODUCER_START / 8] = Number.NaN),
};

const groups: Record<string, [Record<string, (s: Setup) => void>, (name: string, forge: (s: Setup) => void) => Promise<void>]> = {
  open: [openCases, runOpen],
  consumer: [consumerCases, runConsumer],
  producer: [producerCases, runProducer],
  liveness: [livenessCases, runConsumer],
};

const [cases, run] = groups[group] ?? [];
if (!cases || !run) throw new Error(`unknown group ${group}`);
for (const [name, forge] of Object.entries(cases)) {
  if (only === undefined || only === name) await run(name, forge);
}
console.log('done');
