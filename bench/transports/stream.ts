// Framing for byte-stream transports (stdio, pipe, fifo, unix): messages of a known size are cut out of the
// stream. Two flavours: Node streams (asynchronous, event loop) and blocking file descriptors (readSync/writeSync).
import { readSync, writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { MaybePromise, Rx, Tx } from './types.js';

/** Receives from a Node Readable: a message inside one chunk is a view of it; one split across chunks is copied together. */
export class StreamRx implements Rx {
  #chunks: Buffer[] = [];
  #offset = 0; // into #chunks[0]
  #available = 0;
  #waiter: { size: number; resolve: (m: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  #ended: Error | null = null;
  #assembly = Buffer.alloc(0);

  constructor(stream: Readable, what: string) {
    stream.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#available += chunk.length;
      const w = this.#waiter;
      if (w && this.#available >= w.size) {
        this.#waiter = null;
        w.resolve(this.#take(w.size));
      }
    });
    const end = (error?: Error) => {
      this.#ended ??= error ?? new Error(`${what}: the stream ended (peer gone)`);
      const w = this.#waiter;
      this.#waiter = null;
      w?.reject(this.#ended);
    };
    stream.on('end', () => end());
    stream.on('close', () => end());
    stream.on('error', (e) => end(e));
  }

  #take(size: number): Uint8Array {
    this.#available -= size;
    const first = this.#chunks[0];
    if (first.length - this.#offset >= size) {
      const view = first.subarray(this.#offset, this.#offset + size);
      this.#offset += size;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
      return view;
    }
    if (this.#assembly.length < size) this.#assembly = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.#chunks[0];
      const n = Math.min(size - filled, chunk.length - this.#offset);
      chunk.copy(this.#assembly, filled, this.#offset, this.#offset + n);
      filled += n;
      this.#offset += n;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    return this.#assembly.subarray(0, size);
  }

  receive(size: number): MaybePromise<Uint8Array> {
    if (this.#available >= size) return this.#take(size);
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiter = { size, resolve, reject };
    });
  }

  release(): void {}
}

/** Sends on a Node Writable: each message is copied into a fresh Buffer (the stream keeps a reference until written). */
export class StreamTx implements Tx {
  readonly #stream: Writable;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  send(bytes: Uint8Array): MaybePromise<void> {
    if (this.#stream.write(Buffer.from(bytes))) return;
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.#stream.once('error', onError);
      this.#stream.once('drain', () => {
        this.#stream.off('error', onError);
        resolve();
      });
    });
  }
}

/** Receives from a blocking fd with readSync, through a buffer (one read(2) may bring many small messages). */
export class FdRx implements Rx {
  readonly #fd: number;
  readonly #what: string;
  #buffer = Buffer.allocUnsafe(256 * 1024);
  #start = 0;
  #end = 0;

  constructor(fd: number, what: string) {
    this.#fd = fd;
    this.#what = what;
  }

  receive(size: number): Uint8Array {
    if (this.#end - this.#start < size) {
      if (this.#buffer.length < size) {
        const bigger = Buffer.allocUnsafe(2 * size);
        this.#buffer.copy(bigger, 0, this.#start, this.#end);
        this.#buffer = bigger;
        this.#end -= this.#start;
        this.#start = 0;
      } else if (this.#buffer.length - this.#start < size) {
        this.#buffer.copy(this.#buffer, 0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      while (this.#end - this.#start < size) {
        const n = readSync(this.#fd, this.#buffer, this.#end, this.#buffer.length - this.#end, null);
        if (n === 0) throw new Error(`${this.#what}: end of file (peer gone)`);
        this.#end += n;
      }
    }
    const view = this.#buffer.subarray(this.#start, this.#start + size);
    this.#start += size;
    return view;
  }

  release(): void {}
}

/** Sends on a blocking fd: one write(2) per message (repeated if the kernel takes part of it). */
export class FdTx implements Tx {
  readonly #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  send(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done);
  }
}
