// The doorbell of this thread's event loop: where every async wait of the library sleeps (docs/design/waiting-engine.md).
//
// One listening abstract-namespace Unix stream socket per event loop (the process's main thread, each worker),
// named after the pid and a random nonce, a net.Server, so libuv's epoll watches it: no
// thread sleeps for a pending wait, and an idle process with pending waits uses no CPU. A waiting end writes the
// doorbell's identity and a token into its wake-up cell (ring-layout.ts); a waker in any process connects once
// and sends the 4 token bytes. The token names the wait to check (its slot here); anything unexpected (a read of
// many tokens, which may hide tokens a full socket refused, or a stray byte) checks every pending wait.
//
// Besides the tokens, a watch timer checks every pending wait now and then (each wait's check looks at its peer's
// liveness and re-reads its condition): that notices a peer killed before it ever rang, and bounds what a lost
// ring costs (a waker in another network namespace cannot reach an abstract socket). It first runs WATCH_MIN_MS
// after the doorbell gets a wait when it had none, then at periods doubling up to WATCH_MAX_MS (about 1 ms per
// 1,000 pending waits each time). A waker's connection that closes (its process exited) triggers the same check
// at once.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { endianness } from 'node:os';
import { CELL_KIND_SOCKET, doorbellName } from '../ring-layout.js';

const LITTLE_ENDIAN = endianness() === 'LE';
/** A read of this many tokens or more checks every pending wait (a full socket drops tokens beyond a few hundred). */
const SCAN_AT_TOKENS = 32;
/** The watch timer's first period after a wait starts, and its longest (it doubles while nothing happens). */
const WATCH_MIN_MS = 50;
const WATCH_MAX_MS = 1000;
/**
 * Connections kept, at most: a waker process (or thread) keeps one per doorbell it rang, so this is a count of
 * wakers. Beyond it the oldest is closed (its waker reconnects at its next ring): any local process can connect,
 * and must not be able to exhaust this process's file descriptors.
 */
const MAX_CONNECTIONS = 256;
/** Waker connections that close trigger at most one watch per this many ms. */
const CLOSE_WATCH_MS = 20;
/** Rings of this thread's own doorbell collected before one scan replaces them. */
const MAX_LOCAL_TOKENS = 1024;

/** A pending wait, as the doorbell knows it. */
export interface Ringable {
  /** Checks the wait's condition (after a token, a scan or a watch tick); settles the wait or re-arms its cell. */
  wake(): void;
  /** The periodic check: the peer's liveness, then wake(). */
  watch(): void;
}

/** One thread's doorbell: what a cell names (kind, pid, nonce) so that a waker can reach it, and its pending waits. */
export class Doorbell {
  readonly kind = CELL_KIND_SOCKET;
  readonly pid: number;
  readonly nonceA: number;
  readonly nonceB: number;
  readonly name: string;
  /** Pending waits by token; freed tokens are reused (a stale token wakes a wait spuriously: it re-checks). */
  readonly #slots: (Ringable | undefined)[] = [];
  readonly #free: number[] = [];
  #pending = 0;
  readonly #server: net.Server;
  readonly #connections = new Set<net.Socket>();
  #referenced = false;
  #watchTimer: NodeJS.Timeout | undefined;
  #closeWatch: NodeJS.Timeout | undefined;
  /** Tokens rung from this thread, checked in one microtask; undefined when none is queued. */
  #localTokens: number[] | undefined;
  #watchPeriod = WATCH_MIN_MS;
  /** Counters for tests and measurements. */
  readonly stats = { reads: 0, tokens: 0, scans: 0, watches: 0 };

  constructor() {
    const nonce = randomBytes(8);
    this.pid = process.pid;
    this.nonceA = nonce.readInt32LE(0);
    this.nonceB = nonce.readInt32LE(4);
    this.name = doorbellName(this.pid, this.nonceA, this.nonceB);
    const server = net.createServer((connection) => this.#accept(connection));
    server.on('error', () => {}); // accept errors (EMFILE): the watch still checks every wait
    // The name fills sun_path, so Node 20 (which pads an abstract name to the full sun_path) and Node 22+ (which
    // does not) bind the same address. `exclusive`: in a cluster worker, the worker binds it, not the primary.
    server.listen({ path: `\0${this.name}`, exclusive: true });
    server.unref();
    this.#server = server;
  }

  /** Pending waits. */
  get pending(): number {
    return this.#pending;
  }

  /** Connected wakers. */
  get connections(): number {
    return this.#connections.size;
  }

  /** The token the next add() returns: announced in the cell before the wait is added. */
  nextToken(): number {
    return this.#free.length > 0 ? this.#free[this.#free.length - 1] : this.#slots.length;
  }

  /** Adds a pending wait; returns its token. The event loop stays alive while waits are pending. */
  add(wait: Ringable): number {
    const token = this.#free.length > 0 ? (this.#free.pop() as number) : this.#slots.length;
    this.#slots[token] = wait;
    this.#pending++;
    if (!this.#referenced) {
      this.#server.ref();
      this.#referenced = true;
    }
    // The first wait after a quiet spell is watched soon; waits that follow each other (a busy channel re-arming
    // after every message) leave the period as it is, so a busy doorbell is not watched more often than an idle one.
    if (this.#pending === 1) this.#watchPeriod = WATCH_MIN_MS;
    if (this.#watchTimer === undefined) this.#scheduleWatch();
    return token;
  }

  /** Removes the wait added under `token`. */
  delete(token: number, wait: Ringable): void {
    if (this.#slots[token] !== wait) return;
    this.#slots[token] = undefined;
    this.#free.push(token);
    this.#pending--;
    if (this.#pending === 0) {
      if (this.#referenced) {
        this.#server.unref();
        this.#referenced = false;
      }
      if (this.#watchTimer !== undefined) {
        clearTimeout(this.#watchTimer);
        this.#watchTimer = undefined;
      }
    }
  }

  /** A token rung from this thread itself: no socket; the waits are checked after the current job, in one batch. */
  ringLocally(token: number): void {
    if (this.#localTokens !== undefined) {
      if (this.#localTokens.length < MAX_LOCAL_TOKENS) this.#localTokens.push(token);
      return;
    }
    this.#localTokens = [token];
    queueMicrotask(() => {
      const tokens = this.#localTokens as number[];
      this.#localTokens = undefined;
      if (tokens.length >= MAX_LOCAL_TOKENS) return this.scan();
      for (const t of tokens) this.#wake(t);
    });
  }

  /** Checks every pending wait (each wake() re-arms or settles; a settled wait leaves its slot). */
  scan(): void {
    this.stats.scans++;
    for (const wait of this.#slots.slice()) wait?.wake();
  }

  #wake(token: number): void {
    this.stats.tokens++;
    this.#slots[token]?.wake();
  }

  #accept(connection: net.Socket): void {
    connection.unref(); // the server's reference keeps the loop alive while waits are pending, and only then
    if (this.#connections.size >= MAX_CONNECTIONS) {
      const oldest = this.#connections.values().next().value as net.Socket;
      this.#connections.delete(oldest);
      oldest.destroy();
    }
    this.#connections.add(connection);
    let carry: Buffer | undefined;
    connection.on('data', (data: Buffer) => {
      this.stats.reads++;
      let chunk = data;
      if (carry !== undefined) {
        chunk = Buffer.concat([carry, chunk]);
        carry = undefined;
      }
      const whole = chunk.length & ~3;
      if (whole !== chunk.length) carry = Buffer.from(chunk.subarray(whole));
      if (chunk.length >= SCAN_AT_TOKENS * 4 || whole !== chunk.length) return this.scan();
      for (let i = 0; i < whole; i += 4) {
        const token = LITTLE_ENDIAN ? chunk.readInt32LE(i) : chunk.readInt32BE(i); // sent as it is in memory
        if (token >= 0 && token < this.#slots.length) this.#wake(token);
      }
    });
    connection.on('error', () => {});
    connection.on('close', () => {
      this.#connections.delete(connection);
      // A waker went away: perhaps the peer of a pending wait died. Check them all soon rather than at the next
      // tick (once per CLOSE_WATCH_MS however many close: closing connections must not be a way to burn our CPU).
      if (this.#pending > 0 && this.#closeWatch === undefined) {
        this.#closeWatch = setTimeout(() => {
          this.#closeWatch = undefined;
          if (this.#pending > 0) this.#watchAll();
        }, CLOSE_WATCH_MS);
        this.#closeWatch.unref();
      }
    });
  }

  #scheduleWatch(): void {
    this.#watchTimer = setTimeout(() => {
      this.#watchTimer = undefined;
      this.#watchAll();
      if (this.#pending > 0) {
        this.#watchPeriod = Math.min(this.#watchPeriod * 2, WATCH_MAX_MS);
        this.#scheduleWatch();
      }
    }, this.#watchPeriod);
    this.#watchTimer.unref();
  }

  #watchAll(): void {
    this.stats.watches++;
    for (const wait of this.#slots.slice()) wait?.watch();
  }
}

let doorbell: Doorbell | undefined;

/** This thread's doorbell, made at the first async wait. */
export function threadDoorbell(): Doorbell {
  doorbell ??= new Doorbell();
  return doorbell;
}

/** This thread's doorbell if one was made. */
export function existingDoorbell(): Doorbell | undefined {
  return doorbell;
}

/** What this thread's doorbell has seen (undefined before the first async wait), for tests and measurements. */
export function doorbellStats():
  | { name: string; pending: number; connections: number; reads: number; tokens: number; scans: number; watches: number }
  | undefined {
  if (doorbell === undefined) return undefined;
  return { name: doorbell.name, pending: doorbell.pending, connections: doorbell.connections, ...doorbell.stats };
}
