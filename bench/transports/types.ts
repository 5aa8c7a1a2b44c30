// What a transport gives each end of a benchmark session: a way to send and a way to receive messages.
import type { ChildProcess } from 'node:child_process';

export const TRANSPORTS = ['shm', 'c-ring', 'stdio', 'pipe', 'fifo', 'unix', 'ipc-advanced', 'ipc-json', 'worker', 'c-bare', 'js-bare'] as const;
export type TransportName = (typeof TRANSPORTS)[number];
/**
 * spin: never sleep; futex: sleep at once; hybrid: the channel's default (spin, then sleep); async (shm only):
 * both ends use the channel's async calls (sendAsync, receiveAsync, for await), which never block the event loop.
 */
export const WAITS = ['spin', 'futex', 'hybrid', 'async'] as const;
export type WaitStrategy = (typeof WAITS)[number];
/** The waits of the transports that block a thread (c-ring, worker): every wait but async. */
export const BLOCKING_WAITS = ['spin', 'futex', 'hybrid'] as const satisfies readonly WaitStrategy[];
export const MODES = ['copy', 'zero-copy', 'copy-alloc'] as const;
/**
 * copy: the producer copies its message in (send), the consumer copies it out into a buffer it reuses
 * (receiveInto); copy-alloc (shm only): the consumer takes each message into a new buffer (receive); zero-copy:
 * the producer writes the message in place (reserve/commit), the consumer reads every byte where it lies
 * (peek/release).
 */
export type Mode = (typeof MODES)[number];
export const PATTERNS = ['throughput', 'pingpong'] as const;
export type PatternName = (typeof PATTERNS)[number];

/** What a transport can run: its patterns, its modes (throughput) and its wait strategies (null: it has none). */
export interface Capabilities {
  patterns: readonly PatternName[];
  modes: readonly Mode[];
  waits: readonly WaitStrategy[] | null;
  /** The largest message size it runs (larger ones are skipped, and the run says so): for the slow ones. */
  maxSize?: number;
  /** A C program (bench/c/*.c), compiled with gcc at bench time and run by bench/transports/native.ts. */
  native?: 'ring' | 'pingpong';
  /** One line for the reports and --help. */
  what: string;
}

export const CAPABILITIES: Record<TransportName, Capabilities> = {
  shm: { patterns: PATTERNS, modes: MODES, waits: WAITS, what: "the project's channel (Channel.create/open), one per direction" },
  'c-ring': {
    patterns: PATTERNS,
    modes: ['copy', 'zero-copy'],
    waits: BLOCKING_WAITS,
    native: 'ring',
    what: "the channel's ring protocol in C (bench/c/ring.c): the same header, records, waits and copies; the anchor",
  },
  stdio: { patterns: PATTERNS, modes: ['copy'], waits: null, what: 'child_process stdio (a socketpair), Node streams' },
  pipe: { patterns: PATTERNS, modes: ['copy'], waits: null, what: 'two pipe(2)s, blocking readSync/writeSync' },
  fifo: { patterns: PATTERNS, modes: ['copy'], waits: null, what: 'two named FIFOs (mkfifo), blocking readSync/writeSync' },
  unix: { patterns: PATTERNS, modes: ['copy'], waits: null, what: 'a Unix domain stream socket, node:net' },
  'ipc-advanced': {
    patterns: PATTERNS,
    modes: ['copy'],
    waits: null,
    what: "child_process IPC: process.send / 'message', serialization 'advanced' (the bytes as a Buffer)",
  },
  'ipc-json': {
    patterns: PATTERNS,
    modes: ['copy'],
    waits: null,
    // At about 10 MB/s a 16 MiB message takes 1.7 s: the sizes above 1 MiB would add a minute to every run.
    maxSize: 1 << 20,
    what: "child_process IPC: process.send / 'message', serialization 'json' (base64 text)",
  },
  worker: { patterns: PATTERNS, modes: ['copy'], waits: BLOCKING_WAITS, what: 'worker_threads, SharedArrayBuffer rings (in-process reference)' },
  'c-bare': {
    patterns: ['pingpong'],
    modes: ['copy'],
    // No hybrid: a fixed spin before each sleep locks both ends into sleeping for every message once a wake-up takes
    // longer than the spin (the channel learns its spin to avoid that: spin-policy.ts), which is no floor.
    waits: ['spin', 'futex'],
    native: 'pingpong',
    what: 'the least two processes can do in C (bench/c/pingpong.c): a sequence word and a payload slot per direction; latency floor',
  },
  'js-bare': {
    patterns: ['pingpong'],
    modes: ['copy'],
    waits: ['spin'],
    what: "c-bare's protocol in plain JavaScript over a segment, without the channel (bench/transports/bare.ts); the floor for JS",
  },
};

/** The modes a result of this transport records (a transport with one mode records none). */
export function hasModes(transport: TransportName): boolean {
  return CAPABILITIES[transport].modes.length > 1;
}

/** Whether a result of this transport records its wait strategy. */
export function hasWaits(transport: TransportName): boolean {
  return CAPABILITIES[transport].waits !== null;
}

/** A value or a promise of it: synchronous transports never allocate promises on the hot path. */
export type MaybePromise<T> = T | Promise<T>;

export interface Tx {
  /** Sends a copy of `bytes`; the caller may change them as soon as this returns (or its promise resolves). */
  send(bytes: Uint8Array): MaybePromise<void>;
  /** Zero-copy: a writable view of `n` bytes inside the transport, published by commit(). */
  reserve?(n: number): Uint8Array;
  commit?(): void;
}

export interface Rx {
  /**
   * The next message, which has `size` bytes on stream transports (they know no boundaries: the size frames
   * them). The view is valid until release() or the next receive().
   */
  receive(size: number): MaybePromise<Uint8Array>;
  /** Done with the view receive() returned (frees ring space in zero-copy mode). */
  release(): void;
}

export interface Link {
  tx: Tx;
  rx: Rx;
  /** Called by both ends, in the same order, before the messages of each size (may renegotiate buffers). */
  prepare?(size: number): MaybePromise<void>;
  close(): MaybePromise<void>;
  /** What this link really is, for the report (e.g. the kind of fd the peer got). */
  detail: string;
  /** shm: futex system calls (wait + wake) this end has made so far, for the report. */
  futexCalls?(): number;
}

export interface Placement {
  kind: 'same-core' | 'cross-core' | 'unpinned';
  /** [driver, peer] CPUs when pinned. */
  cpus: [number, number] | null;
  tool: 'taskset' | 'sched_setaffinity' | null;
}

/** Everything the two ends of one session need to know (JSON: it travels in argv). */
export interface SessionSpec {
  transport: TransportName;
  mode: Mode;
  pattern: PatternName;
  wait: WaitStrategy;
  sizes: number[];
  /** Timed repetitions per size (a verification and a warm-up repetition come first). */
  repeat: number;
  /** Target duration of one timed repetition. */
  repSeconds: number;
  placement: Placement;
  /** Where FIFOs and sockets go. */
  tmpdir: string;
  /** Test only: flip one byte of the `message`-th message the peer receives (counted over the whole session). */
  corrupt?: { message: number };
  /** C transports: the compiled program (bench/transports/native.ts). */
  native?: { exe: string; compiler: string };
  /** The channel's default spin (what `hybrid` means), read from the library by the runner; for c-ring. */
  defaultSpin?: number;
}

export interface DriverContext {
  spec: SessionSpec;
  /** Starts the peer process (pinned as the placement says) with extra settings for this transport. */
  spawnPeer(options: {
    stdio?: Array<'pipe' | 'ignore' | 'inherit' | 'ipc' | number>;
    /** child_process IPC (an 'ipc' entry in stdio): how messages are serialized. */
    serialization?: 'json' | 'advanced';
    extra?: Record<string, unknown>;
  }): ChildProcess;
  /** The next line the peer wrote on its control channel (fd 3). */
  peerLine(): Promise<string>;
}

export interface PeerContext {
  spec: SessionSpec;
  extra: Record<string, unknown>;
  /** Writes one line to the driver on the control channel. */
  tell(line: string): void;
}

export interface TransportModule {
  openDriver(ctx: DriverContext): Promise<Link>;
  openPeer(ctx: PeerContext): Promise<Link>;
}
