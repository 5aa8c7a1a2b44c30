// socket(2), bind(2), listen(2), connect(2), send(2), close(2) for the event loop's doorbell: an abstract-namespace
// AF_UNIX stream socket per event loop, handed to Node's net.Server as a listening fd, that wakers in other
// processes connect to. C-shaped like syscall.ts: every call returns its result or -errno, nothing throws (except
// abstractAddress, which checks its argument).
//
// The prototypes, as C declares them on Linux: socklen_t is an unsigned 32-bit int on every Linux target, and
// ssize_t/size_t are as wide as long (the ABI tables check sizeof(long) == sizeof(void *)), so `long` and
// `size_t` carry them. The constants (AF_UNIX, SOCK_*, MSG_*) and the sockaddr_un layout come from the ABI
// tables, never from here: mips has SOCK_STREAM 2 and SOCK_NONBLOCK 0x80.
import { koffi } from './koffi.js';
import { libc, libcHandle } from './libc.js';

export interface Sockets {
  /** socket(domain, type, protocol): an fd, or -errno. */
  socket(domain: number, type: number, protocol: number): number;
  /** bind(fd, address, address.length): 0 or -errno. */
  bind(fd: number, address: Uint8Array): number;
  /** listen(fd, backlog): 0 or -errno. */
  listen(fd: number, backlog: number): number;
  /** connect(fd, address, address.length): 0 or -errno (-EINPROGRESS on a non-blocking socket still connecting). */
  connect(fd: number, address: Uint8Array): number;
  /** send(fd, bytes, bytes.length, flags): the number of bytes sent, or -errno. */
  send(fd: number, bytes: Uint8Array, flags: number): number;
  /** close(fd): 0 or -errno. */
  close(fd: number): number;
  /**
   * A struct sockaddr_un for an abstract name (leading NUL, no trailing NUL): length offsetof(sun_path) + 1 + the
   * name's UTF-8 bytes, which is also the addrlen bind and connect pass. RangeError if the name does not fit sun_path.
   */
  abstractAddress(name: string): Uint8Array;
}

let bound: Sockets | undefined;

/** The socket calls, bound on first use. */
export function sockets(): Sockets {
  if (bound) return bound;
  const { abi } = libc();
  const lib = libcHandle();
  const ffi = koffi();
  const fSocket = lib.func('int socket(int domain, int type, int protocol)');
  const fBind = lib.func('int bind(int fd, const void *addr, unsigned int addrlen)');
  const fListen = lib.func('int listen(int fd, int backlog)');
  const fConnect = lib.func('int connect(int fd, const void *addr, unsigned int addrlen)');
  const fSend = lib.func('long send(int fd, const void *buf, size_t len, int flags)');
  const fClose = lib.func('int close(int fd)');
  // koffi saves errno right after each call; read it before anything else can call into C.
  const result = (ret: number | bigint): number => {
    const r = Number(ret);
    return r === -1 ? -ffi.errno() : r;
  };
  const sunPathSize = abi.description.structs.sockaddr_un.fields.sun_path.size;
  const utf8 = new TextEncoder();

  bound = {
    socket: (domain, type, protocol) => result(fSocket(domain, type, protocol)),
    bind: (fd, address) => result(fBind(fd, address, address.length)),
    listen: (fd, backlog) => result(fListen(fd, backlog)),
    connect: (fd, address) => result(fConnect(fd, address, address.length)),
    send: (fd, bytes, flags) => result(fSend(fd, bytes, bytes.length, flags)),
    close: (fd) => result(fClose(fd)),
    abstractAddress(name) {
      const bytes = utf8.encode(name);
      if (1 + bytes.length > sunPathSize) {
        throw new RangeError(
          `an abstract socket name holds at most ${sunPathSize - 1} bytes (sun_path is ${sunPathSize}, one for the leading NUL); '${name}' is ${bytes.length}`,
        );
      }
      const path = new Uint8Array(1 + bytes.length);
      path.set(bytes, 1);
      return abi.encodeSockaddrUn(path);
    },
  };
  return bound;
}
