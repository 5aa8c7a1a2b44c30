// Runs child programs in separate Node processes, so that a crash (SIGSEGV, SIGBUS) is observed instead of killing
// the test runner. A child program is a real .ts file under test/fixtures/<area>/ (type-checked with the rest),
// which imports the library through lib/index.js (or lib/internal.js) and takes its parameters as arguments; it
// runs with tsx.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a child program (a real .ts file, type-checked with the rest) with tsx, to completion. `args` reach it as
 * process.argv.slice(2).
 */
export function runProgram(
  path: string,
  args: Array<string | number> = [],
  options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): ChildResult {
  const result = spawnSync(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path, ...args.map(String)], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 20_000,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Reads lines from a child's stdout until one matches. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got: ${seen}`)), timeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before printing ${pattern}; got: ${seen}`));
    });
  });
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from start to exit. */
  ms: number;
}

export interface RecordedChild {
  child: ChildProcess;
  exit: Promise<ChildExit>;
  /** Waits for a match anywhere in what the child printed so far (also lines printed before the call). */
  line: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /** Everything printed on stdout so far. */
  stdout: () => string;
}

const recorded = new Set<ChildProcess>();

/** Starts a child program (a real .ts file, run with tsx) and returns the process; stdin, stdout and stderr are piped. */
export function startProgram(path: string, args: Array<string | number> = [], options: SpawnOptions & { nodeArgs?: string[] } = {}): ChildProcess {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path, ...args.map(String)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options,
  });
}

/** Starts a child program that records what it prints and how it ends; killChildren() ends the ones still running. */
export function recordProgram(path: string, args: Array<string | number> = []): RecordedChild {
  return record(startProgram(path, args));
}

function record(child: ChildProcess): RecordedChild {
  recorded.add(child);
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  let ended = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<ChildExit>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true;
      recorded.delete(child);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
  const line = async (pattern: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = stdout.match(pattern);
      if (match) return match;
      if (ended || Date.now() > deadline) {
        throw new Error(`${ended ? 'child ended' : 'timed out'} before printing ${pattern}; stdout: ${stdout}; stderr: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { child, exit, line, stdout: () => stdout };
}

/** SIGKILLs recorded children still running (for afterEach: a failed assertion must not leave one behind). */
export async function killChildren(): Promise<void> {
  const alive = [...recorded].filter((child) => child.exitCode === null && child.signalCode === null);
  recorded.clear();
  await Promise.all(
    alive.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
