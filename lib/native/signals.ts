// SIGINT, SIGTERM and SIGHUP while the main thread sleeps in a synchronous wait of ours.
//
// Node handles a signal in two steps: libuv's C handler (on whichever thread the kernel picked) writes a message
// (the signal handle's address and the signal number) into the main loop's signal pipe; later the main thread's
// event loop reads it and runs the JavaScript listeners. A thread asleep in a synchronous wait never gets to the
// second step, so a library listener such as removeOnExit's could not run and Ctrl-C did nothing.
//
// So a sleeping wait sleeps in slices (the kernel then also ends a slice early, with EINTR, when the signal comes
// to this thread) and between slices looks into that pipe without taking anything out of it: tee(2) copies a
// pipe's contents into a pipe of our own. When a termination signal is waiting there and every listener of it is
// one that may run at once (registered here: removeOnExit's, which removes the segments and re-raises the signal so
// that the process dies of it), those listeners run now. A signal the program listens to itself waits for the
// event loop, as Node does for any synchronous call.
//
// The pipe is found once, among this process's pipes whose both ends it holds and whose read end does not block
// (libuv's other in-process pipe, its signal lock, blocks): the library listens to SIGURG for a moment, sends it
// to itself, and takes the pipe where libuv's message for SIGURG shows up (SIGURG is ignored by default, so
// nothing else happens). If the program listens to SIGURG itself, a lone candidate is taken; if nothing can be
// told apart, nothing happens early: the listeners run when the wait returns, as before.
import { readdirSync, readlinkSync } from 'node:fs';
import { constants as os } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { libc, libcHandle } from './libc.js';

type Listener = (signal: NodeJS.Signals) => void;

/** The signals whose listeners may be run from inside a wait. */
export const TERMINATION_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Listeners that may run from inside a synchronous wait (they do not expect to run between event-loop turns). */
const runnableNow = new Set<Listener>();

export function allowDuringWaits(listener: Listener): void {
  runnableNow.add(listener);
}

export function disallowDuringWaits(listener: Listener): void {
  runnableNow.delete(listener);
}

interface Peeker {
  /** Read end of libuv's signal pipe. */
  pipe: number;
  tee(fdIn: number, fdOut: number, length: number, flags: number): number;
  read(fd: number, into: Uint8Array, length: number): number;
  /** Our own pipe: [read end, write end]. */
  ours: [number, number];
  flags: number;
  buffer: Uint8Array;
}

let peeker: Peeker | null | undefined;

/** Read ends of the pipes this process holds both ends of, that do not block. */
function candidatePipes(fcntl: (fd: number, cmd: number, arg: number) => number): number[] {
  const k = libc().abi.constants;
  const ends = new Map<string, number[]>();
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // the directory's own fd, or closed meanwhile
    }
    if (!target.startsWith('pipe:')) continue;
    ends.set(target, [...(ends.get(target) ?? []), Number(name)]);
  }
  const found: number[] = [];
  for (const fds of ends.values()) {
    if (fds.length < 2) continue;
    for (const fd of fds) {
      const flags = fcntl(fd, k.F_GETFL, 0);
      const readEnd = (flags & (k.O_WRONLY | k.O_RDWR)) === 0;
      if (flags >= 0 && readEnd && flags & k.O_NONBLOCK) found.push(fd);
    }
  }
  return found;
}

function setUp(): Peeker | null {
  const k = libc().abi.constants;
  if (k.F_GETFL === undefined || k.O_NONBLOCK === undefined || k.SPLICE_F_NONBLOCK === undefined) return null;
  const handle = libcHandle();
  const fcntlCall = handle.func('int fcntl(int fd, int cmd, long arg)');
  const fcntl = (fd: number, cmd: number, arg: number) => Number(fcntlCall(fd, cmd, arg));
  const pipe2 = handle.func('int pipe2(_Out_ int *fds, int flags)');
  const tee = handle.func('long tee(int fd_in, int fd_out, size_t len, unsigned int flags)');
  const read = handle.func('long read(int fd, _Out_ uint8_t *buf, size_t count)');
  const fds = new Int32Array(2);
  if (pipe2(fds, k.O_NONBLOCK | k.O_CLOEXEC) !== 0) return null;
  const p: Peeker = {
    pipe: -1,
    tee: (fdIn, fdOut, length, flags) => Number(tee(fdIn, fdOut, length, flags)),
    read: (fd, into, length) => Number(read(fd, into, length)),
    ours: [fds[0], fds[1]],
    flags: k.SPLICE_F_NONBLOCK,
    buffer: new Uint8Array(4096),
  };
  const candidates = candidatePipes(fcntl).filter((fd) => fd !== p.ours[0]);
  p.pipe = identify(p, candidates) ?? -1;
  return p.pipe >= 0 ? p : null;
}

/** Which candidate is libuv's signal pipe: the one where a SIGURG sent to ourselves shows up. */
function identify(p: Peeker, candidates: number[]): number | undefined {
  if (process.listenerCount('SIGURG') > 0) return candidates.length === 1 ? candidates[0] : undefined;
  const noop = () => {};
  process.on('SIGURG', noop);
  try {
    process.kill(process.pid, 'SIGURG'); // handled before kill() returns: the kernel picks the calling thread
    return candidates.find((fd) => signalsIn(p, fd).has(os.signals.SIGURG));
  } finally {
    process.removeListener('SIGURG', noop);
  }
}

/** The signal numbers of the messages waiting in a pipe of libuv's (not taken out of it). */
function signalsIn(p: Peeker, pipe: number): Set<number> {
  const found = new Set<number>();
  const copied = p.tee(pipe, p.ours[1], p.buffer.length, p.flags);
  if (copied <= 0) return found;
  const got = p.read(p.ours[0], p.buffer, copied);
  const { pointerSize, littleEndian } = libc().abi;
  // libuv's message: { uv_signal_t *handle; int signum; }, padded to pointer alignment.
  const view = new DataView(p.buffer.buffer, 0, Math.max(got, 0));
  for (let at = 0; at + pointerSize * 2 <= view.byteLength; at += pointerSize * 2) {
    const signum = view.getInt32(at + pointerSize, littleEndian);
    if (signum > 0 && signum < 65) found.add(signum);
  }
  return found;
}

/**
 * Called by a synchronous wait between slices of sleep: runs the listeners of a termination signal that has
 * arrived when every one of them may run now. They normally end the process.
 */
export function runPendingTerminationListeners(): void {
  if (runnableNow.size === 0 || !isMainThread) return;
  if (peeker === undefined) peeker = setUp();
  if (peeker === null) return;
  const pending = signalsIn(peeker, peeker.pipe);
  if (pending.size === 0) return;
  for (const signal of TERMINATION_SIGNALS) {
    if (!pending.has(os.signals[signal])) continue;
    const listeners = process.listeners(signal) as Listener[];
    if (listeners.length > 0 && listeners.every((listener) => runnableNow.has(listener))) {
      for (const listener of listeners) listener(signal);
    }
  }
}
