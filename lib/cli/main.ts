// sysv-shm: System V IPC from the shell (segments, semaphore sets, queues), speaking the formats of ipcs, ipcmk and ipcrm.
// Exit status: 0 on success, 1 with a one-line error on failure, 2 on a usage error.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, parse, write, type Command, type Io } from './args.js';
import { oneLine } from './errors.js';
import { limitsCommand, ls, stat, summaryCommand } from './show.js';
import { create, orphansCommand, rm } from './manage.js';
import { cat, hexdump, writeCommand } from './data.js';
import { replCommand } from './repl.js';

export const commands: Command[] = [ls, stat, limitsCommand, summaryCommand, create, rm, orphansCommand, cat, hexdump, writeCommand, replCommand];

/** The version in the package's own package.json (found upwards: lib/cli/ in a checkout, dist/lib/cli/ installed). */
export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'sysv-shm' && manifest.version) return manifest.version;
    } catch {
      // no package.json here
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: sysv-shm <command> [options]

System V IPC from the shell: what ipcs, ipcmk and ipcrm do for shared memory,
semaphore sets and message queues, plus reading and writing a segment's bytes.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

sysv-shm <command> --help shows a command's options; sysv-shm --version the version.
Exit status: 0 success, 1 failure (one line on stderr), 2 usage error.
`;
}

/** Runs the command line `args` (without node and the script); returns the exit status. */
export async function main(args: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = args;
  let command: Command | undefined;
  try {
    if (name === undefined) {
      await write(io.stderr, usage());
      return 2;
    }
    if (name === '--version' || name === '-V') {
      await write(io.stdout, `sysv-shm ${packageVersion()}\n`);
      return 0;
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      const about = topic === undefined ? undefined : commands.find((c) => c.name === topic);
      if (topic !== undefined && !about) throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
      await write(io.stdout, about ? about.help : usage());
      return 0;
    }
    command = commands.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    const { values, positionals, tokens } = parse(command, rest);
    if (values.help) {
      await write(io.stdout, command.help);
      return 0;
    }
    return await command.run(values, positionals, io, tokens);
  } catch (error) {
    if (error instanceof UsageError) {
      const where = error.command ?? command?.name;
      await write(io.stderr, `sysv-shm${where ? ' ' + where : ''}: ${error.message}\nTry 'sysv-shm ${where ? where + ' ' : ''}--help'.\n`);
      return 2;
    }
    await write(io.stderr, `sysv-shm${command ? ' ' + command.name : ''}: ${oneLine(error)}\n`);
    return 1;
  }
}

/** As a program: a closed stdout (sysv-shm cat ... | head) ends quietly, like cat. */
export async function run(args = process.argv.slice(2)): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await main(args);
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `tsx lib/cli/main.ts ...` (npm run cli) runs it; bin/sysv-shm.js imports the built file and calls run().
if (isEntryPoint()) await run();
