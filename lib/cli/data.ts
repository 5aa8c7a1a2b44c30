// Bytes: cat (raw to stdout), hexdump (hexdump -C), write (stdin into the segment).
import { Segment, type ReadOnlySegmentAttachment } from '../index.js';
import { UsageError, parseCount, parseId, str, write, type Command, type Io } from './args.js';
import { hexdumpLines } from './format.js';

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

/** Attaches read-only for as long as `use` runs. */
async function withReadOnly<T>(id: number, use: (attachment: ReadOnlySegmentAttachment) => Promise<T>): Promise<T> {
  const attachment = Segment.fromId(id).attach({ readOnly: true });
  try {
    return await use(attachment);
  } finally {
    attachment.detach();
  }
}

function checkRange(size: number, offset: number, length: number | undefined): number {
  if (offset > size) throw new RangeError(`offset ${offset} is past the end of the segment (${size} bytes)`);
  const n = length ?? size - offset;
  if (offset + n > size) throw new RangeError(`${n} bytes at offset ${offset} pass the end of the segment (${size} bytes)`);
  return n;
}

const CHUNK = 1 << 20;

/** The options part of the help of the commands that read a range of a segment. */
const RANGE_HELP = `Options:
  -o, --offset <n>  start at this byte (decimal, 0x hex, or with K, M)
  -n, --length <n>  this many bytes (default: to the end)
  -h, --help        this help
`;

export const cat: Command = {
  name: 'cat',
  summary: 'write a segment\'s bytes to stdout',
  help: `Usage: sysv-shm cat <id> [--offset <n>] [--length <n>]

Writes the segment's raw bytes to stdout (attached read-only, then detached).
Pipe it: sysv-shm cat 32769 | xxd, or --length 5 to see a string.

${RANGE_HELP}`,
  options: rangeOptions,
  async run(values, positionals, io) {
    const { id, offset, length } = target('cat', values, positionals);
    await withReadOnly(id, async (attachment) => {
      const n = checkRange(attachment.size, offset, length);
      for (let at = offset; at < offset + n; at += CHUNK) {
        await write(io.stdout, attachment.read(at, Math.min(CHUNK, offset + n - at)));
      }
    });
    return 0;
  },
};

export const hexdump: Command = {
  name: 'hexdump',
  summary: 'show a segment\'s bytes like hexdump -C',
  help: `Usage: sysv-shm hexdump <id> [--offset <n>] [--length <n>]

Shows the segment's bytes as hexdump -C does: offset, 16 bytes in hex, the
printable ones as text; runs of identical lines are squeezed into "*".

${RANGE_HELP}`,
  options: rangeOptions,
  async run(values, positionals, io) {
    const { id, offset, length } = target('hexdump', values, positionals);
    await withReadOnly(id, async (attachment) => {
      const n = checkRange(attachment.size, offset, length);
      const lines = hexdumpLines(attachment.read(offset, n), offset);
      await write(io.stdout, lines.map((line) => line + '\n').join(''));
    });
    return 0;
  },
};

async function readAll(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export const writeCommand: Command = {
  name: 'write',
  summary: 'copy stdin into a segment',
  help: `Usage: sysv-shm write <id> [--offset <n>] < data

Copies everything on stdin into the segment at --offset (default 0); nothing
else changes. Fails, writing nothing, if the data does not fit.
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
    const data = await readAll(io.stdin);
    if (offset + data.length > segment.size) {
      throw new RangeError(`${data.length} bytes at offset ${offset} do not fit in the segment (${segment.size} bytes); nothing was written`);
    }
    using attachment = segment.attach();
    attachment.write(data, offset);
    if (values.verbose) await write(io.stdout, `wrote ${data.length} bytes at offset ${offset} of segment ${id}\n`);
    return 0;
  },
};
