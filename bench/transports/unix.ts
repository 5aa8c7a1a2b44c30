// unix: a Unix domain stream socket with node:net (server in the driver, client in the peer), Node streams on
// both sides.
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { StreamRx, StreamTx } from './stream.js';
import type { DriverContext, Link, PeerContext, TransportModule } from './types.js';

export const unix: TransportModule = {
  async openDriver(ctx: DriverContext): Promise<Link> {
    const path = join(ctx.spec.tmpdir, `unix-${process.pid}-${Date.now()}.sock`);
    const server = createServer();
    server.listen(path);
    await once(server, 'listening');
    try {
      const accepted = once(server, 'connection') as Promise<[Socket]>;
      ctx.spawnPeer({ stdio: ['ignore', 'ignore', 'inherit', 'pipe'], extra: { path } });
      const [socket] = await accepted;
      await ctx.peerLine();
      return {
        tx: new StreamTx(socket),
        rx: new StreamRx(socket, 'unix'),
        detail: 'AF_UNIX SOCK_STREAM via node:net, Node streams',
        close() {
          socket.end();
        },
      };
    } finally {
      server.close();
      rmSync(path, { force: true });
    }
  },
  async openPeer(ctx: PeerContext): Promise<Link> {
    const socket = createConnection(String(ctx.extra.path));
    await once(socket, 'connect');
    ctx.tell('ready');
    return { tx: new StreamTx(socket), rx: new StreamRx(socket, 'unix'), detail: 'unix', close: () => void socket.end() };
  },
};
