// Design A: one waiting engine per process. Every pending wait is a slot in a SharedArrayBuffer table; a waiter
// thread per shard of 127 slots sleeps in futex_waitv on those words plus a control word, and reports changed
// words to the main thread. No libuv pool thread is held; timeouts are main-thread timers; aborts are listeners.
import { Worker } from 'node:worker_threads';
import { CTL, SLOT, SYS, FUTEX_WAKE, FUTEX_PRIVATE_FLAG, FUTEX_WAITV_MAX } from './layout.mjs';
import { koffi, syscall } from './ffi.mjs';

const WORKER_URL = new URL('./waiter-worker.mjs', import.meta.url);

function abortError(signal) {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason });
}

class Shard {
  constructor(engine, index) {
    this.engine = engine;
    this.index = index;
    this.slots = engine.slotsPerShard;
    this.ctl = new Int32Array(new SharedArrayBuffer(CTL.LENGTH * 4));
    this.table = new Int32Array(new SharedArrayBuffer(this.slots * SLOT.WORDS * 4));
    this.times = new BigInt64Array(new SharedArrayBuffer(16)); // diagnostics, written by the worker
    this.ctlAddr = koffi.address(this.ctl);
    this.recs = new Array(this.slots).fill(null);
    this.free = [];
    for (let s = this.slots - 1; s >= 0; s--) this.free.push(s);
    this.needWake = false;
    this.startedAt = performance.now();
    this.worker = new Worker(WORKER_URL, {
      execArgv: [], // the worker is plain ESM: no tsx loader in it
      workerData: {
        ctlSab: this.ctl.buffer,
        slotsSab: this.table.buffer,
        bellSab: engine.bell.buffer,
        timeSab: this.times.buffer,
        slots: this.slots,
        report: engine.report,
        forcePoll: engine.forcePoll,
        pollMs: engine.pollMs,
        lingerUs: engine.lingerUs,
      },
    });
    this.worker.on('message', (m) => {
      if (Array.isArray(m)) engine._onPortReport(this, m);
      else if (m && m.error) engine._onWorkerError(this, m.error);
    });
    this.worker.on('error', (e) => engine._onWorkerError(this, e));
    if (engine.pending === 0 || index > 0) this.worker.unref();
  }

  /** Writes one slot under the seqlock (GEN odd while writing). */
  arm(s, addr, expected) {
    const t = this.table;
    const o = s * SLOT.WORDS;
    Atomics.add(this.ctl, CTL.GEN, 1);
    const seq = (t[o + SLOT.SEQ] + 1) | 0;
    t[o + SLOT.SEQ] = seq;
    t[o + SLOT.EXPECTED] = expected;
    t[o + SLOT.ADDR_LO] = Number(addr & 0xffffffffn) | 0;
    t[o + SLOT.ADDR_HI] = Number(addr >> 32n) | 0;
    t[o + SLOT.STATE] = 1;
    Atomics.add(this.ctl, CTL.GEN, 1);
    return seq;
  }

  /** Disarms a slot. Lazy: the worker is not woken for it (it drops the slot at its next look at the table). */
  disarm(s) {
    const t = this.table;
    const o = s * SLOT.WORDS;
    Atomics.add(this.ctl, CTL.GEN, 1);
    t[o + SLOT.STATE] = 0;
    t[o + SLOT.SEQ] = (t[o + SLOT.SEQ] + 1) | 0;
    Atomics.add(this.ctl, CTL.GEN, 1);
    this.free.push(s);
  }

  quit() {
    Atomics.store(this.ctl, CTL.QUIT, 1);
    Atomics.add(this.ctl, CTL.GEN, 2);
    this.engine._wake(this);
  }
}

export class WaitEngine {
  constructor({ report = 'atomics', forcePoll = false, pollMs = 5, slotsPerShard, exitHook = true, lingerUs = 0 } = {}) {
    this.lingerUs = lingerUs;
    this.report = report; // 'atomics': Atomics.waitAsync on a SAB word; 'port': a MessagePort message
    this.forcePoll = forcePoll;
    this.pollMs = pollMs;
    this.slotsPerShard = slotsPerShard ?? (forcePoll ? 4096 : FUTEX_WAITV_MAX - 1);
    this.bell = new Int32Array(new SharedArrayBuffer(16));
    this.bellSeen = 0;
    this.shards = [];
    this.byKey = new Map(); // "address/expected" -> slot record (waits on the same word and value share a slot)
    this.bases = new WeakMap(); // ArrayBuffer -> its address
    this.pending = 0;
    this.flushQueued = false;
    this.counters = { wakeSyscalls: 0, reports: 0, armed: 0, shared: 0 };
    this.sys = syscall();
    this._onBell = () => {
      this.bellSeen = Atomics.load(this.bell, 0);
      this._processDirty();
      this._armBell();
    };
    this._flush = () => {
      this.flushQueued = false;
      for (const shard of this.shards) {
        if (!shard.needWake) continue;
        shard.needWake = false;
        if (Atomics.load(shard.ctl, CTL.SLEEPING) === 1) this._wake(shard);
      }
    };
    this._timeout = (w) => this._settle(w, 'timed-out');
    if (report === 'atomics') this._armBell();
    if (exitHook) {
      // Node joins worker threads at exit (process.exit() included): a thread asleep in a syscall must be woken.
      process.on('exit', () => this.close({ wait: true }));
    }
  }

  /** Starts the first waiter thread (if none) and resolves once every waiter thread is in its loop. */
  async ready() {
    if (this.shards.length === 0) this._shardWithRoom();
    while (!this.shards.every((s) => Atomics.load(s.ctl, CTL.STATUS) !== 0)) await new Promise((r) => setTimeout(r, 5));
  }

  _armBell() {
    const r = Atomics.waitAsync(this.bell, 0, this.bellSeen);
    if (r.async) r.value.then(this._onBell);
    else queueMicrotask(this._onBell);
  }

  _wake(shard) {
    this.counters.wakeSyscalls++;
    this.sys(SYS.futex, shard.ctlAddr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, null, 0, 0);
  }

  _address(view, index) {
    let base = this.bases.get(view.buffer);
    if (base === undefined) {
      base = koffi.address(new Uint8Array(view.buffer));
      this.bases.set(view.buffer, base);
    }
    return base + BigInt(view.byteOffset + index * 4);
  }

  _shardWithRoom() {
    for (const shard of this.shards) if (shard.free.length > 0) return shard;
    const shard = new Shard(this, this.shards.length);
    this.shards.push(shard);
    return shard;
  }

  /**
   * Resolves 'ok' when woken (or the word changed), 'not-equal' when view[index] !== expected now, 'timed-out'
   * after timeoutMs; rejects with an AbortError when `signal` aborts.
   */
  wait(view, index, expected, options) {
    const timeoutMs = options?.timeoutMs ?? Infinity;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const value = expected | 0;
    if (Atomics.load(view, index) !== value) return Promise.resolve('not-equal');
    if (!(timeoutMs > 0)) return Promise.resolve('timed-out');
    const addr = this._address(view, index);
    const key = `${addr}/${value}`;
    let rec = this.byKey.get(key);
    if (rec === undefined) {
      const shard = this._shardWithRoom();
      const s = shard.free.pop();
      rec = { shard, slot: s, seq: shard.arm(s, addr, value), key, waiters: new Set() };
      shard.recs[s] = rec;
      this.byKey.set(key, rec);
      this.counters.armed++;
      shard.needWake = true;
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(this._flush); // one FUTEX_WAKE per shard per tick, however many waits were armed
      }
    } else {
      this.counters.shared++;
    }
    return new Promise((resolve, reject) => {
      const w = { rec, resolve, reject, timer: undefined, signal, onAbort: undefined };
      rec.waiters.add(w);
      if (timeoutMs !== Infinity) w.timer = setTimeout(this._timeout, timeoutMs, w);
      if (signal) {
        w.onAbort = () => this._settle(w, undefined, abortError(signal));
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      if (this.pending++ === 0) this.shards[0]?.worker.ref();
    });
  }

  _settle(w, result, error) {
    const rec = w.rec;
    if (!rec.waiters.delete(w)) return;
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    if (rec.waiters.size === 0) this._release(rec);
    if (--this.pending === 0) for (const shard of this.shards) shard.worker.unref();
    if (error) w.reject(error);
    else w.resolve(result);
  }

  _release(rec) {
    if (rec.shard.recs[rec.slot] !== rec) return;
    rec.shard.recs[rec.slot] = null;
    this.byKey.delete(rec.key);
    rec.shard.disarm(rec.slot);
  }

  _fire(rec) {
    for (const w of [...rec.waiters]) this._settle(w, 'ok');
  }

  /** Atomics mode: the worker bumped the bell; look at the shards it marked dirty. */
  _processDirty() {
    this.counters.reports++;
    for (const shard of this.shards) {
      if (Atomics.exchange(shard.ctl, CTL.DIRTY, 0) === 0) continue;
      const t = shard.table;
      for (let s = 0; s < shard.slots; s++) {
        const rec = shard.recs[s];
        if (rec !== null && Atomics.load(t, s * SLOT.WORDS + SLOT.FIRED) === rec.seq) this._fire(rec);
      }
    }
  }

  /** Port mode: the message lists [slot, seq, slot, seq, ...]. */
  _onPortReport(shard, list) {
    this.counters.reports++;
    for (let i = 0; i < list.length; i += 2) {
      const rec = shard.recs[list[i]];
      if (rec !== null && rec.seq === list[i + 1]) this._fire(rec);
    }
  }

  _onWorkerError(shard, error) {
    const e = typeof error === 'number' ? new Error(`waiter thread ${shard.index}: errno ${error}`) : error;
    for (const rec of shard.recs) if (rec) for (const w of [...rec.waiters]) this._settle(w, undefined, e);
  }

  stats() {
    return {
      ...this.counters,
      pending: this.pending,
      slots: this.byKey.size,
      shards: this.shards.map((s) => ({
        status: s.ctl[CTL.STATUS],
        used: s.slots - s.free.length,
        returns: s.ctl[CTL.RETURNS],
        reports: s.ctl[CTL.REPORTS],
        snapshots: s.ctl[CTL.SNAPSHOTS],
      })),
    };
  }

  /**
   * Wakes every waiter thread and lets it end. At exit (`wait`), blocks until each has left its loop (STATUS 3),
   * at most `boundMs`: Node terminates workers right after the 'exit' listeners, and a koffi call cut short by
   * that termination aborts the process. Returns the ms spent waiting.
   */
  close({ wait = false, boundMs = 2000 } = {}) {
    for (const shard of this.shards) shard.quit();
    if (!wait) return 0;
    const t0 = performance.now();
    const deadline = t0 + boundMs;
    for (const shard of this.shards) {
      for (;;) {
        const status = Atomics.load(shard.ctl, CTL.STATUS);
        if (status === 3 || status < 0) break;
        const left = deadline - performance.now();
        if (left <= 0) break;
        Atomics.wait(shard.ctl, CTL.STATUS, status, left);
      }
    }
    this.exitWaitMs = performance.now() - t0;
    return this.exitWaitMs;
  }
}
