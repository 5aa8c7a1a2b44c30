// Bytes: cat (raw to stdout), hexdump (hexdump -C), write (stdin into the segment). All three work in bounded
// memory whatever the segment's size: cat and hexdump stream the segment a chunk at a time (stream.ts), and write
// reads no more of stdin than could fit.
import { Segment } from '../index.js';
import { UsageError, parseCount, parseId, str, write, type Command, type Io } from './args.js';
import { HexdumpStream } from './hexdump.js';
import { CHUNK, readAtMost, readRange, writeAll } from './stream.js';

const rangeOptions = {
  offset: { type: 'string', short: 'o' },
  length: { type: 'string', short: 'n' },
} as const;

/** The one id a data command takes, and its --offset/--length. */
function target(command: string, values: Record<string, unknown>, positionals: string[]) {
  if (positionals.length !== 1) throw new UsageError(`give one segment id, e.g. sysv-shm ${command} 32769`, command);
  const id = parseId(positionals[0], command);
  const offsetText = str(values, 'offset');
  const lengthText = str(values, 'length');
  return {
    id,
    offset: offsetText === undefined ? 0 : parseCount(offsetText, '--offset', command),
    length: lengthText === undefined ? undefined : parseCount(lengthText, '--length', command),
  };
}

/** The options part of the help of the commands that read a range of a segment. */
const RANGE_HELP = `Options:
  -o, --offset <n>  start at this byte (decimal, 0x hex, or with K, M)
  -n, --length <n>  this many bytes (default: to the end)
  -h, --help        this help
`;

export const cat: Command = {
  name: 'cat',
  summary: "write a segment's bytes to stdout",
  help: `Usage: sysv-shm cat <id> [--offset <n>] [--length <n>]

Writes the segment's raw bytes to stdout, read through read-only attachments a
chunk at a time: any size streams in bounded memory.
Pipe it: sysv-shm cat 32769 | xxd, or --length 5 to see a string.

${RANGE_HELP}`,
  options: rangeOptions,
  async run(values, positionals, io) {
    const { id, offset, length } = target('cat', values, positionals);
    await readRange(id, offset, length, (chunk) => writeAll(io.stdout, chunk));
    await write(io.stdout, ''); // everything written
    return 0;
  },
};

export const hexdump: Command = {
  name: 'hexdump',
  summary: "show a segment's bytes like hexdump -C",
  help: `Usage: sysv-shm hexdump <id> [--offset <n>] [--length <n>]

Shows the segment's bytes as hexdump -C does: offset, 16 bytes in hex, the
printable ones as text; runs of identical lines are squeezed into "*". With
--offset and --length, prints what hexdump -C -s <n> -n <n> prints. Streams any
size in bounded memory.

${RANGE_HELP}`,
  options: rangeOptions,
  async run(values, positionals, io) {
    const { id, offset, length } = target('hexdump', values, positionals);
    const dump = new HexdumpStream(offset);
    const lines = Buffer.allocUnsafe(HexdumpStream.outputBound(CHUNK)); // one output buffer for every chunk
    await readRange(id, offset, length, (chunk) => writeAll(io.stdout, dump.push(chunk, lines)));
    // hexdump -n 0 prints nothing, not even the offset.
    await write(io.stdout, length === 0 ? '' : dump.end());
    return 0;
  },
};

export const writeCommand: Command = {
  name: 'write',
  summary: 'copy stdin into a segment',
  help: `Usage: sysv-shm write <id> [--offset <n>] < data

Copies everything on stdin into the segment at --offset (default 0); nothing
else changes. Fails, writing nothing, if the data does not fit: it reads at
most one byte more than fits, so an endless input fails at once.
  printf 'hello\\0' | sysv-shm write 32769 --offset 64

Options:
  -o, --offset <n>  where to write (decimal, 0x hex, or with K, M)
  -v, --verbose     say how many bytes were written
  -h, --help        this help
`,
  options: { offset: rangeOptions.offset, verbose: { type: 'boolean', short: 'v' } },
  async run(values, positionals, io: Io) {
    const { id, offset } = target('write', values, positionals);
    const segment = Segment.fromId(id);
    // Check the size before waiting on stdin, so that a wrong id fails at once.
    if (offset > segment.size) throw new RangeError(`offset ${offset} is past the end of the segment (${segment.size} bytes)`);
    // Read one byte more than fits: if it comes, the data does not fit, and the rest of stdin stays unread.
    const room = segment.size - offset;
    const { pieces, length } = await readAtMost(io.stdin, room + 1);
    if (length > room) {
      throw new RangeError(
        `the data does not fit: stdin has more than the ${room} bytes from offset ${offset} to the end of the segment (${segment.size} bytes); nothing was written`,
      );
    }
    using attachment = segment.attach();
    let at = offset;
    for (const piece of pieces) at += attachment.write(piece, at);
    if (values.verbose) await write(io.stdout, `wrote ${length} bytes at offset ${offset} of segment ${id}\n`);
    return 0;
  },
};
