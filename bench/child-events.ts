// Runs one benchmark process (a session's driver, bench/session.ts, or a group's server, bench/many/server.ts) to
// its end and reads the JSON lines it writes on stdout. Its last lines of stderr name a crash; a process that takes
// too long is killed.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ROOT } from './session.js';

/** What ended a process's run early: an 'error' line it wrote, a timeout, or a crash. */
export interface ProcessError {
  name: string;
  message: string;
}

/** A line of the process's stdout; 'error' and 'done' end its run, the others go to the caller. */
export interface ProcessEvent {
  type: string;
  name?: string;
  message?: string;
}

export interface EventProcessOptions<Event extends ProcessEvent> {
  /** Every line of stdout that is JSON, 'error' and 'done' included. */
  onEvent: (event: Event) => void;
  timeoutMs: number;
  /** What took too long, for the timeout's message: 'the session', 'the group'. */
  what: string;
  /** Who exited without 'done', for the crash's message: 'driver', 'the server'. */
  who: string;
  /** How many of its last lines of stderr a crash's message quotes. */
  stderrLines: number;
}

/** Runs `cmd args` in the repository to its end; resolves with the error that ended it, if any (never rejects). */
export function runEventProcess<Event extends ProcessEvent>(
  cmd: string,
  args: string[],
  { onEvent, timeoutMs, what, who, stderrLines }: EventProcessOptions<Event>,
): Promise<{ error?: ProcessError }> {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let error: ProcessError | undefined;
  let done = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Event;
    try {
      event = JSON.parse(line) as Event;
    } catch {
      return;
    }
    if (event.type === 'error') error = { name: event.name ?? 'Error', message: event.message ?? 'unknown error' };
    else if (event.type === 'done') done = true;
    onEvent(event);
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      error ??= { name: 'Timeout', message: `${what} took longer than ${Math.round(timeoutMs / 1000)} s and was killed` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!error && !done) {
        const last = stderr.trim().split('\n').slice(-stderrLines).join('\n');
        error = { name: 'Crash', message: `${who} exited with ${signal ?? code}${last ? `: ${last}` : ''}` };
      }
      resolve(error ? { error } : {});
    });
  });
}
