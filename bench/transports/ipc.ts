// ipc-advanced, ipc-json: child_process IPC, the channel Node itself gives a parent and its child (an 'ipc' entry
// in stdio: a socketpair that Node frames), with process.send() / child.send() and the 'message' event on both
// sides. 'advanced' serializes with the V8 serializer (structured clone: the bytes travel as a Buffer); 'json'
// with JSON.stringify, bytes as a base64 string, which is how binary data goes through JSON. Every send serializes
// the message at once (the caller may change its bytes as soon as send returns) and passes a callback: when
// send() says the backlog is too long (false), the next send waits until that message has been written, so the
// queue inside the process stays bounded.
import type { ChildProcess } from 'node:child_process';
import type { DriverContext, Link, MaybePromise, PeerContext, Rx, TransportModule, Tx } from './types.js';

type Serialization = 'advanced' | 'json';

/** The IPC side of a ChildProcess, or of `process` in the child. */
interface Endpoint {
  send?(message: unknown, sendHandle?: undefined, options?: undefined, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  readonly connected?: boolean;
}

function encode(bytes: Uint8Array, serialization: Serialization): unknown {
  return serialization === 'advanced' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function decode(message: unknown, serialization: Serialization, what: string): Uint8Array {
  if (serialization === 'json') {
    if (typeof message !== 'string') throw new Error(`${what}: expected a base64 string, got ${typeof message}`);
    return Buffer.from(message, 'base64');
  }
  if (!(message instanceof Uint8Array)) throw new Error(`${what}: expected a Uint8Array, got ${Object.prototype.toString.call(message)}`);
  return message;
}

export class IpcTx implements Tx {
  readonly #endpoint: Endpoint;
  readonly #serialization: Serialization;
  readonly #what: string;
  #sent = 0;
  #written = 0;
  #error: Error | null = null;
  #waiter: { until: number; resolve: () => void; reject: (e: Error) => void } | null = null;
  readonly #onWritten = (error: Error | null) => {
    this.#written++;
    if (error) this.#error ??= error;
    const w = this.#waiter;
    if (w && (this.#error || this.#written >= w.until)) {
      this.#waiter = null;
      if (this.#error) w.reject(this.#error);
      else w.resolve();
    }
  };

  constructor(endpoint: Endpoint, serialization: Serialization, what: string) {
    this.#endpoint = endpoint;
    this.#serialization = serialization;
    this.#what = what;
  }

  send(bytes: Uint8Array): MaybePromise<void> {
    if (this.#error) throw this.#error;
    if (!this.#endpoint.send) throw new Error(`${this.#what}: this process has no IPC channel`);
    this.#sent++;
    if (this.#endpoint.send(encode(bytes, this.#serialization), undefined, undefined, this.#onWritten)) return;
    return this.#until(this.#sent);
  }

  /** Resolves once the first `count` messages have been written (rejects with the first write error). */
  #until(count: number): Promise<void> | undefined {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#written >= count) return;
    return new Promise((resolve, reject) => {
      this.#waiter = { until: count, resolve, reject };
    });
  }

  /** Everything sent so far has been written. */
  flushed(): Promise<void> | undefined {
    return this.#until(this.#sent);
  }
}

export class IpcRx implements Rx {
  readonly #serialization: Serialization;
  readonly #what: string;
  #queue: unknown[] = [];
  #head = 0;
  #waiter: { resolve: (m: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  #ended: Error | null = null;

  constructor(endpoint: Endpoint, serialization: Serialization, what: string) {
    this.#serialization = serialization;
    this.#what = what;
    endpoint.on('message', (message) => {
      const w = this.#waiter;
      if (w) {
        this.#waiter = null;
        try {
          w.resolve(decode(message, this.#serialization, this.#what));
        } catch (error) {
          w.reject(error as Error);
        }
      } else this.#queue.push(message);
    });
    endpoint.on('disconnect', () => {
      this.#ended ??= new Error(`${what}: the IPC channel was disconnected (peer gone)`);
      const w = this.#waiter;
      this.#waiter = null;
      w?.reject(this.#ended);
    });
  }

  receive(): MaybePromise<Uint8Array> {
    if (this.#head < this.#queue.length) {
      const message = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      return decode(message, this.#serialization, this.#what);
    }
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  release(): void {}
}

const DETAIL: Record<Serialization, string> = {
  advanced: "child_process IPC (a socketpair), process.send/'message', serialization 'advanced': each message a Buffer through the V8 serializer",
  json: "child_process IPC (a socketpair), process.send/'message', serialization 'json': each message a base64 string in a JSON line",
};

function link(endpoint: Endpoint, serialization: Serialization, what: string, close: () => void): Link {
  const tx = new IpcTx(endpoint, serialization, what);
  return {
    tx,
    rx: new IpcRx(endpoint, serialization, what),
    detail: DETAIL[serialization],
    async close() {
      // Exiting with messages still queued inside this process would lose them.
      await tx.flushed();
      close();
    },
  };
}

function ipc(serialization: Serialization): TransportModule {
  const what = `ipc-${serialization}`;
  return {
    async openDriver(ctx: DriverContext): Promise<Link> {
      const child: ChildProcess = ctx.spawnPeer({ stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'ipc'], serialization });
      const l = link(child, serialization, what, () => child.connected && child.disconnect());
      await ctx.peerLine();
      return l;
    },
    async openPeer(ctx: PeerContext): Promise<Link> {
      if (!process.send) throw new Error(`${what}: the peer was started without an IPC channel`);
      const l = link(process, serialization, what, () => process.connected && process.disconnect?.());
      ctx.tell('ready');
      return l;
    },
  };
}

export const ipcAdvanced = ipc('advanced');
export const ipcJson = ipc('json');
