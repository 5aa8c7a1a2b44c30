// pipe: two real pipe(2)s (pipe2 through koffi, O_CLOEXEC), handed to the peer as its stdin and stdout; both ends
// use blocking read(2)/write(2) through readSync/writeSync. The driver checks /proc/<peer>/fd that the peer got
// pipes (child_process's stdio: 'pipe' would be a socketpair).
import { closeSync } from 'node:fs';
import { libcHandle } from '../../lib/internal.js';
import { FdRx, FdTx } from './stream.js';
import { fdKind } from './fds.js';
import type { DriverContext, Link, PeerContext, TransportModule } from './types.js';

const O_CLOEXEC = 0o2000000;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
let pipe2: ((fds: Int32Array, flags: number) => number) | undefined;
let fcntl: ((fd: number, cmd: number, ...rest: unknown[]) => number) | undefined;

/**
 * Makes `fd` blocking. Needed on the peer's fds 0 and 1: libuv sets a pipe non-blocking as soon as anything
 * (tsx, a library) touches process.stdin/stdout, and readSync/writeSync would then fail with EAGAIN.
 */
export function setBlocking(fd: number): void {
  fcntl ??= libcHandle().func('int fcntl(int fd, int cmd, ...)') as unknown as typeof fcntl;
  const flags = fcntl!(fd, F_GETFL);
  if (flags < 0) throw new Error(`fcntl(${fd}, F_GETFL) failed`);
  if (flags & O_NONBLOCK && fcntl!(fd, F_SETFL, 'int', flags & ~O_NONBLOCK) < 0) throw new Error(`fcntl(${fd}, F_SETFL) failed`);
}

export function makePipe(): [read: number, write: number] {
  pipe2 ??= libcHandle().func('int pipe2(int *fds, int flags)') as unknown as (fds: Int32Array, flags: number) => number;
  const fds = new Int32Array(2);
  if (pipe2(fds, O_CLOEXEC) !== 0) throw new Error('pipe2 failed');
  return [fds[0], fds[1]];
}

export const pipe: TransportModule = {
  async openDriver(ctx: DriverContext): Promise<Link> {
    const [toPeerRead, toPeerWrite] = makePipe();
    const [fromPeerRead, fromPeerWrite] = makePipe();
    const child = ctx.spawnPeer({ stdio: [toPeerRead, fromPeerWrite, 'inherit', 'pipe'] });
    closeSync(toPeerRead);
    closeSync(fromPeerWrite);
    await ctx.peerLine();
    const kinds = [fdKind(child.pid!, 0), fdKind(child.pid!, 1)];
    if (!kinds.every((k) => k.startsWith('pipe:'))) throw new Error(`pipe: expected the peer's fds 0 and 1 to be pipes, /proc says ${kinds.join(', ')}`);
    return {
      tx: new FdTx(toPeerWrite),
      rx: new FdRx(fromPeerRead, 'pipe'),
      detail: `pipe(2) x 2 (peer fds 0/1 are ${kinds.join(', ')}), blocking readSync/writeSync`,
      close() {
        closeSync(toPeerWrite);
        closeSync(fromPeerRead);
      },
    };
  },
  async openPeer(ctx: PeerContext): Promise<Link> {
    setBlocking(0);
    setBlocking(1);
    ctx.tell('ready');
    return { tx: new FdTx(1), rx: new FdRx(0, 'pipe'), detail: 'pipe', close() {} };
  },
};
