// The socket binding of the event loop's doorbell (lib/native/socket.ts): C-shaped results, -errno on failure, an
// abstract-namespace AF_UNIX stream socket that Node's net.Server takes over by fd.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getAbi } from '../../lib/index.js';
import { libcHandle, sockets } from '../../lib/internal.js';

const abi = getAbi();
const c = abi.constants;
const E = abi.errno;
const STREAM = c.SOCK_STREAM | c.SOCK_CLOEXEC;

// Every fd a test opens, closed after it unless the test closed it or handed it to Node (which then closes it).
const open = new Set<number>();
const servers: Server[] = [];
afterEach(async () => {
  for (const fd of open) sockets().close(fd);
  open.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function socket(type = STREAM): number {
  const fd = sockets().socket(c.AF_UNIX, type, 0);
  expect(fd, abi.errnoName(-fd)).toBeGreaterThanOrEqual(0);
  open.add(fd);
  return fd;
}

function close(fd: number): number {
  open.delete(fd);
  return sockets().close(fd);
}

let counter = 0;
const uniqueName = () => `sysv-shm-test-sockets-${process.pid}-${++counter}-${Math.random().toString(36).slice(2)}`;

/** A socket bound to a fresh abstract name and listening; returns its fd and address. */
function listening(): { fd: number; address: Uint8Array; name: string } {
  const name = uniqueName();
  const address = sockets().abstractAddress(name);
  const fd = socket();
  expect(sockets().bind(fd, address)).toBe(0);
  expect(sockets().listen(fd, 16)).toBe(0);
  return { fd, address, name };
}

/** A net.Server that owns `fd` from now on; resolves with it listening. */
async function serve(fd: number, onConnection: (conn: Socket) => void): Promise<Server> {
  open.delete(fd);
  const server = createServer(onConnection);
  servers.push(server);
  server.listen({ fd });
  await once(server, 'listening');
  return server;
}

/** The flags of an open fd, as /proc/self/fdinfo shows them (octal). */
const fdFlags = (fd: number) => Number.parseInt(/^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8);

describe('sockets(): socket, bind, listen, connect, send, close', () => {
  it('abstractAddress: family in native byte order, a leading NUL, the UTF-8 name, no trailing NUL', () => {
    const address = sockets().abstractAddress('doorbell-é');
    const pathAt = abi.description.structs.sockaddr_un.fields.sun_path.offset;
    const name = new TextEncoder().encode('doorbell-é');
    expect(address.length).toBe(pathAt + 1 + name.length);
    expect(new DataView(address.buffer, address.byteOffset).getUint16(0, abi.littleEndian)).toBe(c.AF_UNIX);
    expect(address[pathAt]).toBe(0);
    expect(address.subarray(pathAt + 1)).toEqual(name);
  });

  it('abstractAddress: a name that does not fit sun_path is a RangeError; one that just fits binds', () => {
    const room = abi.description.structs.sockaddr_un.fields.sun_path.size - 1;
    expect(() => sockets().abstractAddress('x'.repeat(room + 1))).toThrow(RangeError);
    expect(() => sockets().abstractAddress('é'.repeat(Math.ceil((room + 1) / 2)))).toThrow(`at most ${room} bytes`);
    const longest = `${uniqueName()}-`.padEnd(room, 'x');
    const address = sockets().abstractAddress(longest);
    expect(address.length).toBe(abi.sizeof.sockaddrUn);
    const fd = socket();
    expect(sockets().bind(fd, address)).toBe(0);
    expect(readFileSync('/proc/net/unix', 'utf8')).toContain(`@${longest}`);
    expect(close(fd)).toBe(0);
  });

  it('socket takes SOCK_NONBLOCK and SOCK_CLOEXEC from the table', () => {
    const fd = socket(c.SOCK_STREAM | c.SOCK_NONBLOCK | c.SOCK_CLOEXEC);
    expect(fdFlags(fd) & c.O_NONBLOCK).toBe(c.O_NONBLOCK);
    expect(fdFlags(fd) & c.O_CLOEXEC).toBe(c.O_CLOEXEC);
    const plain = socket(c.SOCK_STREAM);
    expect(fdFlags(plain) & (c.O_NONBLOCK | c.O_CLOEXEC)).toBe(0);
    expect(close(fd)).toBe(0);
    expect(close(plain)).toBe(0);
  });

  it('binds an abstract name, Node listens on the fd, a second socket connects and its tokens arrive', async () => {
    const { fd, address, name } = listening();
    expect(readFileSync('/proc/net/unix', 'utf8')).toContain(`@${name}`);
    const received: Buffer[] = [];
    let conn: Socket | undefined;
    const gotConnection = new Promise<void>((resolve) => {
      void serve(fd, (s) => {
        conn = s;
        s.on('data', (b) => received.push(b));
        resolve();
      });
    });

    const client = socket();
    expect(sockets().connect(client, address)).toBe(0);
    await gotConnection;
    const token = new Uint8Array(new Uint32Array([0xdeadbeef, 7]).buffer);
    expect(sockets().send(client, token.subarray(0, 4), c.MSG_NOSIGNAL | c.MSG_DONTWAIT)).toBe(4);
    expect(sockets().send(client, token.subarray(4), c.MSG_NOSIGNAL | c.MSG_DONTWAIT)).toBe(4);
    while (Buffer.concat(received).length < 8) await once(conn!, 'data');
    expect(new Uint8Array(Buffer.concat(received))).toEqual(token);

    // The client closes: Node sees the end of the stream.
    const ended = once(conn!, 'end');
    expect(close(client)).toBe(0);
    await ended;
    conn!.destroy();
  });

  it('errors are -errno: EADDRINUSE, ECONNREFUSED, EBADF, ENOTCONN', () => {
    const { address } = listening();
    expect(sockets().bind(socket(), address)).toBe(-E.EADDRINUSE);
    // A name nobody listens on (bound but not listening is refused too).
    expect(sockets().connect(socket(), sockets().abstractAddress(uniqueName()))).toBe(-E.ECONNREFUSED);
    const bound = socket();
    const boundAddress = sockets().abstractAddress(uniqueName());
    expect(sockets().bind(bound, boundAddress)).toBe(0);
    expect(sockets().connect(socket(), boundAddress)).toBe(-E.ECONNREFUSED);
    // Not connected; closed fds.
    expect(sockets().send(socket(), new Uint8Array(4), c.MSG_NOSIGNAL | c.MSG_DONTWAIT)).toBe(-E.ENOTCONN);
    const gone = socket();
    expect(close(gone)).toBe(0);
    expect(sockets().close(gone)).toBe(-E.EBADF);
    expect(sockets().send(gone, new Uint8Array(4), c.MSG_NOSIGNAL)).toBe(-E.EBADF);
    expect(sockets().socket(c.AF_UNIX, 0x7fff, 0)).toBe(-E.EINVAL);
  });

  it('EAGAIN with MSG_DONTWAIT when the send buffer is full (the peer never reads)', () => {
    const { address } = listening(); // never accepted: the data waits in the pending connection
    const client = socket();
    expect(sockets().connect(client, address)).toBe(0);
    const chunk = new Uint8Array(64 * 1024);
    let total = 0;
    let result = 0;
    for (let i = 0; i < 10_000 && result >= 0; i++) {
      result = sockets().send(client, chunk, c.MSG_NOSIGNAL | c.MSG_DONTWAIT);
      if (result > 0) total += result;
    }
    expect(result).toBe(-E.EAGAIN);
    expect(total).toBeGreaterThan(0);
  });

  it('EPIPE after the peer closed, with no SIGPIPE under MSG_NOSIGNAL (and one without it)', async () => {
    const { fd, address } = listening();
    let conn: Socket | undefined;
    const gotConnection = new Promise<void>((resolve) => {
      void serve(fd, (s) => {
        conn = s;
        resolve();
      });
    });
    const client = socket();
    expect(sockets().connect(client, address)).toBe(0);
    await gotConnection;
    // Node's end goes away before anything is sent (unread data would make the first error ECONNRESET).
    const closed = once(conn!, 'close');
    conn!.destroy();
    await closed;

    // SIGPIPE is sent to the sending thread. Node ignores it, so it would vanish: blocked, it stays pending, where
    // sigpending(2) sees it. The sigset buffers are larger than any libc's sigset_t.
    const lib = libcHandle();
    const sigemptyset = lib.func('int sigemptyset(void *set)');
    const sigaddset = lib.func('int sigaddset(void *set, int signum)');
    const sigismember = lib.func('int sigismember(const void *set, int signum)');
    const sigprocmask = lib.func('int sigprocmask(int how, const void *set, void *oldset)');
    const sigpending = lib.func('int sigpending(void *set)');
    const sigwait = lib.func('int sigwait(const void *set, _Out_ int *sig)');
    const pipeSet = new Uint8Array(1024);
    const oldMask = new Uint8Array(1024);
    sigemptyset(pipeSet);
    sigaddset(pipeSet, c.SIGPIPE);
    const sigpipePending = () => {
      const pending = new Uint8Array(1024);
      expect(sigpending(pending)).toBe(0);
      return sigismember(pending, c.SIGPIPE) === 1;
    };
    expect(sigprocmask(c.SIG_BLOCK, pipeSet, oldMask)).toBe(0);
    try {
      expect(sigpipePending()).toBe(false);
      expect(sockets().send(client, new Uint8Array(4), c.MSG_NOSIGNAL | c.MSG_DONTWAIT)).toBe(-E.EPIPE);
      expect(sigpipePending()).toBe(false);
      // The control: without MSG_NOSIGNAL the same send raises SIGPIPE (taken here, so it goes nowhere).
      expect(sockets().send(client, new Uint8Array(4), c.MSG_DONTWAIT)).toBe(-E.EPIPE);
      expect(sigpipePending()).toBe(true);
      const sig = [0];
      expect(sigwait(pipeSet, sig)).toBe(0);
      expect(sig[0]).toBe(c.SIGPIPE);
      expect(sigpipePending()).toBe(false);
    } finally {
      sigprocmask(c.SIG_SETMASK, oldMask, null);
    }
  });
});
