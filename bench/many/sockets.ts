// What Node itself offers between a server and N processes: Unix domain stream sockets (node:net, one connection
// per client, length-prefixed frames: bench/many/framing.ts) and child_process IPC (process.send, serialization
// 'advanced', through the harness's IpcTx/IpcRx: bench/transports/ipc.ts). Both run on the event loop.
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { IpcRx, IpcTx } from '../transports/ipc.js';
import type { MaybePromise } from '../transports/types.js';
import { expectAll, sendAll, type ClientHandle } from './control.js';
import { FramedRx, FramedTx, closeSocket, sendToAll } from './framing.js';
import type { StreamChecker } from './stamps.js';
import type { ClientSetup, ClientSide, ServerSetup, ServerSide } from './sides.js';

/** One client's receiving and sending ends, as the server holds them. */
interface Peer {
  rx: { receive(): MaybePromise<Uint8Array> };
  tx: { send(m: Uint8Array): MaybePromise<void> };
}

/** Every client's messages of the repetition, each connection read in its own loop on the event loop. */
function receiveEach(peers: Peer[], checker: StreamChecker): Promise<unknown> {
  return Promise.all(
    peers.map(async ({ rx }, index) => {
      for (let k = 0; k < checker.count; k++) {
        let m = rx.receive();
        if (m instanceof Promise) m = await m;
        checker.check(m, index);
      }
    }),
  );
}

/** Every client's requests of the repetition, each answered with its own bytes on the client's connection. */
function serveEach(peers: Peer[], checker: StreamChecker): Promise<unknown> {
  return Promise.all(
    peers.map(async ({ rx, tx }, index) => {
      for (let k = 0; k < checker.count; k++) {
        let m = rx.receive();
        if (m instanceof Promise) m = await m;
        checker.check(m, index);
        const sent = tx.send(m);
        if (sent) await sent;
      }
    }),
  );
}

let sockets = 0;
/** How long the server waits for every client to connect. */
const ACCEPT_MS = 20_000;

export async function unixServer({ part, clients, spec }: ServerSetup): Promise<ServerSide> {
  const path = join(spec.tmpdir, `many-${process.pid}-${++sockets}.sock`);
  const server = createServer();
  server.listen(path);
  await once(server, 'listening');
  const accepted: Socket[] = [];
  try {
    const all = new Promise<void>((resolve) =>
      server.on('connection', (s) => {
        accepted.push(s);
        if (accepted.length === clients.length) resolve();
      }),
    );
    await sendAll(clients, { op: 'setup', part, extra: { path } });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      all,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`unix: ${accepted.length} of ${clients.length} clients connected within ${ACCEPT_MS / 1000} s`)), ACCEPT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    // Each client writes its index first: connections arrive in any order.
    const peers: Array<Peer & { socket: Socket }> = [];
    for (const socket of accepted) {
      const rx = new FramedRx(socket);
      let raw = rx.receiveRaw(4);
      if (raw instanceof Promise) raw = await raw;
      const index = raw[0] | (raw[1] << 8) | (raw[2] << 16) | (raw[3] << 24);
      if (!(index >= 0 && index < clients.length) || peers[index]) throw new Error(`unix: a connection said it is client ${index}`);
      peers[index] = { socket, rx, tx: new FramedTx(socket) };
    }
    await expectAll(clients, 'ready');
    const all_ = peers.map((p) => p.socket);
    return {
      detail: `AF_UNIX SOCK_STREAM via node:net, one connection per client, frames of a u32 length + payload; server: one event loop for all connections`,
      receiveAll: (checker) => receiveEach(peers, checker),
      serveAll: (checker) => serveEach(peers, checker),
      publish: (m) => sendToAll(all_, m),
      async close() {
        await Promise.all(all_.map(closeSocket));
      },
    };
  } catch (error) {
    for (const s of accepted) s.destroy();
    throw error;
  } finally {
    server.close();
    rmSync(path, { force: true });
  }
}

export async function unixClient({ index, extra }: ClientSetup): Promise<ClientSide> {
  const socket = createConnection(String(extra.path));
  await once(socket, 'connect');
  const id = Buffer.alloc(4);
  id.writeUInt32LE(index, 0);
  socket.write(id);
  const tx = new FramedTx(socket);
  const rx = new FramedRx(socket);
  return {
    send: (m) => tx.send(m),
    receive: () => rx.receive(),
    close: () => closeSocket(socket),
  };
}

export async function ipcServer({ part, clients }: ServerSetup): Promise<ServerSide> {
  await sendAll(clients, { op: 'setup', part, extra: {} });
  await expectAll(clients, 'ready');
  const peers: Peer[] = clients.map((c: ClientHandle) => c.ipc);
  return {
    detail:
      "child_process IPC (a socketpair per child), child.send()/process.send() and 'message', serialization 'advanced' (each message a Buffer through the V8 serializer)",
    receiveAll: (checker) => receiveEach(peers, checker),
    serveAll: (checker) => serveEach(peers, checker),
    close() {},
  };
}

/** The child's side of child_process IPC: one sender and one receiver for the process's lifetime (each adds listeners to `process`). */
let processIpc: { tx: IpcTx; rx: IpcRx } | undefined;

export async function ipcClient(): Promise<ClientSide> {
  if (!process.send) throw new Error('ipc-advanced: this client was started without an IPC channel');
  processIpc ??= { tx: new IpcTx(process, 'advanced', 'ipc-advanced to the server'), rx: new IpcRx(process, 'advanced', 'ipc-advanced from the server') };
  const { tx, rx } = processIpc;
  return {
    send: (m) => tx.send(m),
    receive: () => rx.receive(),
    // Whatever is still queued in this process goes out before the part ends.
    close: () => tx.flushed(),
  };
}
