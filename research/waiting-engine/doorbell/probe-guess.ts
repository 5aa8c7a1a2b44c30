import net from 'node:net';
import { koffi, libcHandle } from '/work/main/lib/internal.js';
const lib = libcHandle();
const k = koffi();
const pipe2 = lib.func('int pipe2(_Out_ int *fds, int flags)');
const socket = lib.func('int socket(int, int, int)');
const eventfd = lib.func('int eventfd(unsigned int, int)');
const socketpair = lib.func('int socketpair(int, int, int, _Out_ int *sv)');
const O_NONBLOCK = 0o4000, O_CLOEXEC = 0o2000000;
const fds = [0, 0];
console.log('pipe2', pipe2(fds, O_NONBLOCK | O_CLOEXEC), fds);
const tryFd = (name: string, fd: number) => {
  try { const s = new net.Socket({ fd, readable: true, writable: false }); console.log(name, 'OK', (s as any)._handle?.constructor?.name); s.destroy(); }
  catch (e) { console.log(name, 'FAIL', (e as Error).message); }
};
tryFd('pipe read end', fds[0]);
tryFd('unix dgram', socket(1, 2 | O_NONBLOCK, 0));
tryFd('unix seqpacket', socket(1, 5, 0));
tryFd('eventfd', eventfd(0, O_NONBLOCK));
const sv = [0, 0]; socketpair(1, 2, 0, sv); tryFd('unix dgram socketpair', sv[0]);
const sv2 = [0, 0]; socketpair(1, 1, 0, sv2); tryFd('unix stream socketpair', sv2[0]);
