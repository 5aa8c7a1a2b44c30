// stdio: the peer's stdin/stdout as child_process sets them up. libuv creates a socketpair (AF_UNIX,
// SOCK_STREAM) for stdio: 'pipe', not a pipe(2); the driver checks /proc/<peer>/fd/0 and records what it is.
// Node streams on both sides (the way programs talk to their children).
import { StreamRx, StreamTx } from './stream.js';
import { fdKind } from './fds.js';
import type { DriverContext, Link, PeerContext, TransportModule } from './types.js';

export const stdio: TransportModule = {
  async openDriver(ctx: DriverContext): Promise<Link> {
    const child = ctx.spawnPeer({ stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
    const tx = new StreamTx(child.stdin!);
    const rx = new StreamRx(child.stdout!, 'stdio');
    await ctx.peerLine();
    const kind = fdKind(child.pid!, 0);
    if (!kind.startsWith('socket')) throw new Error(`stdio: expected the peer's stdin to be a socketpair, /proc says ${kind}`);
    return {
      tx,
      rx,
      detail: `child_process stdio: a socketpair (peer fd 0 is ${kind}), Node streams`,
      close() {
        child.stdin!.end();
      },
    };
  },
  async openPeer(ctx: PeerContext): Promise<Link> {
    const tx = new StreamTx(process.stdout);
    const rx = new StreamRx(process.stdin, 'stdio');
    ctx.tell('ready');
    return { tx, rx, detail: 'stdio', close() {} };
  },
};
