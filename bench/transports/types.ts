// What a transport gives each end of a benchmark session: a way to send and a way to receive messages.
import type { ChildProcess } from 'node:child_process';

export const TRANSPORTS = ['shm', 'stdio', 'pipe', 'fifo', 'unix', 'worker'] as const;
export type TransportName = (typeof TRANSPORTS)[number];
export const WAITS = ['spin', 'futex', 'hybrid'] as const;
export type WaitStrategy = (typeof WAITS)[number];
export type Mode = 'copy' | 'zero-copy';
export type PatternName = 'throughput' | 'pingpong';

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
}

export interface DriverContext {
  spec: SessionSpec;
  /** Starts the peer process (pinned as the placement says) with extra settings for this transport. */
  spawnPeer(options: { stdio?: Array<'pipe' | 'ignore' | 'inherit' | number>; extra?: Record<string, unknown> }): ChildProcess;
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
