// The control lines between a group's server and its clients, outside the measured transports: the server writes
// JSON lines to a client's stdin, the client answers with JSON lines on its fd 3 (both pipes). Each client is also
// spawned with child_process IPC (serialization 'advanced'), which only the ipc-advanced parts use.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { ROOT, lineReader } from '../session.js';
import { IpcRx, IpcTx } from '../transports/ipc.js';
import type { PartSpec } from './types.js';

export const PROCESS_ENTRY = fileURLToPath(new URL('./process.ts', import.meta.url));

/** The command that runs bench/many/process.ts in a new process, pinned to `cpu` with taskset when given. */
export function processCommand(role: '--server' | '--client', payload: unknown, cpu: number | null): [string, string[]] {
  const node = [process.execPath, '--import', 'tsx', PROCESS_ENTRY, role, JSON.stringify(payload)];
  return cpu === null ? [node[0], node.slice(1)] : ['taskset', ['-c', String(cpu), ...node]];
}

/** Server to client. */
export type Command =
  | { op: 'setup'; part: PartSpec; extra: Record<string, unknown> }
  | { op: 'reply-channel'; id: number }
  | { op: 'go'; rep: number; count: number }
  | { op: 'teardown' }
  | { op: 'exit' };

/** Client to server: { op, ... } (op 'error' carries a message). */
export interface Answer {
  op: string;
  [key: string]: unknown;
}

export class ClientError extends Error {
  override name = 'ClientError';
}

/** The server's handle on one client process. */
export class ClientHandle {
  readonly child: ChildProcess;
  readonly #line: () => Promise<string>;
  #ipc: { tx: IpcTx; rx: IpcRx } | null = null;
  pid = 0;
  allowed = '?';

  constructor(
    readonly index: number,
    payload: unknown,
    cpu: number | null,
  ) {
    const [cmd, args] = processCommand('--client', payload, cpu);
    this.child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
    this.#line = lineReader(this.child.stdio[3] as Readable, `client ${index}`);
  }

  /** Writes a command; resolves once it was handed to the kernel (a sync loop may follow at once). */
  send(command: Command): Promise<void> {
    return new Promise((resolve, reject) => this.child.stdin!.write(`${JSON.stringify(command)}\n`, (e) => (e ? reject(e) : resolve())));
  }

  /** The client's next answer, which must be `op` (an 'error' answer throws its message). */
  async expect<T extends Answer>(op: string): Promise<T> {
    const line = await this.#line();
    let answer: Answer;
    try {
      answer = JSON.parse(line) as Answer;
    } catch {
      throw new ClientError(`client ${this.index} wrote '${line.slice(0, 200)}'`);
    }
    if (answer.op === 'error') throw new ClientError(`client ${this.index}: ${String(answer.name ?? 'Error')}: ${String(answer.message)}`);
    if (answer.op !== op) throw new ClientError(`client ${this.index} answered '${answer.op}', expected '${op}'`);
    return answer as T;
  }

  /**
   * Skips the client's answers until one is `op` (what a repetition that failed on the server's side left unread,
   * errors included): how a part is torn down whatever happened in it.
   */
  async until(op: string): Promise<void> {
    for (;;) {
      const line = await this.#line();
      try {
        if ((JSON.parse(line) as Answer).op === op) return;
      } catch {
        // not JSON: skipped as well
      }
    }
  }

  /** child_process IPC with this client (one sender and one receiver for the group's lifetime: each adds listeners). */
  get ipc(): { tx: IpcTx; rx: IpcRx } {
    this.#ipc ??= {
      tx: new IpcTx(this.child, 'advanced', `ipc-advanced to client ${this.index}`),
      rx: new IpcRx(this.child, 'advanced', `ipc-advanced from client ${this.index}`),
    };
    return this.#ipc;
  }
}

/** Sends a command to every client. */
export async function sendAll(clients: ClientHandle[], command: Command): Promise<void> {
  await Promise.all(clients.map((c) => c.send(command)));
}

/** Every client's next answer, which must be `op`. */
export function expectAll<T extends Answer>(clients: ClientHandle[], op: string): Promise<T[]> {
  return Promise.all(clients.map((c) => c.expect<T>(op)));
}

/** The client's side of the control lines. */
export class ServerLink {
  readonly #line = lineReader(process.stdin, 'the server');

  async next(): Promise<Command> {
    return JSON.parse(await this.#line()) as Command;
  }

  tell(answer: Answer): void {
    writeSync(3, `${JSON.stringify(answer)}\n`);
  }
}
