// Streaming for the data commands, in bounded memory whatever the segment's size: a range of a segment read in
// chunks, stdout written with backpressure, and stdin read up to a limit and no further.
import { read as readFd } from 'node:fs';
import { Segment, type ReadOnlySegmentAttachment } from '../index.js';

/** Bytes copied out of the segment per read (and formatted per step by hexdump). */
export const CHUNK = 256 * 1024;
/**
 * Bytes read through one attachment before it is replaced by a fresh one. Every page read through a mapping stays
 * mapped, and counts in this process's resident memory, until the mapping goes (and reading a page the segment never
 * had allocates it, as for any shared memory mapping): reading a whole 1 GiB segment through one attachment would
 * make the process 1 GiB large. A fresh attachment every WINDOW bytes keeps that part under WINDOW.
 */
export const WINDOW = 4 * 1024 * 1024;

/** The number of bytes a range covers; throws if it passes the end of the segment. */
export function checkRange(size: number, offset: number, length: number | undefined): number {
  if (offset > size) throw new RangeError(`offset ${offset} is past the end of the segment (${size} bytes)`);
  const n = length ?? size - offset;
  if (offset + n > size) throw new RangeError(`${n} bytes at offset ${offset} pass the end of the segment (${size} bytes)`);
  return n;
}

/**
 * Reads `length` bytes at `offset` (to the end by default) of segment `id` through read-only attachments, and hands
 * them to `each` in chunks of at most CHUNK bytes, in order, waiting for each call. The chunk is one buffer, reused:
 * `each` must be done with it when its promise resolves (write() below resolves once the stream took the bytes).
 * The range is checked against the segment's real size first.
 *
 * The next attachment is made before the previous one is detached, so that the segment never has zero attachments
 * from here: if it is removed meanwhile, it lives on until the read is over.
 */
export async function readRange(id: number, offset: number, length: number | undefined, each: (chunk: Uint8Array) => Promise<void>): Promise<void> {
  const segment = Segment.fromId(id);
  let attachment: ReadOnlySegmentAttachment = segment.attach({ readOnly: true });
  try {
    const end = offset + checkRange(attachment.size, offset, length);
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(end - offset, 1)));
    let throughThis = 0;
    for (let at = offset; at < end; ) {
      if (throughThis >= WINDOW) {
        const next = segment.attach({ readOnly: true });
        attachment.detach();
        attachment = next;
        throughThis = 0;
      }
      const n = attachment.readInto(buffer.subarray(0, Math.min(CHUNK, end - at)), at);
      at += n;
      throughThis += n;
      await each(buffer.subarray(0, n));
    }
  } finally {
    attachment.detach();
  }
}

/**
 * Writes to a stream and resolves once the stream is done with `data` (its write callback): the caller may then
 * reuse the buffer. Waiting for each write also keeps memory at about one chunk whatever the reader's speed.
 */
export function writeAll(stream: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onClose = () => reject(new Error('stdout was closed before everything was written'));
    stream.once('close', onClose);
    stream.write(data, (error) => {
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}

/**
 * Reads stdin until its end or until it has given `limit` bytes, whichever comes first, and returns what it read
 * (in pieces, in order). The process's own stdin is read from fd 0 with read(2) calls that never ask for more than
 * is still allowed, so that nothing past `limit` bytes is consumed: a command after this one in the same shell group
 * reads on from there. Another stream (main() called with its own Io) is read chunk by chunk until the limit.
 */
export async function readAtMost(stdin: NodeJS.ReadableStream | undefined, limit: number): Promise<{ pieces: Buffer[]; length: number }> {
  if (stdin === undefined) return readFdAtMost(0, limit);
  const pieces: Buffer[] = [];
  let length = 0;
  if (limit === 0) return { pieces, length };
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    const piece = bytes.subarray(0, limit - length);
    pieces.push(piece);
    length += piece.length;
    if (length >= limit) break;
  }
  return { pieces, length };
}

/** Scratch space for one read(2); what it reads is copied out in pieces of the size really read. */
const READ_SIZE = 1024 * 1024;

async function readFdAtMost(fd: number, limit: number): Promise<{ pieces: Buffer[]; length: number }> {
  const pieces: Buffer[] = [];
  let length = 0;
  const scratch = Buffer.allocUnsafe(Math.min(READ_SIZE, Math.max(limit, 1)));
  let idle = 1;
  while (length < limit) {
    let n: number;
    try {
      n = await readOnce(fd, scratch, Math.min(scratch.length, limit - length));
    } catch (error) {
      // A non-blocking fd 0 (set so by whoever gave it to us, or by process.stdin): no data yet. Try again soon.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await new Promise((resolve) => setTimeout(resolve, idle));
      idle = Math.min(idle * 2, 20);
      continue;
    }
    if (n === 0) break;
    idle = 1;
    pieces.push(Buffer.from(scratch.subarray(0, n)));
    length += n;
  }
  return { pieces, length };
}

function readOnce(fd: number, into: Buffer, length: number): Promise<number> {
  return new Promise((resolve, reject) => readFd(fd, into, 0, length, null, (error, n) => (error ? reject(error) : resolve(n))));
}
