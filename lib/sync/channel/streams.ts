// Node streams over the ends of a channel (docs/channel.md, "Streams"):
//
//   producer.writable()  a stream.Writable with backpressure, on sendAsync: a chunk goes on when the ring has room
//                        for it, and the stream buffers up to its highWaterMark meanwhile. A byte stream by default
//                        (chunks larger than a message are split, small buffered ones joined), or one message per
//                        chunk in object mode (a chunk larger than maxMessageSize fails with EMSGSIZE).
//   consumer.readable()  a stream.Readable of messages on the consumer's async iteration, which closes the consumer
//                        when it ends, fails or is destroyed. Readable.from(consumer) works too and leaves the
//                        consumer open: destroying it calls the iterator's return(), which ends a receive in
//                        progress without taking a message.
import { Readable, Writable } from 'node:stream';
import { stateError } from '../../c/index.js';
import { checkInteger } from '../../common/arguments.js';
import type { Consumer } from './consumer.js';
import type { Producer } from './producer.js';

export interface ProducerWritableOptions {
  /**
   * Close the producer when the stream finishes (after its last chunk is in the ring), fails or is destroyed, like
   * fs.createWriteStream's autoClose. Default true. With false the producer stays open and is yours to close.
   */
  close?: boolean;
  /**
   * One message per chunk, message boundaries kept: a chunk is a Uint8Array, another ArrayBufferView, an
   * ArrayBuffer or a string (encoded with its encoding); one larger than `maxMessageSize` fails the stream with
   * EMSGSIZE, nothing of it written. Default false: a byte stream (Buffer, Uint8Array and string chunks), cut into
   * messages of at most `messageSize` bytes.
   */
  objectMode?: boolean;
  /** What the stream buffers before write() returns false: bytes, or chunks in object mode. Default: Node's. */
  highWaterMark?: number;
  /**
   * Byte stream only: the largest message the stream sends, 1 .. maxMessageSize (the default). A larger chunk is
   * split into messages of this size; small chunks buffered together are joined up to it.
   */
  messageSize?: number;
  /** The encoding of string chunks written without one. Default 'utf8'. */
  defaultEncoding?: BufferEncoding;
}

export interface ConsumerReadableOptions {
  /** Messages read ahead of the stream's reader. Default: Node's for object mode (16). */
  highWaterMark?: number;
}

function optionsObject<T extends object>(op: string, options: T | undefined): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${op}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  return options;
}

function booleanOption(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${op}: ${name} must be a boolean, got ${typeof value}`);
  return value;
}

function highWaterMarkOption(op: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkInteger(op, 'highWaterMark', value, 0);
}

/** What Node's streams give the writes they discard on destroy. */
function destroyedError(): Error {
  return Object.assign(new Error('Cannot call write after a stream was destroyed: the rest of this chunk was not sent'), { code: 'ERR_STREAM_DESTROYED' });
}

function closedError(op: string, end: 'producer' | 'consumer', id: number) {
  return stateError('ERR_CHANNEL_CLOSED', op, `${op}: this ${end} end of channel ${id} is closed`, { shmid: id });
}

/**
 * The messages that carry `chunks` as a byte stream: none longer than `size`; a longer chunk is cut (as views,
 * no copy), chunks shorter than `size` that follow each other are joined (copied) up to `size`. Empty chunks
 * carry nothing and make no message.
 */
function* messagesOf(chunks: readonly Uint8Array[], size: number): Generator<Uint8Array, void, undefined> {
  let parts: Uint8Array[] = [];
  let length = 0;
  for (const chunk of chunks) {
    if (length + chunk.length <= size) {
      if (chunk.length > 0) parts.push(chunk);
      length += chunk.length;
      continue;
    }
    if (length > 0) yield joined(parts, length);
    let offset = 0;
    while (chunk.length - offset > size) {
      yield chunk.subarray(offset, offset + size);
      offset += size;
    }
    parts = offset < chunk.length ? [chunk.subarray(offset)] : [];
    length = chunk.length - offset;
  }
  if (length > 0) yield joined(parts, length);
}

function joined(parts: Uint8Array[], length: number): Uint8Array {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
}

/** A chunk of an object-mode stream as the bytes of one message (strings encoded; the rest as sendAsync takes it). */
function messageOf(chunk: unknown, encoding: BufferEncoding): Uint8Array | ArrayBufferView | ArrayBuffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array);
}

/** producer.writable(options): docs/channel.md, "Streams". */
export function producerWritable(producer: Producer, options?: ProducerWritableOptions): Writable {
  const op = 'Producer.writable';
  const given = optionsObject(op, options);
  const close = booleanOption(op, 'close', given.close, true);
  const objectMode = booleanOption(op, 'objectMode', given.objectMode, false);
  const highWaterMark = highWaterMarkOption(op, given.highWaterMark);
  if (given.defaultEncoding !== undefined && !Buffer.isEncoding(given.defaultEncoding)) {
    throw new TypeError(`${op}: defaultEncoding must be an encoding Buffer knows, got ${String(given.defaultEncoding)}`);
  }
  if (producer.closed) throw closedError(op, 'producer', producer.id);
  const max = producer.maxMessageSize;
  const messageSize = given.messageSize === undefined ? max : checkInteger(op, 'messageSize', given.messageSize, 1, max);

  /**
   * Sends the messages one after another, each when the ring has room. Once the stream is destroyed the rest is not
   * sent, and the write fails as Node fails the writes it discards (ERR_STREAM_DESTROYED).
   */
  async function send(messages: Iterable<Uint8Array | ArrayBufferView | ArrayBuffer>): Promise<void> {
    for (const message of messages) {
      if (stream.destroyed) throw destroyedError();
      await producer.sendAsync(message);
    }
  }

  function closeProducer(): Error | null {
    if (!close) return null;
    try {
      producer.close();
      return null;
    } catch (error) {
      return error as Error;
    }
  }

  const stream = new Writable({
    objectMode,
    highWaterMark,
    defaultEncoding: given.defaultEncoding,
    // A byte stream gets Buffers (strings encoded by Node); object mode gets the chunks as written.
    decodeStrings: !objectMode,
    write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
      const messages = objectMode ? [messageOf(chunk, encoding)] : messagesOf([chunk as Buffer], messageSize);
      send(messages).then(() => callback(), callback);
    },
    writev(chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, callback: (error?: Error | null) => void) {
      const messages = objectMode
        ? chunks.map(({ chunk, encoding }) => messageOf(chunk, encoding))
        : messagesOf(
            chunks.map(({ chunk }) => chunk as Buffer),
            messageSize,
          );
      send(messages).then(() => callback(), callback);
    },
    final(callback: (error?: Error | null) => void) {
      callback(closeProducer());
    },
    destroy(error: Error | null, callback: (error?: Error | null) => void) {
      // Closing ends a sendAsync that waits for room, with ERR_CHANNEL_CLOSED (which reaches only that write's callback).
      const closeError = closeProducer();
      callback(error ?? closeError);
    },
  });
  return stream;
}

/** consumer.readable(options): docs/channel.md, "Streams". */
export function consumerReadable(consumer: Consumer, options?: ConsumerReadableOptions): Readable {
  const op = 'Consumer.readable';
  const given = optionsObject(op, options);
  const highWaterMark = highWaterMarkOption(op, given.highWaterMark);
  if (consumer.closed) throw closedError(op, 'consumer', consumer.id);
  // The consumer's async iteration: it ends when the producer closed (and every message was received), and
  // throws EPIPE when the producer died without closing.
  const messages = consumer[Symbol.asyncIterator]();
  let reading = false;

  async function pump(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await messages.next();
        if (stream.destroyed) return;
        if (done) {
          stream.push(null);
          return;
        }
        if (!stream.push(value)) break;
      }
    } catch (error) {
      // After destroy() this is the ERR_CHANNEL_CLOSED of the receive that closing the consumer ended.
      if (!stream.destroyed) stream.destroy(error as Error);
      return;
    }
    reading = false;
  }

  const stream = new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      if (reading) return;
      reading = true;
      void pump();
    },
    destroy(error: Error | null, callback: (error?: Error | null) => void) {
      try {
        consumer.close();
      } catch (closeError) {
        callback(error ?? (closeError as Error));
        return;
      }
      callback(error);
    },
  });
  return stream;
}
