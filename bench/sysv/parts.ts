// The parts of bench/sysv-ipc.ts and both ends of each: a round trip between two processes over System V
// semaphores, a System V message queue, the project's futex channel, and a Unix socket. The driver's end sends a
// request and waits for the reply; the peer's end answers each request with the same bytes.
//
//   sem       SemaphoreSet of 2 (friendly, sync): driver release(0) + acquire(1); peer acquire(0) + release(1)
//             (a wait tries IPC_NOWAIT for 0.05 ms, then sleeps in semtimedop)
//   semop     the same through the C-shaped semop()
//   queue     MessageQueue (friendly): driver send(type 1) + receive(type 2); peer receive(type 1) + send(type 2);
//             sync (msgrcv/msgsnd with IPC_NOWAIT: tries for 0.05 ms, then sleeps 0.05 doubling to 10 ms) or async
//             (timer backoff 1 to 50 ms)
//   msgsnd    the same through the C-shaped msgsnd()/msgrcv() (sync)
//   channel   two Channels (one per direction), send + receiveInto, sync (futex) or async (doorbell)
//   unix      a Unix stream socket (node:net), u32 length + payload frames, on the event loop
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel, type Consumer, MessageQueue, type Producer, SemaphoreSet, msgrcv, msgsnd, semop } from '../../lib/index.js';
import { FramedRx, FramedTx, closeSocket } from '../many/framing.js';
import { capacityFor } from '../transports/capacity.js';

export const TRANSPORTS = ['sem', 'semop', 'queue', 'msgsnd', 'channel', 'unix'] as const;
export type Transport = (typeof TRANSPORTS)[number];
export type Mode = 'sync' | 'async';

/** One measured part: a transport, a mode and a message size (0 for the semaphores: they carry no data). */
export interface PartSpec {
  transport: Transport;
  mode: Mode;
  size: number;
}

/** What each part is, for the report. */
export const API: Record<Transport, Partial<Record<Mode, string>>> = {
  sem: {
    sync: 'SemaphoreSet.release({ index: 0, undo: false }) + acquire({ index: 1, undo: false }), a set of 2; a wait tries IPC_NOWAIT for 0.05 ms, then sleeps in semtimedop',
  },
  semop: { sync: 'semop(id, [{ sem_num: 0, sem_op: 1 }]) + semop(id, [{ sem_num: 1, sem_op: -1 }]) (C-shaped layer, the same wait)' },
  queue: {
    sync: 'MessageQueue.send(m, { type: 1 }) + receive({ type: 2 }): msgsnd/msgrcv with IPC_NOWAIT, tried for 0.05 ms, then sleeps of 0.05 -> 10 ms',
    async: 'MessageQueue.sendAsync + receiveAsync: IPC_NOWAIT polling on timers (backoff 1 -> 50 ms), no thread',
  },
  msgsnd: { sync: 'msgsnd(id, 1, m) + msgrcv(id, size, 2) (C-shaped layer, the same polling as MessageQueue)' },
  channel: {
    sync: 'Channel, one per direction: send() + receiveInto() (futex waits)',
    async: 'Channel, one per direction: sendAsync() + receiveIntoAsync() (doorbell, no thread)',
  },
  unix: { async: 'node:net Unix stream socket, u32 length + payload frames, event loop' },
};

/** The parts of a run: every transport in its modes, at every size (the semaphores once, without data). */
export function planParts(transports: readonly Transport[], sizes: readonly number[], modes: readonly Mode[]): PartSpec[] {
  const parts: PartSpec[] = [];
  for (const transport of transports) {
    for (const mode of modes) {
      if (!API[transport][mode]) continue;
      if (transport === 'sem' || transport === 'semop') parts.push({ transport, mode, size: 0 });
      else for (const size of sizes) parts.push({ transport, mode, size });
    }
  }
  return parts;
}

export const partName = (p: PartSpec) => `${p.transport}/${p.mode}${p.size ? `/${p.size}` : ''}`;

/** The longest a synchronous wait of the harness may take before the run is declared stuck. */
export const STUCK_MS = 20_000;

function stuck(what: string): Error {
  return new Error(`${what}: no answer within ${STUCK_MS / 1000} s`);
}

// ---------------------------------------------------------------------------------------------------------------
// Messages: stamps on every one (sequence number at the head and, inverted, at the tail; the repetition), and a
// pattern in between that the verification repetition checks byte for byte at both ends.

export function fillPattern(m: Uint8Array, rep: number): void {
  for (let i = 0; i < m.length; i++) m[i] = (i * 131 + rep * 7) & 0xff;
}

export function stampMessage(m: Uint8Array, seq: number, rep: number): void {
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  v.setUint32(0, seq, true);
  v.setUint32(4, rep, true);
  v.setUint32(m.length - 4, ~seq >>> 0, true);
}

/** Null when the message is the one expected, else what is wrong. `full`: every byte of the pattern too. */
export function checkMessage(m: Uint8Array, size: number, seq: number, rep: number, full: boolean): string | null {
  if (m.length !== size) return `length ${m.length}, expected ${size}`;
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  if (v.getUint32(0, true) !== seq) return `sequence ${v.getUint32(0, true)}, expected ${seq}`;
  if (v.getUint32(4, true) !== rep) return `repetition ${v.getUint32(4, true)}, expected ${rep}`;
  if (v.getUint32(size - 4, true) !== ~seq >>> 0) return `tail stamp of message ${seq} differs`;
  if (full) for (let i = 8; i < size - 4; i++) if (m[i] !== ((i * 131 + rep * 7) & 0xff)) return `byte ${i} of message ${seq} differs`;
  return null;
}

/** Messages carry at least the stamps. */
export const MIN_SIZE = 12;

// ---------------------------------------------------------------------------------------------------------------
// The driver's end: one round trip per call, resolving with the reply (or nothing for the semaphores).

export interface DriverEnd {
  /** What the peer needs to open its end. */
  ids: Record<string, number | string>;
  /** After the peer said it is ready (its own ids: the channel back). */
  connect?(peerIds: Record<string, number | string>): void | Promise<void>;
  roundTrip(m: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  close(): void | Promise<void>;
  detail: string;
}

export interface PeerEnd {
  ids?: Record<string, number | string>;
  /** Waits for one request, answers it (with `answer(request)` applied: the harness's corruption), returns the request. */
  serve(answer: (request: Uint8Array) => Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  close(): void | Promise<void>;
}

const wait = { timeoutMs: STUCK_MS };

export async function driverEnd(part: PartSpec): Promise<DriverEnd> {
  const { transport, mode, size } = part;
  switch (transport) {
    case 'sem':
    case 'semop': {
      const set = SemaphoreSet.create({ count: 2 });
      const roundTrip =
        transport === 'sem'
          ? () => {
              set.release({ index: 0, undo: false });
              if (!set.acquire({ index: 1, undo: false, ...wait })) throw stuck('semaphore 1');
              return undefined;
            }
          : () => {
              semop(set.id, [{ sem_num: 0, sem_op: 1 }]);
              semop(set.id, [{ sem_num: 1, sem_op: -1 }]);
              return undefined;
            };
      return {
        ids: { id: set.id },
        roundTrip,
        close: () => {
          const values = set.values();
          set.remove();
          if (values[0] !== 0 || values[1] !== 0) throw new Error(`the semaphores ended at [${values}], expected [0,0]`);
        },
        detail: `a private set of 2 semaphores (semid ${set.id}), no SEM_UNDO (each side only takes one and gives the other)`,
      };
    }
    case 'queue':
    case 'msgsnd': {
      const queue = MessageQueue.create({});
      const id = queue.id;
      let roundTrip: DriverEnd['roundTrip'];
      if (transport === 'msgsnd') {
        roundTrip = (m) => {
          msgsnd(id, 1, m);
          return msgrcv(id, size, 2).mtext;
        };
      } else if (mode === 'sync') {
        roundTrip = (m) => {
          if (!queue.send(m, { type: 1, ...wait })) throw stuck('queue send');
          const reply = queue.receive({ type: 2, ...wait });
          if (!reply) throw stuck('queue receive');
          return reply.data;
        };
      } else {
        roundTrip = async (m) => {
          if (!(await queue.sendAsync(m, { type: 1, ...wait }))) throw stuck('queue sendAsync');
          const reply = await queue.receiveAsync({ type: 2, ...wait });
          if (!reply) throw stuck('queue receiveAsync');
          return reply.data;
        };
      }
      return {
        ids: { id },
        roundTrip,
        close: () => {
          const left = queue.status().messages;
          queue.remove();
          if (left !== 0) throw new Error(`${left} messages were left on the queue`);
        },
        detail: `a private queue (msqid ${id}, qbytes ${queue.status().maxBytes}), requests type 1, replies type 2`,
      };
    }
    case 'channel': {
      const capacity = capacityFor(size);
      const tx: Producer = Channel.create({ capacity });
      let rx: Consumer | undefined;
      const target = new Uint8Array(size);
      return {
        ids: { id: tx.id },
        connect: (peer) => {
          rx = Channel.open(Number(peer.id));
        },
        roundTrip:
          mode === 'sync'
            ? (m) => {
                tx.send(m, wait);
                const n = rx!.receiveInto(target, wait);
                if (n === null) throw stuck('channel');
                return target.subarray(0, n);
              }
            : async (m) => {
                await tx.sendAsync(m, wait);
                const n = await rx!.receiveIntoAsync(target, wait);
                if (n === null) throw stuck('channel');
                return target.subarray(0, n);
              },
        close: () => {
          tx.close();
          rx?.close();
        },
        detail: `two Channels of ${capacity >> 10} KiB, one per direction; replies copied out with receiveInto${mode === 'async' ? 'Async' : ''}`,
      };
    }
    case 'unix': {
      const dir = mkdtempSync(join(tmpdir(), 'sysv-ipc-bench-'));
      const path = join(dir, 'socket');
      const server: Server = createServer();
      await new Promise<void>((resolve, reject) => server.listen(path, resolve).once('error', reject));
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      let socket: Socket | undefined;
      let tx: FramedTx | undefined;
      let rx: FramedRx | undefined;
      return {
        ids: { path },
        connect: async () => {
          socket = await accepted;
          socket.setNoDelay(true);
          tx = new FramedTx(socket);
          rx = new FramedRx(socket);
        },
        roundTrip: async (m) => {
          await tx!.send(m);
          return await rx!.receive();
        },
        close: async () => {
          if (socket) await closeSocket(socket);
          await new Promise<void>((resolve) => server.close(() => resolve()));
          rmSync(dir, { recursive: true, force: true });
        },
        detail: 'a Unix stream socket (node:net, noDelay), frames of a u32 length + payload, both ends on the event loop',
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The peer's end.

export async function peerEnd(part: PartSpec, ids: Record<string, number | string>): Promise<PeerEnd> {
  const { transport, mode, size } = part;
  switch (transport) {
    case 'sem':
    case 'semop': {
      const set = SemaphoreSet.open({ id: Number(ids.id) });
      return {
        serve:
          transport === 'sem'
            ? () => {
                if (!set.acquire({ index: 0, undo: false, ...wait })) throw stuck('semaphore 0');
                set.release({ index: 1, undo: false });
                return undefined;
              }
            : () => {
                semop(set.id, [{ sem_num: 0, sem_op: -1 }]);
                semop(set.id, [{ sem_num: 1, sem_op: 1 }]);
                return undefined;
              },
        close: () => {},
      };
    }
    case 'queue':
    case 'msgsnd': {
      const queue = MessageQueue.open({ id: Number(ids.id) });
      const id = queue.id;
      let serve: PeerEnd['serve'];
      if (transport === 'msgsnd') {
        serve = (answer) => {
          const request = msgrcv(id, size, 1).mtext;
          msgsnd(id, 2, answer(request));
          return request;
        };
      } else if (mode === 'sync') {
        serve = (answer) => {
          const request = queue.receive({ type: 1, ...wait });
          if (!request) throw stuck('queue receive');
          if (!queue.send(answer(request.data), { type: 2, ...wait })) throw stuck('queue send');
          return request.data;
        };
      } else {
        serve = async (answer) => {
          const request = await queue.receiveAsync({ type: 1, ...wait });
          if (!request) throw stuck('queue receiveAsync');
          if (!(await queue.sendAsync(answer(request.data), { type: 2, ...wait }))) throw stuck('queue sendAsync');
          return request.data;
        };
      }
      return { serve, close: () => {} };
    }
    case 'channel': {
      const rx = Channel.open(Number(ids.id));
      const tx = Channel.create({ capacity: capacityFor(size) });
      const target = new Uint8Array(size);
      return {
        ids: { id: tx.id },
        serve:
          mode === 'sync'
            ? (answer) => {
                const n = rx.receiveInto(target, wait);
                if (n === null) throw stuck('channel');
                const request = target.subarray(0, n);
                tx.send(answer(request), wait);
                return request;
              }
            : async (answer) => {
                const n = await rx.receiveIntoAsync(target, wait);
                if (n === null) throw stuck('channel');
                const request = target.subarray(0, n);
                await tx.sendAsync(answer(request), wait);
                return request;
              },
        close: () => {
          rx.close();
          tx.close();
        },
      };
    }
    case 'unix': {
      const socket = createConnection(String(ids.path));
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.setNoDelay(true);
      const tx = new FramedTx(socket);
      const rx = new FramedRx(socket);
      return {
        serve: async (answer) => {
          const request = await rx.receive();
          await tx.send(answer(request));
          return request;
        },
        close: () => closeSocket(socket),
      };
    }
  }
}
