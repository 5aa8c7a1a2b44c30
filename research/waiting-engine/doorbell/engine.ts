// Design B spike: one waiting engine per process; every async wait sleeps on a doorbell file descriptor that the
// event loop polls (epoll, on the loop thread): no libuv pool thread per wait, timeouts are timers, an idle
// process sleeps in epoll_wait.
//
// A waitable CELL is 8 int32 words (32 bytes) in a segment:
//
//   [0] WORD   the value waited on (what the waker publishes)
//   [1] STATE  0 IDLE: nobody sleeps; 1 FUTEX: a synchronous waiter sleeps in FUTEX_WAIT on WORD;
//              2 DOORBELL: an asynchronous waiter sleeps; its doorbell is in [2..6]
//   [2] KIND   1 PIPE: a pipe of process PID, reachable as /proc/PID/fd/A, whose inode is B
//              2 SOCKET: a listening abstract Unix stream socket named "sysv-shm-bell/PID/<A><B in hex>"
//   [3] PID    [4] A   [5] B   [6] TOKEN: the wait's slot in its doorbell (the waker writes it as 4 bytes)
//   [7] reserved
//
// Waiter:  write KIND, PID, A, B (only when they differ); store(STATE, DOORBELL); re-check WORD;
//          if it changed: store(STATE, IDLE), 'not-equal'; else return to the event loop (sleep in epoll).
//          On each doorbell event: every pending wait of that doorbell whose WORD changed, or whose STATE a waker
//          cleared, resolves 'ok'; the others stay armed (a byte from an earlier wait is harmless).
// Waker:   store(WORD, new) (the publish); if load(STATE) != IDLE and exchange(STATE, IDLE) == DOORBELL:
//          write TOKEN (4 bytes, one write: atomic on a pipe) to the doorbell (non-blocking; EAGAIN = hundreds of
//          tokens are pending already: the reader's next read returns many of them and then checks every wait);
//          == FUTEX: FUTEX_WAKE(WORD).
// All sequentially consistent: either the waiter's re-check sees the new WORD, or the waker's load sees STATE set
// and writes the token; a token written before the loop reaches epoll_wait stays in the fd (level-triggered), so
// no wake-up is lost.
import fs from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { notify, wait as futexWait } from '/work/main/lib/index.js';
import * as sys from './sys.js';

export const CELL_WORDS = 8;
export const C_WORD = 0;
export const C_STATE = 1;
export const C_KIND = 2;
export const C_PID = 3;
export const C_A = 4;
export const C_B = 5;
export const C_TOKEN = 6;
export const S_IDLE = 0;
export const S_FUTEX = 1;
export const S_DOORBELL = 2;
export const K_PIPE = 1;
export const K_SOCKET = 2;

export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/** A doorbell read of this many tokens or more checks every pending wait (see the reader in Doorbell). */
export const SCAN_ABOVE_TOKENS = 32;

export interface EngineOptions {
  /** The doorbell's file: an anonymous pipe (reached through /proc/pid/fd) or an abstract Unix stream socket. */
  transport?: 'pipe' | 'socket';
  /** One doorbell for the whole process, or one per receiving end (per cell). */
  sharing?: 'process' | 'per-end';
  /** Pending waits keep the process alive (default true); nothing pending never does. */
  keepAlive?: boolean;
  /**
   * Check only the waits whose tokens arrived (default true); false: every doorbell event checks every pending
   * wait of that doorbell (what a 1-byte ring, or an odd-sized read, always does).
   */
  tokens?: boolean;
}

export interface EngineWaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  view: Int32Array;
  index: number;
  expected: number;
  bell: Doorbell;
  resolve: (r: WaitResult) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  settled: boolean;
  slot: number;
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: signal.reason });
}

/** One doorbell: a file descriptor the event loop watches, and the waits that sleep on it. */
class Doorbell {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly waits = new Set<Pending>();
  /** Pending waits by token (slot); freed slots are reused. */
  readonly #slots: (Pending | undefined)[] = [];
  readonly #free: number[] = [];
  readonly #tokens: boolean;
  /** Doorbell events seen (reads that returned data), and full scans among them. */
  events = 0;
  scans = 0;
  readonly #keepAlive: boolean;
  readonly #handle: net.Socket | net.Server;
  readonly #conns = new Set<net.Socket>();
  readonly #extraFd: number;
  #refd = false;
  #closed = false;
  /** Called when a connected waker process goes away (socket transport only): a free liveness signal. */
  onPeerGone: (() => void) | undefined;

  constructor(transport: 'pipe' | 'socket', keepAlive: boolean, tokens: boolean) {
    this.#keepAlive = keepAlive;
    this.#tokens = tokens;
    // Per connection (the pipe is one): bytes of a token split across two reads.
    const reader = () => {
      let carry: Buffer | undefined;
      return (chunk: Buffer) => {
        this.events++;
        if (carry) {
          chunk = Buffer.concat([carry, chunk]);
          carry = undefined;
        }
        const whole = chunk.length & ~3;
        if (whole !== chunk.length) carry = Buffer.from(chunk.subarray(whole));
        // A waker that meets a full doorbell (EAGAIN) drops its token. The doorbell is full only when hundreds of
        // tokens are unread (16384 in a pipe; a few hundred 4-byte messages fill a Unix socket's send buffer, which
        // counts each message's overhead), so a read that returns many tokens may hide a dropped one: check
        // everything then. Also on an odd size (a token split across reads of a stream socket, or a ring without
        // a token).
        if (!this.#tokens || chunk.length >= SCAN_ABOVE_TOKENS * 4 || whole !== chunk.length) return this.check();
        for (let i = 0; i < whole; i += 4) {
          const p = this.#slots[chunk.readInt32LE(i)];
          if (p !== undefined) checkOne(p);
        }
      };
    };
    if (transport === 'pipe') {
      const fds = sys.pipe2(sys.O_NONBLOCK | sys.O_CLOEXEC);
      if (typeof fds === 'number') throw new Error(`pipe2: errno ${-fds}`);
      const [readFd, writeFd] = fds;
      this.kind = K_PIPE;
      this.a = writeFd; // either end reopens the same pipe; the write end is ours for the life of the doorbell
      this.b = fs.fstatSync(readFd).ino | 0;
      this.#extraFd = writeFd; // held open: the read end then never sees EOF
      const socket = new net.Socket({ fd: readFd, readable: true, writable: false });
      socket.on('data', reader());
      socket.on('error', () => {});
      socket.unref();
      this.#handle = socket;
    } else {
      const nonce = randomBytes(8);
      this.kind = K_SOCKET;
      this.a = nonce.readInt32LE(0);
      this.b = nonce.readInt32LE(4);
      // Bound here rather than by server.listen({ path }): Node 20 binds an abstract name padded with NULs to
      // 108 bytes, Node 22+ with its exact length, and a waker must use the same addrlen to connect.
      const fd = sys.socket(sys.AF_UNIX, sys.SOCK_STREAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC);
      if (fd < 0) throw new Error(`socket: errno ${-fd}`);
      const rc = sys.bind(fd, sys.abstractAddress(socketName(process.pid, this.a, this.b)));
      if (rc < 0) throw new Error(`bind: errno ${-rc}`);
      sys.listen(fd, 511);
      this.#extraFd = -1;
      const server = net.createServer((conn) => {
        conn.unref(); // the server's ref keeps the process alive while waits are pending
        this.#conns.add(conn);
        conn.on('data', reader());
        conn.on('error', () => {});
        conn.on('close', () => {
          this.#conns.delete(conn);
          this.onPeerGone?.();
        });
      });
      server.on('error', () => {});
      server.listen({ fd });
      server.unref();
      this.#handle = server;
    }
  }

  /** Resolves every pending wait whose word changed or whose STATE a waker cleared. */
  check(): void {
    this.scans++;
    for (const p of this.waits) checkOne(p);
  }

  add(p: Pending): void {
    this.waits.add(p);
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#slots.length;
    this.#slots[slot] = p;
    p.slot = slot;
    if (this.#keepAlive && !this.#refd) {
      this.#handle.ref();
      this.#refd = true;
    }
  }

  delete(p: Pending): void {
    this.waits.delete(p);
    this.#slots[p.slot] = undefined;
    this.#free.push(p.slot);
    if (this.waits.size === 0 && this.#refd) {
      this.#handle.unref();
      this.#refd = false;
    }
  }

  /** The token the next add() will use (announced before the wait is registered). */
  nextSlot(): number {
    return this.#free.length > 0 ? this.#free[this.#free.length - 1] : this.#slots.length;
  }

  /** Writes this doorbell into a cell, then STATE = DOORBELL (the seq-cst store orders the identity before it). */
  announce(view: Int32Array, index: number): void {
    Atomics.store(view, index + C_TOKEN, this.nextSlot());
    if (view[index + C_KIND] !== this.kind || view[index + C_PID] !== process.pid || view[index + C_A] !== this.a || view[index + C_B] !== this.b) {
      Atomics.store(view, index + C_KIND, this.kind);
      Atomics.store(view, index + C_PID, process.pid);
      Atomics.store(view, index + C_A, this.a);
      Atomics.store(view, index + C_B, this.b);
    }
    Atomics.store(view, index + C_STATE, S_DOORBELL);
  }

  get connections(): number {
    return this.#conns.size;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of [...this.waits]) settle(p, 'timed-out');
    if (this.#handle instanceof net.Server) {
      for (const c of this.#conns) c.destroy();
      this.#handle.close();
    } else this.#handle.destroy();
    if (this.#extraFd >= 0) sys.close(this.#extraFd);
  }
}

function checkOne(p: Pending): void {
  if (Atomics.load(p.view, p.index) !== p.expected || Atomics.load(p.view, p.index + C_STATE) !== S_DOORBELL) settle(p, 'ok');
}

function settle(p: Pending, result: WaitResult | Error): void {
  if (p.settled) return;
  p.settled = true;
  p.bell.delete(p);
  if (p.timer !== undefined) clearTimeout(p.timer);
  if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
  Atomics.store(p.view, p.index + C_STATE, S_IDLE);
  if (typeof result === 'string') p.resolve(result);
  else p.reject(result);
}

export function socketName(pid: number, a: number, b: number): string {
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `sysv-shm-bell/${pid}/${hex(a)}${hex(b)}`;
}

export class Engine {
  readonly transport: 'pipe' | 'socket';
  readonly sharing: 'process' | 'per-end';
  readonly keepAlive: boolean;
  readonly tokens: boolean;
  #shared: Doorbell | undefined;
  readonly #perEnd = new WeakMap<ArrayBuffer, Map<number, Doorbell>>();
  readonly #all = new Set<Doorbell>();

  constructor(options: EngineOptions = {}) {
    this.transport = options.transport ?? 'pipe';
    this.sharing = options.sharing ?? 'process';
    this.keepAlive = options.keepAlive ?? true;
    this.tokens = options.tokens ?? true;
  }

  /** The doorbell a wait on view[index] sleeps on (created at the first wait, kept for the next ones). */
  doorbellFor(view: Int32Array, index: number): Doorbell {
    if (this.sharing === 'process') {
      if (!this.#shared) {
        this.#shared = new Doorbell(this.transport, this.keepAlive, this.tokens);
        this.#all.add(this.#shared);
      }
      return this.#shared;
    }
    let byBuffer = this.#perEnd.get(view.buffer as ArrayBuffer);
    if (!byBuffer) this.#perEnd.set(view.buffer as ArrayBuffer, (byBuffer = new Map()));
    const key = view.byteOffset + index * 4;
    let bell = byBuffer.get(key);
    if (!bell) {
      bell = new Doorbell(this.transport, this.keepAlive, this.tokens);
      byBuffer.set(key, bell);
      this.#all.add(bell);
    }
    return bell;
  }

  /**
   * Sleeps while view[index] === expected, until a ring (another process's Waker.ring(view, index) after it
   * changed the word), the timeout, or the signal. One waiter per cell at a time.
   */
  wait(view: Int32Array, index: number, expected: number, options?: EngineWaitOptions): Promise<WaitResult> {
    if (Atomics.load(view, index) !== expected) return Promise.resolve('not-equal');
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const timeoutMs = options?.timeoutMs ?? Infinity;
    if (timeoutMs <= 0) return Promise.resolve('timed-out');
    const bell = this.doorbellFor(view, index);
    bell.announce(view, index);
    if (Atomics.load(view, index) !== expected) {
      Atomics.store(view, index + C_STATE, S_IDLE);
      return Promise.resolve('not-equal');
    }
    return new Promise<WaitResult>((resolve, reject) => {
      const p: Pending = { view, index, expected, bell, resolve, reject, timer: undefined, signal, onAbort: undefined, settled: false, slot: -1 };
      bell.add(p);
      if (timeoutMs !== Infinity) {
        p.timer = setTimeout(() => settle(p, 'timed-out'), timeoutMs);
        p.timer.unref();
      }
      if (signal) {
        p.onAbort = () => settle(p, abortError(signal));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
    });
  }

  /** Doorbells, pending waits, doorbell events. */
  stats(): { doorbells: number; pending: number; events: number; scans: number; connections: number } {
    let pending = 0;
    let events = 0;
    let scans = 0;
    let connections = 0;
    for (const b of this.#all) {
      pending += b.waits.size;
      events += b.events;
      scans += b.scans;
      connections += b.connections;
    }
    return { doorbells: this.#all.size, pending, events, scans, connections };
  }

  /** The process-wide doorbell (sharing 'process'), for tests that watch its connections. */
  get sharedDoorbell(): Doorbell | undefined {
    return this.#shared;
  }

  close(): void {
    for (const b of this.#all) b.close();
    this.#all.clear();
    this.#shared = undefined;
  }
}

/** What Waker.ring did. 'idle': nobody slept, nothing was called (no syscall). 'stale': the doorbell is gone. */
export type RingResult = 'idle' | 'futex' | 'rung' | 'full' | 'stale' | 'bad';

export interface WakerOptions {
  /** Keep the opened doorbell fds (one write(2)/send(2) per ring) or open, write and close each time. Default true. */
  cache?: boolean;
}

/** The waker's side, synchronous (any thread, any process; also what the C version in doorbell.c does). */
export class Waker {
  readonly #cache = new Map<string, number>();
  readonly #useCache: boolean;
  readonly #token = new Int32Array(1);
  readonly #tokenBytes = new Uint8Array(this.#token.buffer);
  /** Counters, for the measurements. */
  readonly counts = { idle: 0, futex: 0, rung: 0, full: 0, stale: 0, opened: 0, bad: 0 };

  constructor(options: WakerOptions = {}) {
    this.#useCache = options.cache ?? true;
  }

  /** After publishing view[index]: wakes whoever announced that it sleeps on the cell, else does nothing at all. */
  ring(view: Int32Array, index: number): RingResult {
    const st = index + C_STATE;
    if (Atomics.load(view, st) === S_IDLE) {
      this.counts.idle++;
      return 'idle';
    }
    const s = Atomics.exchange(view, st, S_IDLE);
    if (s === S_IDLE) {
      this.counts.idle++;
      return 'idle';
    }
    if (s === S_FUTEX) {
      notify(view, index);
      this.counts.futex++;
      return 'futex';
    }
    if (s !== S_DOORBELL) {
      this.counts.bad++;
      return 'bad';
    }
    const r = this.ringDoorbell(view[index + C_KIND], view[index + C_PID], view[index + C_A], view[index + C_B], view[index + C_TOKEN]);
    this.counts[r]++;
    return r;
  }

  /** Writes the token (4 bytes) to the doorbell (kind, pid, a, b), opening it if needed. Never blocks, never throws. */
  ringDoorbell(kind: number, pid: number, a: number, b: number, token = -1): 'rung' | 'full' | 'stale' | 'bad' {
    if (pid <= 0) return 'bad';
    this.#token[0] = token;
    const key = `${kind}:${pid}:${a}:${b}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd = this.#cache.get(key);
      if (fd === undefined) {
        fd = kind === K_PIPE ? this.#openPipe(pid, a, b) : kind === K_SOCKET ? this.#connectSocket(pid, a, b) : -1;
        if (fd < 0) return fd === -2 ? 'bad' : 'stale';
        this.counts.opened++;
        if (this.#useCache) this.#remember(key, fd);
      }
      const n = kind === K_PIPE ? sys.write(fd, this.#tokenBytes) : sys.send(fd, this.#tokenBytes, sys.MSG_NOSIGNAL | sys.MSG_DONTWAIT);
      if (!this.#useCache) sys.close(fd);
      if (n > 0) return 'rung';
      if (n === -sys.EAGAIN) return 'full'; // bytes are pending: the reader will wake anyway
      // EPIPE/ECONNRESET: the receiver closed or died since we opened it. Forget it; a second try reopens (and
      // finds it gone: ENOENT, ECONNREFUSED, or another inode).
      if (this.#useCache) {
        this.#cache.delete(key);
        sys.close(fd);
      } else return 'stale';
    }
    return 'stale';
  }

  #remember(key: string, fd: number): void {
    if (this.#cache.size >= 256) {
      const [oldKey, oldFd] = this.#cache.entries().next().value as [string, number];
      this.#cache.delete(oldKey);
      sys.close(oldFd);
    }
    this.#cache.set(key, fd);
  }

  /** /proc/pid/fd/a, opened for writing without blocking; only if it is a pipe with inode b (else a reused pid). */
  #openPipe(pid: number, a: number, b: number): number {
    if (a < 0) return -2;
    const fd = sys.open(`/proc/${pid}/fd/${a}`, sys.O_WRONLY | sys.O_NONBLOCK | sys.O_CLOEXEC);
    if (fd < 0) return -1; // ENOENT: gone; EACCES: another user (or not dumpable); ENXIO: a socket
    let ok = false;
    try {
      const st = fs.fstatSync(fd);
      ok = st.isFIFO() && (st.ino | 0) === b;
    } catch {}
    if (!ok) {
      sys.close(fd);
      return -1;
    }
    return fd;
  }

  #connectSocket(pid: number, a: number, b: number): number {
    const fd = sys.socket(sys.AF_UNIX, sys.SOCK_STREAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC);
    if (fd < 0) return -1;
    const rc = sys.connect(fd, sys.abstractAddress(socketName(pid, a, b)));
    if (rc < 0) {
      sys.close(fd); // ECONNREFUSED: nobody listens under that name (gone); EAGAIN: its backlog is full
      return -1;
    }
    return fd;
  }

  /** Open doorbell fds held by this waker. */
  get cached(): number {
    return this.#cache.size;
  }

  close(): void {
    for (const fd of this.#cache.values()) sys.close(fd);
    this.#cache.clear();
  }
}

/**
 * A synchronous waiter that interoperates: announces STATE = FUTEX and sleeps in FUTEX_WAIT on WORD (the library's
 * wait(), no spin). Wakers that follow the cell protocol FUTEX_WAKE it.
 */
export function waitSync(view: Int32Array, index: number, expected: number, timeoutMs = Infinity): WaitResult {
  const st = index + C_STATE;
  const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
  for (;;) {
    Atomics.store(view, st, S_FUTEX);
    if (Atomics.load(view, index) !== expected) {
      Atomics.store(view, st, S_IDLE);
      return 'not-equal';
    }
    const left = deadline === Infinity ? Infinity : deadline - performance.now();
    if (left <= 0) {
      Atomics.store(view, st, S_IDLE);
      return 'timed-out';
    }
    const r = futexWait(view, index, expected, left, { spin: 0 });
    Atomics.store(view, st, S_IDLE);
    if (r !== 'timed-out') return r;
  }
}
