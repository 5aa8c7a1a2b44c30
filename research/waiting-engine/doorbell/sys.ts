// Raw libc calls the doorbell needs, through the project's koffi and libc handle. C-shaped: results or -errno.
// x86-64 Linux constants (the spike runs there only); a real implementation takes them from the ABI tables.
import { koffi, libcHandle } from '/work/main/lib/internal.js';

export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = O_NONBLOCK;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const EAGAIN = 11;
export const EPIPE = 32;
export const ENOENT = 2;
export const ECONNREFUSED = 111;
export const ECONNRESET = 104;
export const EINPROGRESS = 115;

const lib = libcHandle();
const k = koffi();
const fPipe2 = lib.func('int pipe2(_Out_ int *fds, int flags)');
// open(2) is variadic; bound with a fixed third int, as lib/native/syscall.ts argues for syscall(2).
const fOpen = lib.func('int open(const char *path, int flags, int mode)');
const fWrite = lib.func('long write(int fd, const void *buf, unsigned long n)');
const fClose = lib.func('int close(int fd)');
const fSocket = lib.func('int socket(int domain, int type, int protocol)');
const fBind = lib.func('int bind(int fd, const void *addr, int len)');
const fListen = lib.func('int listen(int fd, int backlog)');
const fConnect = lib.func('int connect(int fd, const void *addr, int len)');
const fSend = lib.func('long send(int fd, const void *buf, unsigned long n, int flags)');

const r = (v: number | bigint): number => {
  const n = Number(v);
  return n < 0 ? -k.errno() : n;
};

export function pipe2(flags: number): [number, number] | number {
  const fds = new Int32Array(2);
  const rc = r(fPipe2(fds, flags));
  return rc < 0 ? rc : [fds[0], fds[1]];
}
export const open = (path: string, flags: number): number => r(fOpen(path, flags, 0));
export const write = (fd: number, buf: Uint8Array): number => r(fWrite(fd, buf, buf.length));
export const close = (fd: number): number => r(fClose(fd));
export const socket = (domain: number, type: number): number => r(fSocket(domain, type, 0));
export const bind = (fd: number, addr: Uint8Array): number => r(fBind(fd, addr, addr.length));
export const listen = (fd: number, backlog: number): number => r(fListen(fd, backlog));
export const connect = (fd: number, addr: Uint8Array): number => r(fConnect(fd, addr, addr.length));
export const send = (fd: number, buf: Uint8Array, flags: number): number => r(fSend(fd, buf, buf.length, flags));

/** A sockaddr_un for an abstract name (no leading NUL in `name`), of exactly the name's length: addrlen matters. */
export function abstractAddress(name: string): Uint8Array {
  const bytes = Buffer.from(name, 'latin1');
  const addr = new Uint8Array(2 + 1 + bytes.length);
  addr[0] = AF_UNIX; // sa_family_t, little-endian u16
  addr[2] = 0; // abstract namespace
  addr.set(bytes, 3);
  return addr;
}
