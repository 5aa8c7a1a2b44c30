// The waking side of a doorbell: sends a wait's 4-byte token to the doorbell socket a wake-up cell names.
//
// What the cell says comes from shared memory, so from anyone: the identity is only used to build a name in the
// doorbells' own namespace ("sysv-shm-bell/..."), so a forged cell can at most make this process connect to
// another doorbell (a spurious wake-up there), never write to an arbitrary file. Connections are kept (a few
// hundred, least recently used dropped), so a ring costs one send(2); a send never blocks and never raises
// SIGPIPE. A name nobody listens under is remembered for a second (a forged cell costs one connect per second, not
// one per publish). A ring to this thread's own doorbell skips the socket.
import net from 'node:net';
import { getAbi } from '../../abi/index.js';
import { sockets } from '../../c/index.js';
import { CELL_KIND_SOCKET, doorbellName } from '../ring-layout.js';
import { existingDoorbell } from './doorbell.js';

/** What ring() did: 'rung' (sent, or queued to this thread's own doorbell), 'full' (its socket is full: the reader
 * scans every wait anyway), 'gone' (nobody listens under that identity: the waiter's process or thread ended),
 * 'bad' (the identity is not one: a forged cell). */
export type RingOutcome = 'rung' | 'full' | 'gone' | 'bad';

/** Connections kept open, at most. */
const KEEP = 256;

interface Constants {
  AF_UNIX: number;
  SOCK_STREAM: number;
  SOCK_NONBLOCK: number;
  SOCK_CLOEXEC: number;
  MSG_NOSIGNAL: number;
  MSG_DONTWAIT: number;
  EAGAIN: number;
  EWOULDBLOCK: number;
  EINTR: number;
}
let constants: Constants | undefined;

function consts(): Constants {
  if (constants) return constants;
  const abi = getAbi();
  const k = abi.constants;
  const e = abi.errno;
  constants = {
    AF_UNIX: k.AF_UNIX,
    SOCK_STREAM: k.SOCK_STREAM,
    SOCK_NONBLOCK: k.SOCK_NONBLOCK,
    SOCK_CLOEXEC: k.SOCK_CLOEXEC,
    MSG_NOSIGNAL: k.MSG_NOSIGNAL,
    MSG_DONTWAIT: k.MSG_DONTWAIT,
    EAGAIN: e.EAGAIN,
    EWOULDBLOCK: e.EWOULDBLOCK ?? e.EAGAIN,
    EINTR: e.EINTR,
  };
  return constants;
}

/**
 * A kept connection: its fd, which ring() writes to with send(2) directly (synchronous, never blocking), owned by a
 * net.Socket so that libuv closes it when this thread ends (a worker's raw fds would otherwise outlive it) and so
 * that the doorbell's end going away (EOF) drops it from the cache at once.
 */
interface Connection {
  readonly fd: number;
  readonly handle: net.Socket;
}

/** Open connections by doorbell name, oldest use first. */
const connections = new Map<string, Connection>();
/** Names nobody listened under, recently: a forged or stale cell costs one connect per GONE_FOR_MS, not one per publish. */
const gone = new Map<string, number>();
const GONE_FOR_MS = 1000;
const tokenWord = new Int32Array(1);
const tokenBytes = new Uint8Array(tokenWord.buffer);

/** Sends `token` to the doorbell (kind, pid, nonceA, nonceB), read once from a cell by the caller. Never throws. */
export function ringDoorbell(kind: number, pid: number, nonceA: number, nonceB: number, token: number): RingOutcome {
  if (kind !== CELL_KIND_SOCKET || pid <= 0) {
    return 'bad';
  }
  const own = existingDoorbell();
  if (own !== undefined && pid === own.pid && nonceA === own.nonceA && nonceB === own.nonceB) {
    own.ringLocally(token);
    return 'rung';
  }
  const name = nameOf(pid, nonceA, nonceB);
  tokenWord[0] = token;
  let connection = connections.get(name);
  if (connection !== undefined) {
    connections.delete(name); // re-inserted below: most recently used last
    const outcome = send(name, connection);
    if (outcome !== 'gone') return outcome;
    // EPIPE, ECONNRESET: that doorbell closed since we connected (its thread ended, or it dropped us). Once more.
  }
  const seen = gone.get(name);
  if (seen !== undefined && performance.now() - seen < GONE_FOR_MS) {
    return 'gone';
  }
  const c = consts();
  const fd = connect(name);
  if (fd === -c.EAGAIN) {
    // its backlog is full: it has many wakers to read, and its watch re-checks every wait
    return 'full';
  }
  if (fd < 0) {
    if (gone.size >= KEEP) gone.clear();
    gone.set(name, performance.now());
    return 'gone';
  }
  connection = adopt(name, fd);
  return send(name, connection);
}

/** The last doorbell rung, and its name: a peer rings the same one message after message, without a new string each time. */
let lastRung = { pid: 0, nonceA: 0, nonceB: 0, name: '' };

function nameOf(pid: number, nonceA: number, nonceB: number): string {
  const last = lastRung;
  if (last.pid === pid && last.nonceA === nonceA && last.nonceB === nonceB) return last.name;
  lastRung = { pid, nonceA, nonceB, name: doorbellName(pid, nonceA, nonceB) };
  return lastRung.name;
}

/** One send of the token on a connection; keeps it unless it failed for good. */
function send(name: string, connection: Connection): RingOutcome {
  const c = consts();
  const s = sockets();
  let sent = s.send(connection.fd, tokenBytes, c.MSG_NOSIGNAL | c.MSG_DONTWAIT);
  for (let i = 0; i < 3 && sent === -c.EINTR; i++) sent = s.send(connection.fd, tokenBytes, c.MSG_NOSIGNAL | c.MSG_DONTWAIT);
  if (sent === 4) {
    keep(name, connection);
    return 'rung';
  }
  if (sent === -c.EAGAIN || sent === -c.EWOULDBLOCK) {
    keep(name, connection);
    return 'full';
  }
  connection.handle.destroy();
  return 'gone';
}

function connect(name: string): number {
  const c = consts();
  const s = sockets();
  const fd = s.socket(c.AF_UNIX, c.SOCK_STREAM | c.SOCK_NONBLOCK | c.SOCK_CLOEXEC, 0);
  if (fd < 0) return fd;
  const rc = s.connect(fd, s.abstractAddress(name));
  if (rc < 0) {
    // ECONNREFUSED: nobody listens under that name; EAGAIN: its backlog is full.
    s.close(fd);
    return rc;
  }
  return fd;
}

/** Hands a connected fd to a net.Socket (which closes it on destroy, at EOF, and when this thread ends). */
function adopt(name: string, fd: number): Connection {
  const handle = new net.Socket({ fd, readable: true, writable: false });
  const connection: Connection = { fd, handle };
  handle.unref();
  handle.on('error', () => {});
  handle.on('close', () => {
    if (connections.get(name) === connection) connections.delete(name);
  });
  handle.resume(); // the doorbell never writes: what comes is its EOF
  return connection;
}

function keep(name: string, connection: Connection): void {
  connections.set(name, connection);
  if (connections.size > KEEP) {
    const [oldest, old] = connections.entries().next().value as [string, Connection];
    connections.delete(oldest);
    old.handle.destroy();
  }
}
