// Command-line arguments: node:util.parseArgs, plus the number formats ipcs, ipcmk and ipcrm accept.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: exit status 2, with a pointer to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Where a command writes and reads; process.stdout/stderr when run as a program. No stdin means this process's own
 * fd 0, read directly: touching process.stdin would make a pipe there non-blocking and read ahead of what is asked.
 */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full --help text. */
  help: string;
  options: Options;
  run(values: Record<string, string | boolean | string[] | boolean[] | undefined>, positionals: string[], io: Io): Promise<number> | number;
}

/** Parses a command's arguments; every parse problem is a UsageError. */
export function parse(command: Command, args: string[]) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0], command.name);
  }
}

/** A segment id: a decimal number 0..2^31-1. */
export function parseId(text: string, command?: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 2 ** 31 - 1)
    throw new UsageError(`not a segment id: ${JSON.stringify(text)} (ids are decimal, as ipcs prints them)`, command);
  return Number(text);
}

/** A key as ipcs prints it (0x1234abcd) or in decimal, signed or unsigned 32-bit; returned as key_t holds it. */
export function parseKey(text: string, command?: string): number {
  let value: number;
  if (/^0x[0-9a-f]{1,8}$/i.test(text)) value = parseInt(text.slice(2), 16);
  else if (/^-?\d+$/.test(text)) value = Number(text);
  else throw new UsageError(`not a key: ${JSON.stringify(text)} (use hex like 0x0000162e, or decimal)`, command);
  if (value < -(2 ** 31) || value > 2 ** 32 - 1) throw new UsageError(`key ${text} does not fit in 32 bits`, command);
  return value | 0;
}

const SIZE_FACTORS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  KIB: 1024,
  KB: 1000,
  M: 1024 ** 2,
  MIB: 1024 ** 2,
  MB: 1e6,
  G: 1024 ** 3,
  GIB: 1024 ** 3,
  GB: 1e9,
  T: 1024 ** 4,
  TIB: 1024 ** 4,
  TB: 1e12,
};

/** A size in bytes, with the suffixes ipcmk takes: 4096, 64K, 1M, 1MiB (1024-based), 1MB (1000-based). */
export function parseSize(text: string, name: string, command?: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text);
  const factor = match ? SIZE_FACTORS[match[2].toUpperCase()] : undefined;
  if (!match || factor === undefined)
    throw new UsageError(`${name} must be a number of bytes, optionally with K, M, G (1024) or KB, MB, GB (1000): got ${JSON.stringify(text)}`, command);
  const value = Number(match[1]) * factor;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${name} ${text} is too large`, command);
  return value;
}

/** A non-negative integer (an offset or a length). */
export function parseCount(text: string, name: string, command?: string): number {
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text.slice(2), 16);
  return parseSize(text, name, command);
}

/** Permission bits in octal, as chmod and ipcmk -p take them: 640, 0640 or 0o640. */
export function parseMode(text: string, command?: string): number {
  const digits = text.replace(/^0o/i, '');
  if (!/^[0-7]{1,4}$/.test(digits) || parseInt(digits, 8) > 0o777)
    throw new UsageError(`mode must be octal permission bits such as 0640, got ${JSON.stringify(text)}`, command);
  return parseInt(digits, 8);
}

/** ftok's project id: 1..255, or one character as C code passes it ('A'). */
export function parseProjId(text: string, command?: string): number | string {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value >= 1 && value <= 255) return value;
  } else if ([...text].length === 1) {
    return text;
  }
  throw new UsageError(`--proj must be 1..255 or a single character, got ${JSON.stringify(text)}`, command);
}

/** The value of a string option, or undefined. */
export function str(values: Record<string, unknown>, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The values of a string option given several times. */
export function strs(values: Record<string, unknown>, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
}

export function write(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
