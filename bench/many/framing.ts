// Length-prefixed frames over a Unix stream socket (node:net): a u32 length (little-endian), then the payload.
// Receiving cuts frames out of the stream with the harness's StreamRx (bench/transports/stream.ts).
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { StreamRx } from '../transports/stream.js';
import type { MaybePromise } from '../transports/types.js';

const PREFIX = 4;
/** Larger lengths mean a broken stream. */
const MAX_FRAME = 64 << 20;

/** Resolves when the socket drained (rejects if it fails or closes first). */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      socket.off('drain', onDrain);
      socket.off('error', done);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('unix: the socket closed while writing'));
    socket.once('drain', onDrain);
    socket.once('error', done);
    socket.once('close', onClose);
  });
}

/** One frame: a fresh Buffer holding the prefix and a copy of the payload (the stream keeps it until written). */
export function frame(payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(PREFIX + payload.length);
  b.writeUInt32LE(payload.length, 0);
  b.set(payload, PREFIX);
  return b;
}

/** Sends frames on a socket: one write per message; when the socket says its buffer is full, waits for drain. */
export class FramedTx {
  constructor(readonly socket: Socket) {}

  send(payload: Uint8Array): MaybePromise<void> {
    if (this.socket.write(frame(payload))) return;
    return drained(this.socket);
  }
}

/** Writes one frame to every socket (the same Buffer: one copy in the process, one write per socket), then waits for those that are full. */
export function sendToAll(sockets: Socket[], payload: Uint8Array): MaybePromise<void> {
  const b = frame(payload);
  let full: Promise<void>[] | null = null;
  for (const s of sockets) if (!s.write(b)) (full ??= []).push(drained(s));
  if (full) return Promise.all(full).then(() => undefined);
}

/** Receives frames: the view is valid until the next receive(). */
export class FramedRx {
  readonly #rx: StreamRx;
  readonly #body = (prefix: Uint8Array): MaybePromise<Uint8Array> => {
    const n = prefix[0] | (prefix[1] << 8) | (prefix[2] << 16) | (prefix[3] << 24);
    if (n < 0 || n > MAX_FRAME) throw new Error(`unix: a frame of ${n >>> 0} bytes (the stream is out of step)`);
    return this.#rx.receive(n);
  };

  constructor(socket: Socket) {
    this.#rx = new StreamRx(socket, 'unix');
  }

  receive(): MaybePromise<Uint8Array> {
    const prefix = this.#rx.receive(PREFIX);
    return prefix instanceof Promise ? prefix.then(this.#body) : this.#body(prefix);
  }

  /** The raw bytes before the frames (a client's 4-byte index). */
  receiveRaw(n: number): MaybePromise<Uint8Array> {
    return this.#rx.receive(n);
  }
}

/** Ends a socket and waits until it closed (both directions). */
export async function closeSocket(socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  const closed = once(socket, 'close');
  socket.end();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
  socket.destroy();
}
