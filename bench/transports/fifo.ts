// fifo: two named FIFOs made with mkfifo(1), one per direction, opened with open(2) and used with blocking
// read(2)/write(2) (readSync/writeSync), the way the tutorials use them.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FdRx, FdTx } from './stream.js';
import type { DriverContext, Link, PeerContext, TransportModule } from './types.js';

export const fifo: TransportModule = {
  async openDriver(ctx: DriverContext): Promise<Link> {
    const stem = join(ctx.spec.tmpdir, `fifo-${process.pid}-${Date.now()}`);
    const toPeer = `${stem}.down`;
    const fromPeer = `${stem}.up`;
    execFileSync('mkfifo', ['-m', '0600', toPeer, fromPeer]);
    try {
      ctx.spawnPeer({ stdio: ['ignore', 'ignore', 'inherit', 'pipe'], extra: { toPeer, fromPeer } });
      await ctx.peerLine();
      // Blocking opens, in the same order on both sides: down (peer reads), then up (peer writes).
      const w = openSync(toPeer, constants.O_WRONLY);
      const r = openSync(fromPeer, constants.O_RDONLY);
      if (!fstatSync(w).isFIFO() || !fstatSync(r).isFIFO()) throw new Error(`fifo: ${toPeer} or ${fromPeer} is not a FIFO`);
      return {
        tx: new FdTx(w),
        rx: new FdRx(r, 'fifo'),
        detail: 'mkfifo x 2 (fstat: S_ISFIFO), blocking readSync/writeSync',
        close() {
          closeSync(w);
          closeSync(r);
        },
      };
    } finally {
      // The opened FIFOs live on without their names (or the peer failed: then nothing should keep them).
      rmSync(toPeer, { force: true });
      rmSync(fromPeer, { force: true });
    }
  },
  async openPeer(ctx: PeerContext): Promise<Link> {
    ctx.tell('ready');
    const r = openSync(String(ctx.extra.toPeer), constants.O_RDONLY);
    const w = openSync(String(ctx.extra.fromPeer), constants.O_WRONLY);
    return {
      tx: new FdTx(w),
      rx: new FdRx(r, 'fifo'),
      detail: 'fifo',
      close() {
        closeSync(w);
        closeSync(r);
      },
    };
  },
};
