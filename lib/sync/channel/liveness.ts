// Whether the other end of a channel still runs: its pid and start time in the header, latched once seen, and the
// process behind them (kill(pid, 0) and /proc/<pid>/stat).
//
// A peer that died without close() (SIGKILL) is noticed only this way. Its identity is written once (the
// producer's at creation, the consumer's at open, start time just after pid), so a value that changes after it
// was seen is another process writing into the header: EPROTO, not a live or a dead peer.
import { readFileSync } from 'node:fs';
import type { Header } from './header.js';

/** State and start time (clock ticks since boot) of a process, from /proc/<pid>/stat; undefined if unreadable. */
function procStat(pid: number | string): { state: string; start: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    return { state: fields[0], start: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/**
 * This process's start time for the header (0: unknown, no /proc), as its peers read it from /proc/<pid>/stat.
 * Read through the main thread's task entry rather than /proc/self/stat: qemu-user fakes the latter with a start
 * time of its own (a few ticks later), which made every peer look like a reused pid under emulation.
 */
export function ownStartTime(): number {
  const pid = process.pid;
  return (procStat(`${pid}/task/${pid}`) ?? procStat('self'))?.start ?? 0;
}

/** A start time as the header may hold it: clock ticks since boot (0: unknown, no /proc). */
export function validStart(start: number): boolean {
  return start >= 0 && start <= Number.MAX_SAFE_INTEGER; // false for NaN
}

/**
 * Whether the process that wrote (pid, start) into the header still runs. A zombie counts as dead (a parent
 * blocked in a synchronous receive cannot reap its killed child), and so does a pid reused by another process.
 * `pid` must be > 0 (callers check: 0 and negative pids are not processes, and kill() would signal groups).
 */
export function isAlive(pid: number, start: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(pid);
  if (!stat) return procStat('self') === undefined; // no /proc at all: trust kill(); /proc but no entry: gone
  if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
  if (start > 0 && stat.start !== start) return false;
  return true;
}

/** How long a look at a process is reused: many pending waits on one peer (1,000 channels) cost one look. */
const LOOK_REUSE_MS = 20;
const looks = new Map<string, { alive: boolean; at: number }>();

/** isAlive, answered from a look at the same process less than LOOK_REUSE_MS ago if there is one. */
export function isAliveRecently(pid: number, start: number): boolean {
  const key = `${pid}/${start}`;
  const now = performance.now();
  const seen = looks.get(key);
  if (seen !== undefined && now - seen.at < LOOK_REUSE_MS) return seen.alive;
  const alive = isAlive(pid, start);
  if (looks.size >= 1024) looks.clear();
  looks.set(key, { alive, at: now });
  return alive;
}

/** The peer of one end: its identity as first seen, checked on every look, and whether it still runs. */
export class Liveness {
  readonly #header: Header;
  /**
   * The peer's pid and start time as first seen (the producer's: checked at open; the consumer's: when the
   * producer first sees it). 0: not seen yet.
   */
  #pid: number;
  #start: number;

  constructor(header: Header, pid: number, start: number) {
    this.#header = header;
    this.#pid = pid;
    this.#start = start;
  }

  /**
   * The peer's pid from the header (0: no consumer has opened the channel yet), checked against what this end saw
   * before: a different value later, a pid <= 0 where a peer was seen, or a start time that is not one, is
   * EPROTO. `tailMoved`: the consumer's tail has moved (only a consumer moves it), so a pid of 0 is not "no
   * consumer yet" but a consumer that vanished from the header.
   */
  peerPid(op: string, tailMoved: boolean): number {
    const header = this.#header;
    const pid = header.peerPid();
    const start = header.peerStart();
    const known = this.#pid;
    const peer = header.peer.name;
    if (pid === 0 && known === 0 && !tailMoved) return 0;
    if (pid <= 0 || (known !== 0 && pid !== known)) {
      throw header.corrupt(op, `the ${peer} pid in the header is ${pid}${known !== 0 ? `, but it was ${known}` : ''}`);
    }
    if (!validStart(start) || (this.#start !== 0 && start !== this.#start)) {
      throw header.corrupt(op, `the ${peer} start time in the header is ${start}${this.#start !== 0 ? `, but it was ${this.#start}` : ''}`);
    }
    this.#pid = pid;
    this.#start = start;
    return pid;
  }

  /** The pid of a peer that is gone (exited or killed without close()), or 0 while it runs or has not opened yet. */
  deadPeer(op: string, tailMoved: boolean): number {
    const pid = this.peerPid(op, tailMoved);
    return pid === 0 || isAliveRecently(pid, this.#start) ? 0 : pid;
  }
}
