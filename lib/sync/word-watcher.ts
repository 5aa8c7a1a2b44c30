// The word watcher: what waitAsync sleeps on. Every pending waitAsync of this thread is an entry in one
// futex_waitv(2) call (Linux 5.16+) that a thread of libuv's pool makes for the whole set, instead of one pool
// thread per pending wait.
//
// Words and shards. Pending waits on the same address with the same expected value share a *group* (one entry).
// A *shard* is one futex_waitv call: entry 0 is the shard's control word (never-freed memory, private futex), the
// other FUTEX_WAITV_MAX - 1 entries are groups (shared futexes: a FUTEX_WAKE from any process that maps the segment
// wakes them). Adding or removing a group bumps the control word and wakes it: the call returns and is issued again
// with the new set (one wake per shard per tick, however many waits came or went).
//
// When a call returns (the index of a woken entry, EAGAIN because a word differed, ETIMEDOUT, EINTR), the main
// thread resolves the woken group ('ok', even if its word still holds the expected value), then reads every word
// of the shard: a group whose word changed resolves 'ok' when the kernel had already slept on it, 'not-equal' when
// the word differed before the first sleep (the kernel's compare said EAGAIN). Every call has a finite timeout
// (PERIODIC_MS), so calls return at least that often, and at a return every wait checks that its segment is still
// attached (ERR_SHM_DETACHED) if it has not for half that time (one check per buffer).
//
// The pool. libuv's pool is shared with fs, dns, crypto and zlib (UV_THREADPOOL_SIZE, default 4). At most half of
// it (`cap`, rounded down: a pool of 1 is left alone) is ever in a futex_waitv call. Shards beyond the cap (more than cap * 127 distinct words)
// wait in a queue for a pool slot, and meanwhile their words are polled by the main thread (a timer from
// POLL_MIN_MS, doubling to POLL_MAX_MS while nothing changes): a change of such a word is seen within POLL_MAX_MS,
// but a FUTEX_WAKE that leaves it as it was is not. Groups move to the shards in the kernel as those have room
// (compaction), and a queued shard gets the slot of a shard that has nothing left to watch.
//
// Fallback, where futex_waitv fails with ENOSYS or EPERM (kernels before 5.16, seccomp profiles, qemu-user): one
// pool-thread FUTEX_WAIT per watched word, as capped as above (cap words in the kernel, the others polled), in
// slices of FALLBACK_SLICE_MS.
//
// Exit. A pool thread asleep in a syscall would hold the process at exit (libuv joins its threads in a destructor).
// A process 'exit' listener sets a stop flag, bumps every control word and wakes it: calls in flight return at once
// and none is issued again (a call that has not reached the kernel yet fails its compare of the control word). A
// worker thread ended by terminate() gets no 'exit' event: its calls end at their timeout, which is shorter there
// (PERIODIC_WORKER_MS). In the fallback a call cannot be woken without waking other processes' waiters: exit then
// waits for the slice in flight (FALLBACK_SLICE_MS at most).
//
// Keeping the process alive: a koffi async call in flight is a pending libuv request, so a pending wait keeps the
// event loop alive (as today's waitAsync did; Atomics.waitAsync does not); with a cap of 0, the polling timer does.
// Timeout timers are unref'd. When the last wait of a shard goes, its call is woken and not issued again: nothing
// is left to hold the loop.
import { isMainThread } from 'node:worker_threads';
import { abortError } from '../common/abort.js';
import { DeadlineTimer } from '../common/timers.js';
import type { WaitResult } from './futex.js';
import { errnoError, futexSyscall, futexWaitvSyscall, permanentMemory, type FutexWaitvSyscall } from '../c/index.js';
import { getAbi, type Abi } from '../abi/index.js';

type WatchResult = WaitResult;

/** The longest a futex_waitv call sleeps before the watcher looks at detaches (main thread). */
export const PERIODIC_MS = 500;
/** The same in a worker thread, where terminate() has to wait for the call in flight (no 'exit' event there). */
const PERIODIC_WORKER_MS = 100;
/** Polling of the words beyond the cap: the first interval, and the longest (it doubles while nothing changes). */
const POLL_MIN_MS = 1;
export const POLL_MAX_MS = 100;
/** The longest FUTEX_WAIT of the fallback (it cannot be woken at exit: this bounds how long exit waits). */
export const FALLBACK_SLICE_MS = 100;

export interface WatchRequest {
  /** The word: view[index], at `address` in this process. */
  view: Int32Array;
  index: number;
  address: bigint;
  expected: number;
  /** ms, > 0; Infinity: no limit. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** The error to end the wait with when the view's segment was detached, else undefined. */
  detached: () => Error | undefined;
  /** The API call, for errors. */
  operation: string;
}

interface Wait {
  group: Group;
  /** The buffer of the wait's view (waits on one buffer are detached together). */
  buffer: ArrayBufferLike;
  resolve: (result: WatchResult) => void;
  reject: (error: Error) => void;
  detached: () => Error | undefined;
  timer: DeadlineTimer | undefined;
  deadline: number;
  signal: AbortSignal | undefined;
}

/** The waits one AbortSignal cancels, behind one 'abort' listener (no MaxListenersExceededWarning with many). */
interface SignalWaits {
  waits: Set<Wait>;
  listener: () => void;
}

/** The pending waits on one word with one expected value: one futex entry. */
class Group {
  readonly waits = new Set<Wait>();
  shard: Shard | undefined;
  live = true;
  /** A call that included this group slept (the kernel compared its word equal), or a poll saw the word hold its
   * value: a change from now on is 'ok'. */
  slept = false;
  constructor(
    readonly key: string,
    readonly view: Int32Array,
    readonly index: number,
    readonly address: bigint,
    readonly expected: number,
    readonly operation: string,
  ) {}
}

type Kind = 'waitv' | 'fallback';

/** One call in the kernel at a time: futex_waitv over up to capacity groups, or (fallback) FUTEX_WAIT on one. */
class Shard {
  groups: Group[] = [];
  /** The groups of the call in flight (or of the last one): waitv entry i + 1 is issued[i]. */
  issued: Group[] = [];
  inFlight = false;
  queued = false;
  /** The control word was bumped since the call was issued. */
  interrupted = false;
  /** groups changed since the entries were written. */
  stale = true;
  // waitv only: [timespec | control word | entries], in never-freed memory.
  readonly ctl: Int32Array | undefined;
  readonly ctlAddress: bigint = 0n;
  readonly entries: DataView | undefined;
  readonly entriesAddress: bigint = 0n;
  readonly timespec: DataView | undefined;
  readonly timespecAddress: bigint = 0n;

  constructor(
    readonly kind: Kind,
    readonly capacity: number,
    sys: FutexWaitvSyscall | undefined,
  ) {
    if (kind === 'waitv' && sys) {
      const ctlAt = align8(sys.timespecSize);
      const entriesAt = ctlAt + 8;
      const memory = permanentMemory(entriesAt + sys.entrySize * (capacity + 1));
      this.timespec = new DataView(memory.buffer, 0, sys.timespecSize);
      this.timespecAddress = memory.address;
      this.ctl = new Int32Array(memory.buffer, ctlAt, 1);
      this.ctlAddress = memory.address + BigInt(ctlAt);
      this.entries = new DataView(memory.buffer, entriesAt);
      this.entriesAddress = memory.address + BigInt(entriesAt);
    }
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

export interface WatcherStats {
  /** 'waitv' (futex_waitv), 'fallback' (one FUTEX_WAIT per word), or 'none' before the first wait. */
  mode: Kind | 'none';
  /** The most calls in libuv's pool at once. */
  cap: number;
  /** Pending waits, distinct (word, expected) groups, shards with groups, calls in flight, shards polled for want of a slot. */
  waits: number;
  groups: number;
  shards: number;
  running: number;
  queued: number;
  /** Calls issued, returns, control-word wakes, since the start. */
  calls: number;
  returns: number;
  interrupts: number;
}

export interface WatcherConfig {
  /** 'auto' (futex_waitv where the kernel has it) or 'fallback' (force the FUTEX_WAIT fallback: for tests). */
  engine?: 'auto' | 'fallback';
  /** The most calls in the pool at once (default: half of UV_THREADPOOL_SIZE, rounded down; 0: poll every word). */
  cap?: number;
  /** Entries per futex_waitv call besides the control word (default FUTEX_WAITV_MAX - 1: for tests). */
  shardSize?: number;
  /** The timeout of a futex_waitv call (default PERIODIC_MS, PERIODIC_WORKER_MS in a worker). */
  periodicMs?: number;
}

class Watcher {
  readonly mode: Kind;
  readonly cap: number;
  private readonly abi: Abi;
  private readonly waitv: FutexWaitvSyscall | undefined;
  private readonly shardSize: number;
  private readonly periodicMs: number;
  /** The futex_waitv shards ever made (kept and refilled; the exit listener wakes them all); none in the fallback. */
  private shards: Shard[] = [];
  private readonly groups = new Map<string, Group>();
  private readonly signals = new Map<AbortSignal, SignalWaits>();
  private queue: Shard[] = [];
  private running = 0;
  /** When every wait last checked that its segment is attached. */
  private lastSweep = performance.now();
  private waitCount = 0;
  private stopped = false;
  private readonly dirty = new Set<Shard>();
  private flushQueued = false;
  private readonly counters = { calls: 0, returns: 0, interrupts: 0 };
  private readonly e: { EAGAIN: number; EINTR: number; ETIMEDOUT: number; ENOSYS: number; EPERM: number };
  private readonly k: { FUTEX_WAIT: number; FUTEX_WAKE: number; FUTEX_PRIVATE_FLAG: number; CLOCK_MONOTONIC: number };
  /** Relative timespecs of the fallback (never freed: a call in flight reads its own). */
  /** The fallback's FUTEX_WAIT timeout (FALLBACK_SLICE_MS), in memory never freed: a call in flight reads it. */
  private fallbackSlice: Uint8Array | undefined;

  constructor(config: WatcherConfig) {
    this.abi = getAbi();
    const { errno, constants } = this.abi;
    this.e = { EAGAIN: errno.EAGAIN, EINTR: errno.EINTR, ETIMEDOUT: errno.ETIMEDOUT, ENOSYS: errno.ENOSYS, EPERM: errno.EPERM };
    this.k = {
      FUTEX_WAIT: constants.FUTEX_WAIT,
      FUTEX_WAKE: constants.FUTEX_WAKE,
      FUTEX_PRIVATE_FLAG: constants.FUTEX_PRIVATE_FLAG,
      CLOCK_MONOTONIC: constants.CLOCK_MONOTONIC,
    };
    this.cap = config.cap ?? defaultCap();
    this.periodicMs = config.periodicMs ?? (isMainThread ? PERIODIC_MS : PERIODIC_WORKER_MS);
    const sys = futexWaitvSyscall();
    // nr_futexes 0 is EINVAL where the syscall exists; ENOSYS where it does not (qemu-user, old kernels), EPERM
    // under some seccomp filters. Anything but EINVAL: the fallback.
    const usable = config.engine !== 'fallback' && sys.call(0n, 0, null, 0) === -errno.EINVAL;
    this.mode = usable ? 'waitv' : 'fallback';
    this.waitv = usable ? sys : undefined;
    this.shardSize = usable ? Math.max(1, Math.min(config.shardSize ?? sys.maxEntries - 1, sys.maxEntries - 1)) : 1;
  }

  stats(): WatcherStats {
    return {
      mode: this.mode,
      cap: this.cap,
      waits: this.waitCount,
      groups: this.groups.size,
      shards: this.mode === 'waitv' ? this.shards.filter((s) => s.groups.length > 0).length : this.groups.size,
      running: this.running,
      queued: this.queue.length,
      ...this.counters,
    };
  }

  watch(request: WatchRequest): Promise<WatchResult> {
    return new Promise<WatchResult>((resolve, reject) => {
      const key = `${request.address}/${request.expected}`;
      let group = this.groups.get(key);
      if (group === undefined) {
        group = new Group(key, request.view, request.index, request.address, request.expected, request.operation);
        this.groups.set(key, group);
        this.place(group);
      }
      const wait: Wait = {
        group,
        buffer: request.view.buffer,
        resolve,
        reject,
        detached: request.detached,
        timer: undefined,
        deadline: request.timeoutMs === Infinity ? Infinity : performance.now() + request.timeoutMs,
        signal: request.signal,
      };
      group.waits.add(wait);
      this.waitCount++;
      if (request.signal) this.listen(request.signal, wait, request.operation);
      if (wait.deadline !== Infinity) wait.timer = new DeadlineTimer(wait.deadline, () => this.settle(wait, 'timed-out'));
    });
  }

  private listen(signal: AbortSignal, wait: Wait, operation: string): void {
    let entry = this.signals.get(signal);
    if (entry === undefined) {
      const waits = new Set<Wait>();
      const listener = () => {
        for (const w of [...waits]) this.settle(w, undefined, abortError(operation, signal));
      };
      entry = { waits, listener };
      this.signals.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    entry.waits.add(wait);
  }

  private unlisten(signal: AbortSignal, wait: Wait): void {
    const entry = this.signals.get(signal);
    if (entry === undefined || !entry.waits.delete(wait) || entry.waits.size > 0) return;
    this.signals.delete(signal);
    signal.removeEventListener('abort', entry.listener);
  }

  private settle(wait: Wait, result: WatchResult | undefined, error?: Error): void {
    const group = wait.group;
    if (!group.waits.delete(wait)) return;
    this.waitCount--;
    wait.timer?.cancel();
    if (wait.signal) this.unlisten(wait.signal, wait);
    if (group.waits.size === 0) this.remove(group);
    if (error) wait.reject(error);
    else wait.resolve(result!);
  }

  /** Ends every wait of a group; a wait whose segment was detached gets ERR_SHM_DETACHED (one look per buffer). */
  private settleGroup(group: Group, result: WatchResult | undefined, error?: Error): void {
    let buffer: ArrayBufferLike | undefined;
    let attached = true;
    for (const wait of [...group.waits]) {
      if (wait.buffer !== buffer) {
        buffer = wait.buffer;
        attached = wait.detached() === undefined;
      }
      if (!attached) this.settle(wait, undefined, wait.detached());
      else this.settle(wait, result, error);
    }
  }

  // --- the set -------------------------------------------------------------------------------------------------

  /**
   * Puts a new group in a shard with room: one whose call is in the pool first (futex_waitv: the call is woken and
   * issued again with it), else one that is not, else a new one. A fallback call cannot be woken: its shard is
   * never chosen while in flight.
   */
  private place(group: Group): void {
    const room = (s: Shard) => s.groups.length < s.capacity;
    // A fallback shard watches one word and holds no native memory: a new one each time (finding a free one among
    // thousands would cost a scan per wait). futex_waitv shards are kept and refilled.
    let shard = this.mode === 'waitv' ? (this.shards.find((s) => s.inFlight && room(s)) ?? this.shards.find(room)) : undefined;
    if (shard === undefined) {
      shard = new Shard(this.mode, this.shardSize, this.waitv);
      if (this.mode === 'waitv') this.shards.push(shard);
    }
    shard.groups.push(group);
    group.shard = shard;
    this.touch(shard);
  }

  private remove(group: Group): void {
    group.live = false;
    this.groups.delete(group.key);
    const shard = group.shard!;
    group.shard = undefined;
    const i = shard.groups.indexOf(group);
    const last = shard.groups.pop()!;
    if (last !== group) shard.groups[i] = last;
    this.touch(shard);
  }

  /** The shard's set changed: its call returns and is issued again, once per tick. */
  private touch(shard: Shard): void {
    shard.stale = true;
    this.dirty.add(shard);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.stopped) return;
    this.compact();
    let emptied = false;
    let queued = false;
    for (const shard of this.dirty) {
      // A call in flight returns for its new set, unless it was issued again with that set already (returned()).
      if (shard.inFlight) {
        if (shard.stale) this.interrupt(shard);
      } else if (shard.groups.length > 0) queued = this.enqueue(shard) || queued;
      else if (shard.queued) {
        shard.queued = false;
        emptied = true;
      }
    }
    this.dirty.clear();
    if (emptied) this.queue = this.queue.filter((s) => s.queued);
    this.startQueued();
    // Shards left waiting for a pool slot: their words are polled, soon when some are new.
    if (this.queue.length > 0 && (queued || this.pollTimer === undefined)) this.pollSoon();
  }

  /**
   * futex_waitv only: moves polled groups (of queued shards) into the calls in the pool that have room, and the
   * groups of the emptiest call in the pool into the others when they can take them all (its pool thread is then
   * free): fragmentation left by waits that ended does not hold pool threads or keep words polled.
   */
  private compact(): void {
    if (this.mode !== 'waitv') return;
    const running = this.shards.filter((s) => s.inFlight && s.groups.length > 0);
    if (running.length === 0) return;
    const move = (from: Shard, to: Shard) => {
      const group = from.groups.pop()!;
      to.groups.push(group);
      group.shard = to;
      from.stale = to.stale = true;
      this.dirty.add(from).add(to);
    };
    let t = 0;
    for (const from of this.queue) {
      while (from.groups.length > 0) {
        while (t < running.length && running[t].groups.length >= running[t].capacity) t++;
        if (t === running.length) return;
        move(from, running[t]);
      }
    }
    if (running.length < 2) return;
    running.sort((a, b) => a.groups.length - b.groups.length);
    const [emptiest, ...others] = running;
    const room = others.reduce((sum, s) => sum + s.capacity - s.groups.length, 0);
    if (emptiest.groups.length > room) return;
    for (const to of others) while (emptiest.groups.length > 0 && to.groups.length < to.capacity) move(emptiest, to);
  }

  /** Returns whether the shard was not queued yet. */
  private enqueue(shard: Shard): boolean {
    if (shard.queued) return false;
    shard.queued = true;
    this.queue.push(shard);
    return true;
  }

  /** Issues the calls of queued shards while the pool has room. */
  private startQueued(): void {
    while (this.running < this.cap && this.queue.length > 0) {
      const shard = this.queue.shift()!;
      shard.queued = false;
      if (shard.groups.length > 0 && !shard.inFlight) this.issue(shard);
    }
  }

  // --- polling of the queued shards' words -------------------------------------------------------------------

  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private pollMs = POLL_MIN_MS;

  /** (Re)starts the polling at its shortest interval. */
  private pollSoon(): void {
    this.pollMs = POLL_MIN_MS;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    this.schedulePoll();
  }

  private schedulePoll(): void {
    this.pollTimer = setTimeout(() => this.poll(), this.pollMs);
    // The calls in flight keep the process alive (shards are queued only while the pool holds `cap` of them); with
    // a cap of 0 nothing is in flight, and the timer does it.
    if (this.running > 0) this.pollTimer.unref();
  }

  private poll(): void {
    this.pollTimer = undefined;
    if (this.stopped || this.queue.length === 0) return;
    let changed = false;
    for (const shard of this.queue) {
      for (let i = shard.groups.length - 1; i >= 0; i--) {
        const group = shard.groups[i];
        if (group === undefined || !group.live) continue;
        if (this.look(group)) changed = true;
        else group.slept = true; // watched while it held the expected value: a change from now on is 'ok'
      }
    }
    if (this.queue.length === 0) return;
    this.pollMs = changed ? POLL_MIN_MS : Math.min(this.pollMs * 2, POLL_MAX_MS);
    if (this.running === 0) this.sweepIfDue(); // no call returns to do it
    this.schedulePoll();
  }

  /** Bumps the control word and wakes it: the shard's call returns (EAGAIN if it was not asleep yet). */
  private interrupt(shard: Shard): void {
    if (shard.kind !== 'waitv' || shard.interrupted) return;
    shard.interrupted = true;
    this.counters.interrupts++;
    Atomics.add(shard.ctl!, 0, 1);
    futexSyscall().call(shard.ctlAddress, this.k.FUTEX_WAKE | this.k.FUTEX_PRIVATE_FLAG, 1, null);
  }

  // --- calls ---------------------------------------------------------------------------------------------------

  private issue(shard: Shard): void {
    const ms = shard.kind === 'waitv' ? this.periodicMs : FALLBACK_SLICE_MS;
    shard.inFlight = true;
    shard.interrupted = false;
    this.running++;
    this.counters.calls++;
    const done = (r: number, failure?: Error) => this.returned(shard, r, failure);
    try {
      if (shard.kind === 'waitv') {
        const sys = this.waitv!;
        if (shard.stale) {
          shard.issued = shard.groups.slice();
          for (let i = 0; i < shard.issued.length; i++) {
            const g = shard.issued[i];
            sys.writeEntry(shard.entries!, i + 1, g.expected, g.address, sys.FUTEX_32); // shared: no FUTEX2_PRIVATE
          }
          shard.stale = false;
        }
        // The control word's current value: a bump before the kernel compares it makes the call EAGAIN at once.
        sys.writeEntry(shard.entries!, 0, Atomics.load(shard.ctl!, 0), shard.ctlAddress, sys.FUTEX_32 | sys.FUTEX2_PRIVATE);
        sys.writeTimespec(shard.timespec!, 0, process.hrtime.bigint() + BigInt(ms) * 1_000_000n);
        sys.callAsync(shard.entriesAddress, shard.issued.length + 1, shard.timespecAddress, this.k.CLOCK_MONOTONIC, done);
      } else {
        const group = shard.groups[0];
        shard.issued = [group];
        shard.stale = false;
        futexSyscall().callAsync(group.address, this.k.FUTEX_WAIT, group.expected, this.fallbackTimespec(), done);
      }
    } catch (error) {
      // koffi could not queue the call (e.g. too many async calls of other code in flight).
      queueMicrotask(() => done(-1, error instanceof Error ? error : new Error(String(error))));
    }
  }

  private fallbackTimespec(): Uint8Array {
    if (this.fallbackSlice === undefined) {
      const bytes = this.abi.encodeTimespec(FALLBACK_SLICE_MS);
      this.fallbackSlice = new Uint8Array(permanentMemory(bytes.length).buffer);
      this.fallbackSlice.set(bytes);
    }
    return this.fallbackSlice;
  }

  private returned(shard: Shard, r: number, failure: Error | undefined): void {
    shard.inFlight = false;
    this.running--;
    this.counters.returns++;
    if (this.stopped) return;
    const e = this.e;
    const issued = shard.issued;
    let woken: Group | undefined;
    let error: Error | undefined = failure;
    if (!failure) {
      if (r >= 0) {
        // waitv: r is the woken entry (0: the control word); fallback: 0 is a wake.
        woken = shard.kind === 'waitv' ? (r > 0 ? issued[r - 1] : undefined) : issued[0];
        markSlept(issued);
      } else if (-r === e.ETIMEDOUT || -r === e.EINTR) {
        markSlept(issued);
      } else if (-r !== e.EAGAIN) {
        error = this.callError(shard, -r);
      }
    }
    if (error) {
      for (const group of [...shard.groups]) this.settleGroup(group, undefined, error);
    } else if (woken?.live) {
      this.settleGroup(woken, 'ok');
    }
    this.recheck(shard.groups);
    // Every wait checks its segment at least once per periodicMs (a call returns on its timeout that often).
    this.sweepIfDue();
    // The same call again, or nothing left to watch: the pool slot goes to a queued shard.
    if (shard.groups.length > 0) this.issue(shard);
    else this.startQueued();
  }

  /**
   * An errno other than the expected ones (EFAULT, EINVAL: not seen in practice; ENOSYS or EPERM after the probe
   * said the syscall works, e.g. a seccomp filter installed later): the shard's waits fail with it.
   */
  private callError(shard: Shard, errnoValue: number): Error {
    const syscall = shard.kind === 'waitv' ? 'futex_waitv' : 'futex';
    const words = shard.issued.map((g) => `0x${g.address.toString(16)}`).join(', ');
    return errnoError({ syscall, call: `${syscall}(${words})`, operation: shard.issued[0]?.operation ?? 'waitAsync' }, errnoValue);
  }

  private sweepIfDue(): void {
    const now = performance.now();
    if (now - this.lastSweep < this.periodicMs / 2) return;
    this.lastSweep = now;
    this.sweep();
  }

  /** Ends the waits whose segment was detached: one look per buffer (waits on one segment share the answer). */
  private sweep(): void {
    const attached = new Map<ArrayBufferLike, boolean>();
    for (const group of this.groups.values()) {
      for (const wait of group.waits) {
        let ok = attached.get(wait.buffer);
        if (ok === undefined) attached.set(wait.buffer, (ok = wait.detached() === undefined));
        if (!ok) this.settle(wait, undefined, wait.detached());
      }
    }
  }

  /** Reads each group's word: a changed word ends its waits ('ok' once slept, else 'not-equal'; or detached). */
  private recheck(groups: readonly Group[]): void {
    // Backwards: settling a group removes it by moving the last one into its place, one already read.
    for (let i = groups.length - 1; i >= 0; i--) {
      const group = groups[i];
      if (group?.live) this.look(group);
    }
  }

  /**
   * Reads a group's word once: a changed word ends its waits ('ok' once slept, else 'not-equal'). A view whose
   * buffer was moved away (ArrayBuffer.prototype.transfer) has no word left to read: its waits end with their
   * error (what wordAddress says of such a view), not with an exception in a koffi callback or a timer. Returns
   * whether the waits ended.
   */
  private look(group: Group): boolean {
    if (group.index >= group.view.length) {
      this.settleGroup(group, undefined, new RangeError('waitAsync: the buffer of the watched word was moved away'));
      return true;
    }
    if (Atomics.load(group.view, group.index) === group.expected) return false;
    this.settleGroup(group, group.slept ? 'ok' : 'not-equal');
    return true;
  }

  /** At process exit: no call is issued any more, and every call in flight returns now. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    for (const shard of this.shards) {
      shard.interrupted = false;
      this.interrupt(shard);
    }
  }
}

function markSlept(groups: readonly Group[]): void {
  for (const group of groups) group.slept = true;
}

/**
 * Half of libuv's pool (UV_THREADPOOL_SIZE, default 4, as libuv reads it), rounded down: a pool of one thread is
 * left alone (every word is polled), since a call holding it would stall every fs call behind it.
 */
function defaultCap(): number {
  const size = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10);
  const pool = Number.isFinite(size) && size > 0 ? Math.min(size, 1024) : 4;
  return Math.floor(pool / 2);
}

let watcher: Watcher | undefined;
let config: WatcherConfig = {};
let exitListener = false;

/** Watches view[index] (at `address`) while it holds `expected`: what waitAsync does once the word was checked. */
export function watchWord(request: WatchRequest): Promise<WatchResult> {
  if (watcher === undefined) {
    watcher = new Watcher(config);
    if (!exitListener) {
      exitListener = true;
      process.on('exit', () => watcher?.stop());
    }
  }
  return watcher.watch(request); // waitAsync rejected an already aborted signal before anything
}

/** How the watcher of this thread is doing (for tests and benchmarks). */
export function wordWatcherStats(): WatcherStats {
  if (watcher) return watcher.stats();
  return { mode: 'none', cap: config.cap ?? defaultCap(), waits: 0, groups: 0, shards: 0, running: 0, queued: 0, calls: 0, returns: 0, interrupts: 0 };
}

/**
 * Sets how the next watcher is made (tests and benchmarks: force the fallback, a smaller shard or cap). Only
 * before the first waitAsync of the thread, or when none is pending (the old watcher is stopped, its calls end).
 */
export function configureWordWatcher(next: WatcherConfig): void {
  if (watcher && watcher.stats().waits > 0) throw new Error('configureWordWatcher: waits are pending');
  watcher?.stop();
  watcher = undefined;
  config = { ...next };
}
