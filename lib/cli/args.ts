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
  /** More short letters for options that have one already: { p: 'm' } makes -p 0640 the same as -m 0640 (ipcmk's -p). */
  shortAliases?: Record<string, string>;
  /**
   * Options whose value may be left out, as getopt's optional arguments (ipcrm's -a, --all[=shm|msg|sem]): declared
   * in `options` as strings, they take their value only as --name=value or -xvalue; alone, they get this value.
   */
  optionalValues?: Record<string, string>;
  /** `tokens` are the parsed options and positionals in command-line order (for commands that act in that order, like rm). */
  run(values: Record<string, string | boolean | string[] | boolean[] | undefined>, positionals: string[], io: Io, tokens: Token[]): Promise<number> | number;
}

/** One option or positional of a command line, in order (node:util.parseArgs's tokens). */
export type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * The command line as node:util.parseArgs takes it: the short aliases replaced by the letters they stand for, and
 * the options with an optional value written as --name=value (getopt's rules: the value only attached to the option,
 * -avalue or --name=value; a separate word is not its value).
 */
export function normalise(command: Command, args: string[]): string[] {
  const aliases = command.shortAliases ?? {};
  const optional = command.optionalValues ?? {};
  if (Object.keys(aliases).length === 0 && Object.keys(optional).length === 0) return args;
  const longOf = new Map(Object.entries(command.options).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const takesValue = (name: string | undefined) => name !== undefined && command.options[name]?.type === 'string' && !(name in optional);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0];
      if (name in optional && !arg.includes('=')) out.push(`--${name}=${optional[name]}`);
      else out.push(arg);
      if (takesValue(name) && !arg.includes('=') && i + 1 < args.length) out.push(args[++i]);
      continue;
    }
    if (!arg.startsWith('-') || arg.length < 2) {
      out.push(arg);
      continue;
    }
    // A cluster of short options (-va, -Qp600): letter by letter until one takes the rest as its value.
    let letters = '';
    let done = false;
    for (let j = 1; j < arg.length && !done; j++) {
      const letter = aliases[arg[j]] ?? arg[j];
      const name = longOf.get(letter);
      if (name !== undefined && name in optional) {
        if (letters) out.push(`-${letters}`);
        letters = '';
        out.push(`--${name}=${arg.slice(j + 1) || optional[name]}`);
        done = true;
      } else if (takesValue(name)) {
        letters += letter + arg.slice(j + 1);
        done = true;
        if (j + 1 === arg.length && i + 1 < args.length) {
          out.push(`-${letters}`, args[++i]);
          letters = '';
        }
      } else {
        letters += letter;
      }
    }
    if (letters) out.push(`-${letters}`);
  }
  return out;
}

/** Parses a command's arguments; every parse problem is a UsageError. */
export function parse(command: Command, args: string[]) {
  try {
    const options = { help: { type: 'boolean', short: 'h' }, ...command.options } as const;
    return parseArgs({ args: normalise(command, args), options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0], command.name);
  }
}

/** A segment id (or a set's or a queue's, as `what` says): a decimal number 0..2^31-1. */
export function parseId(text: string, command?: string, what = 'segment id'): number {
  if (!/^\d+$/.test(text) || Number(text) > 2 ** 31 - 1)
    throw new UsageError(`not a ${what}: ${JSON.stringify(text)} (ids are decimal, as ipcs prints them)`, command);
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
