// One server and N clients (bench/many-processes.ts): the scenarios, the transports each one compares, and the
// records that travel between the runner, the group's server process and its client processes (JSON).
import type { Host } from '../sweep.js';
import type { Target } from '../report/analysis.js';

export const SCENARIOS = ['fan-in', 'request-response', 'fan-out'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * shm: the library (fan-in: a Mailbox; request/response: requests into a Mailbox, replies through a Channel per
 * client; fan-out: a Topic); unix: Unix domain stream sockets (node:net), length-prefixed frames; ipc-advanced:
 * child_process IPC, process.send with serialization 'advanced'.
 */
export const KINDS = ['shm', 'unix', 'ipc-advanced'] as const;
export type Kind = (typeof KINDS)[number];

/** The kinds each scenario compares (the fan-out is one Topic against writing to N sockets). */
export const SCENARIO_KINDS: Record<Scenario, readonly Kind[]> = {
  'fan-in': ['shm', 'unix', 'ipc-advanced'],
  'request-response': ['shm', 'unix', 'ipc-advanced'],
  'fan-out': ['shm', 'unix'],
};

/** The name a result carries (and its row, series and colour in the reports). */
export function transportName(scenario: Scenario, kind: Kind): string {
  if (kind !== 'shm') return kind;
  return scenario === 'fan-in' ? 'mailbox' : scenario === 'request-response' ? 'mailbox+channel' : 'topic';
}

/** Which calls each end makes, for the report: sync where a process is dedicated, async (event loop) where natural. */
export const APIS: Record<Scenario, Partial<Record<Kind, string>>> = {
  'fan-in': {
    shm: 'sync: senders Mailbox.connect + send(); server mailbox.receiveInto() in a loop',
    unix: 'async: node:net streams on both sides (write with drain; the server reads every connection from its event loop)',
    'ipc-advanced': "async: children process.send() (waiting for the write callback when send() returns false); server child.on('message')",
  },
  'request-response': {
    shm: "sync: clients sender.send() + reply.receiveInto(); server mailbox.receiveInto() + the client's Producer.send() in a loop",
    unix: 'async: node:net streams; each client awaits its reply, the server answers every connection from its event loop',
    'ipc-advanced': "async: process.send() and 'message' on both sides",
  },
  'fan-out': {
    shm: "sync: publisher topic.publish() (policy 'block'); subscribers peek() + release(), every byte read in place",
    unix: 'async: the publisher writes one framed Buffer to every socket (waiting for drain), subscribers read node:net streams',
  },
};

export interface ManyOptions {
  /** Numbers of client processes; each N is one group: a server process and N clients. */
  clients: number[];
  sizes: number[];
  scenarios: Scenario[];
  kinds: Kind[];
  /** Timed repetitions per figure (after a verification repetition and warm-up ones); the median is reported. */
  repeat: number;
  /** Target length of one timed repetition. */
  repSeconds: number;
  /** Each group runs its parts this many times, alternating them; a figure is the median over all rounds. */
  rounds: number;
  /** cross: the server on CPU 0, the clients on the other CPUs (round robin); none: unpinned. */
  pin: 'cross' | 'none';
  /** Messages of the verification repetition (every byte checksummed), at most, over all clients. */
  verifyMessages: number;
  /** The preset the options came from, for the record. */
  preset: string;
  /** Kill a group that has not finished after this long. */
  groupTimeoutMs?: number;
  /** Test only: make client 0 (or the server, fan-out) flip a byte of this message of the verification repetition. */
  corrupt?: { message: number };
  onProgress?: (event: { done: number; total: number; label: string }) => void;
}

/** One part of a group: a scenario, a transport, a size. */
export interface PartSpec {
  scenario: Scenario;
  kind: Kind;
  size: number;
}

/** What the runner hands the group's server process (JSON, in argv). */
export interface GroupSpec {
  clients: number;
  parts: PartSpec[];
  repeat: number;
  repSeconds: number;
  rounds: number;
  verifyMessages: number;
  serverCpu: number | null;
  clientCpus: Array<number | null>;
  tmpdir: string;
  corrupt?: { message: number };
}

export interface ManyPlacement {
  kind: 'cross-core' | 'unpinned';
  /** The CPU each process was pinned to (taskset -c), null when unpinned. */
  server: number | null;
  clients: Array<number | null>;
  tool: 'taskset' | null;
  /** What each process reported it may run on (Cpus_allowed_list), to confirm the pinning. */
  allowed: { server: string; clients: string[] };
}

export interface ManyResult {
  scenario: Scenario;
  /** mailbox, mailbox+channel, topic, unix, ipc-advanced. */
  transport: string;
  kind: Kind;
  clients: number;
  messageSize: number;
  /**
   * fan-in: messages (and payload bytes) per second into the server, all senders together; fan-out: per subscriber
   * (every subscriber receives every message); absent in request/response.
   */
  messagesPerSec?: number;
  bytesPerSec?: number;
  /** fan-out: messages per second delivered over all subscribers (messagesPerSec x N). */
  deliveredPerSec?: number;
  /** request/response: round trip of every request of every client (all concurrently), ns. */
  rttNs?: { p50: number; p99: number; mean: number };
  /** Per timed repetition: messages/s (fan-in, fan-out) or the p50 round trip in ns (request/response). */
  perRepeat: number[];
  repeats: number;
  /** Messages (fan-in: per client; fan-out: published) or round trips per client, per timed repetition. */
  messagesPerRepeat: number;
  /** Messages whose stamps were checked (every one of every repetition), and those checksummed byte by byte. */
  verified: { messages: number; checksummed: number };
  /**
   * Over the timed repetitions: the CPU the server used (1 = one core busy) and all clients together, and the
   * library's futex calls (wait + wake) per message of the server and of all clients together.
   */
  cpu: { server: number; clients: number };
  futexPerMessage: { server: number; clients: number };
  api: string;
  detail: string;
  placement: ManyPlacement;
  node: string;
  rounds?: number;
  perRound?: number[];
}

/** One repetition's figures, as the server measured them (the runner merges repetitions and rounds). */
export interface PartFigure {
  part: PartSpec;
  round: number;
  /** fan-in and fan-out: messages/s per timed repetition; request/response: p50, p99, mean per timed repetition. */
  rates: number[];
  rtt: Array<{ p50: number; p99: number; mean: number }>;
  messagesPerRepeat: number;
  verified: { messages: number; checksummed: number };
  detail: string;
  /** Over the timed repetitions: where the time went (CPU) and how often the processes slept or woke one another. */
  load: Load;
}

/** CPU time and futex calls of the server and of all clients together, over the timed repetitions. */
export interface Load {
  seconds: number;
  /** Messages the server received (fan-in), requests it answered, or messages it published (fan-out). */
  messages: number;
  serverCpuSeconds: number;
  clientsCpuSeconds: number;
  /** futex system calls (wait + wake) made by the library (0 for the sockets and IPC). */
  serverFutex: number;
  clientsFutex: number;
}

export interface ManyError {
  scenario?: Scenario;
  transport?: string;
  clients: number;
  messageSize?: number;
  name: string;
  message: string;
}

export interface ManyOutput {
  host: Host;
  /** The options of the run, and what else it was run with. */
  options: Pick<ManyOptions, 'preset' | 'clients' | 'sizes' | 'scenarios' | 'kinds' | 'repeat' | 'repSeconds' | 'rounds' | 'pin'> & {
    node: string;
    verification: string;
    apis: Record<string, string>;
    /** The load average when the run ended (host.loadavg: when it started): other work on the machine skews every figure. */
    loadavgAfter: number[];
  };
  results: ManyResult[];
  targets: Target[];
  errors: ManyError[];
  seconds: number;
}

/** Lines the group's server writes on stdout (one JSON object each). */
export type ServerEvent =
  | { type: 'hello'; server: { pid: number; allowed: string }; clients: Array<{ pid: number; allowed: string }> }
  | { type: 'progress'; label: string }
  | { type: 'figure'; figure: PartFigure }
  | { type: 'part-error'; part: PartSpec; name: string; message: string }
  | { type: 'error'; name: string; message: string }
  | { type: 'done' };
