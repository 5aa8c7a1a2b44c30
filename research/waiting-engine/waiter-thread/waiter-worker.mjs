// The waiter thread of one shard: sleeps in futex_waitv on the shard's control word plus up to 127 segment words,
// and reports to the main thread which words changed (or were woken). No timeouts here: the main thread owns time.
import { parentPort, workerData } from 'node:worker_threads';
import {
  CTL, SLOT, SYS, FUTEX_32, FUTEX2_PRIVATE, FUTEX_WAIT, FUTEX_PRIVATE_FLAG,
  EAGAIN, EINTR, EINVAL, ENOSYS, EPERM, ETIMEDOUT,
} from './layout.mjs';

const { ctlSab, slotsSab, bellSab, timeSab, slots: SLOTS, report: reportMode, forcePoll, pollMs, lingerUs = 0 } = workerData;
const ctl = new Int32Array(ctlSab);
const times = new BigInt64Array(timeSab); // diagnostics: [0] hrtime of the last syscall return, [1] of the last report

function setStatus(value) {
  Atomics.store(ctl, CTL.STATUS, value);
  Atomics.notify(ctl, CTL.STATUS); // the main thread may be waiting for it at exit
}

// koffi aborts the process (node-addon-api "Error::ThrowAsJavaScriptException napi_throw") when one of its calls
// fails in a thread that Node is terminating. So: no koffi before the first QUIT check, and at exit the main
// thread waits for STATUS 3 (set below, outside any koffi call) before Node terminates this thread.
if (Atomics.load(ctl, CTL.QUIT)) {
  setStatus(3);
} else {
  const { koffi, syscall, errno } = await import('./ffi.mjs');
  run(koffi, syscall, errno);
}

function run(koffi, syscall, errno) {
const table = new Int32Array(slotsSab);
const bell = new Int32Array(bellSab);
const sys = syscall();
const ctlAddr = koffi.address(ctl); // &ctl[GEN]

// The waitv array: entry 0 is the control word, entries 1..n the armed slots. 24 bytes per entry.
const waitv = new BigUint64Array(3 * (SLOTS + 1));
const entrySlot = new Int32Array(SLOTS + 1); // waitv index -> slot
const entrySeq = new Int32Array(SLOTS + 1);
const entryExpected = new Int32Array(SLOTS + 1);
waitv[1] = ctlAddr;
waitv[2] = BigInt(FUTEX_32 | FUTEX2_PRIVATE); // the SharedArrayBuffer is this process's memory only
let entries = 1;
// Slots reported and not yet taken back by main: never re-armed under the same seq (a changed word would spin).
const reported = new Map(); // slot -> seq

// Reading a watched word from this thread: a koffi view per page, kept (the library never unmaps a range an
// ArrayBuffer was made over: a detached segment becomes a placeholder mapping, so these reads cannot fault).
const pages = new Map();

// Per-slot cache of what a slot's (seq) arming decodes to: BigInt work and the page lookup happen once per arming.
const cachedSeq = new Int32Array(SLOTS).fill(-1);
const cachedAddr = new Array(SLOTS);
const cachedView = new Array(SLOTS);
const cachedIndex = new Int32Array(SLOTS);
const cachedVal = new Array(SLOTS);
const entryView = new Array(SLOTS + 1);
const entryIndex = new Int32Array(SLOTS + 1);
const FLAGS_SHARED = BigInt(FUTEX_32); // shared futex: no FUTEX2_PRIVATE for segment memory

/** Re-reads the slot table under the seqlock; returns the generation it is consistent with. */
function snapshot() {
  for (;;) {
    const g = Atomics.load(ctl, CTL.GEN);
    if (g & 1) continue; // main is writing: it finishes in nanoseconds (a synchronous block)
    let n = 1;
    for (let s = 0; s < SLOTS; s++) {
      const o = s * SLOT.WORDS;
      if (table[o + SLOT.STATE] !== 1) {
        if (reported.size !== 0) reported.delete(s);
        continue;
      }
      const seq = table[o + SLOT.SEQ];
      if (reported.size !== 0) {
        const r = reported.get(s);
        if (r !== undefined) {
          if (r === seq) continue; // already reported under this arming
          reported.delete(s);
        }
      }
      const expected = table[o + SLOT.EXPECTED];
      if (cachedSeq[s] !== seq) {
        const addr = (BigInt(table[o + SLOT.ADDR_HI] >>> 0) << 32n) | BigInt(table[o + SLOT.ADDR_LO] >>> 0);
        cachedAddr[s] = addr;
        cachedVal[s] = BigInt(expected >>> 0); // u32 zero-extended: a sign-extended value is EINVAL
        const page = addr & ~4095n;
        let view = pages.get(page);
        if (view === undefined) {
          view = new Int32Array(koffi.view(page, 4096));
          pages.set(page, view);
        }
        cachedView[s] = view;
        cachedIndex[s] = Number(addr - page) >> 2;
        cachedSeq[s] = seq;
      }
      const e = 3 * n;
      waitv[e] = cachedVal[s];
      waitv[e + 1] = cachedAddr[s];
      waitv[e + 2] = FLAGS_SHARED;
      entrySlot[n] = s;
      entrySeq[n] = seq;
      entryExpected[n] = expected;
      entryView[n] = cachedView[s];
      entryIndex[n] = cachedIndex[s];
      n++;
    }
    if (Atomics.load(ctl, CTL.GEN) !== g) {
      cachedSeq.fill(-1); // a torn read may have been cached
      continue;
    }
    Atomics.add(ctl, CTL.SNAPSHOTS, 1);
    entries = n;
    waitv[0] = BigInt(g >>> 0);
    return g;
  }
}

const fired = [];
function fire(n) {
  const s = entrySlot[n];
  Atomics.store(table, s * SLOT.WORDS + SLOT.FIRED, entrySeq[n]);
  reported.set(s, entrySeq[n]);
  fired.push(s, entrySeq[n]);
}

function flushReports() {
  if (fired.length === 0) return;
  Atomics.add(ctl, CTL.REPORTS, 1);
  Atomics.store(ctl, CTL.DIRTY, 1);
  Atomics.store(times, 1, process.hrtime.bigint());
  if (reportMode === 'port') {
    parentPort.postMessage(fired);
  } else {
    Atomics.add(bell, 0, 1);
    Atomics.notify(bell, 0);
  }
  fired.length = 0;
}

/** The entries whose word no longer holds the expected value (after EAGAIN). */
function scan() {
  for (let n = 1; n < entries; n++) {
    if (reported.get(entrySlot[n]) === entrySeq[n]) continue; // already fired in this round
    if (Atomics.load(entryView[n], entryIndex[n]) !== entryExpected[n]) fire(n);
  }
}

function waitvLoop() {
  for (;;) {
    if (Atomics.load(ctl, CTL.QUIT)) return;
    const g = snapshot();
    Atomics.store(ctl, CTL.SLEEPING, 1);
    // QUIT is checked after GEN was read: main sets QUIT before it bumps GEN, so a wake that came before this
    // thread was asleep is never lost (either GEN differs in the kernel's compare, or QUIT is seen here).
    if (Atomics.load(ctl, CTL.GEN) !== g || Atomics.load(ctl, CTL.QUIT)) {
      Atomics.store(ctl, CTL.SLEEPING, 0);
      continue;
    }
    const r = Number(sys(SYS.futex_waitv, waitv, entries, 0, null, 0, 0));
    const e = r < 0 ? errno() : 0;
    Atomics.store(times, 0, process.hrtime.bigint());
    Atomics.store(ctl, CTL.SLEEPING, 0);
    Atomics.add(ctl, CTL.RETURNS, 1);
    if (r > 0) {
      fire(r);
      // Other words may have changed too: a cheap look at the rest saves a syscall round per word.
      scan();
    } else if (r === 0) {
      continue; // the control word: the slot table changed (or QUIT)
    } else if (e === EAGAIN) {
      if (Atomics.load(ctl, CTL.GEN) !== g) continue;
      scan();
    } else if (e === EINTR) {
      continue;
    } else {
      return e; // ENOSYS, EPERM (seccomp), EINVAL, EFAULT: fatal for this mode
    }
    const reportedNow = fired.length > 0;
    flushReports();
    if (reportedNow && lingerUs > 0) linger();
  }
}

// Optional (lingerUs > 0): after a report, stay awake a little, watching the control word and the other words.
// The main thread's re-arm then needs no FUTEX_WAKE (SLEEPING is 0), and a word that changes meanwhile is seen
// without a kernel wake-up. Costs CPU only after activity; an idle process still sleeps.
function linger() {
  const g0 = Atomics.load(ctl, CTL.GEN);
  const until = performance.now() + lingerUs / 1000;
  for (let i = 0; ; i++) {
    if (Atomics.load(ctl, CTL.GEN) !== g0 || Atomics.load(ctl, CTL.QUIT)) return;
    if ((i & 15) === 0) {
      scan();
      if (fired.length > 0) flushReports();
      if (performance.now() > until) return;
    }
  }
}

// The fallback for kernels without futex_waitv: FUTEX_WAIT on the control word with a timeout, reading every
// watched word between sleeps. A notify that does not change the word is not seen; latency <= pollMs.
function pollLoop() {
  const ts = new BigInt64Array(2);
  ts[0] = BigInt(Math.floor(pollMs / 1000));
  ts[1] = BigInt(Math.round((pollMs % 1000) * 1e6));
  for (;;) {
    if (Atomics.load(ctl, CTL.QUIT)) return;
    const g = snapshot();
    scan();
    flushReports();
    Atomics.store(ctl, CTL.SLEEPING, 1);
    if (Atomics.load(ctl, CTL.GEN) !== g || Atomics.load(ctl, CTL.QUIT)) {
      Atomics.store(ctl, CTL.SLEEPING, 0);
      continue;
    }
    // With nothing armed, sleep without a timeout: an idle process stays at 0 CPU.
    const r = Number(sys(SYS.futex, ctlAddr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, g, entries > 1 ? ts : null, 0, 0));
    const e = r < 0 ? errno() : 0;
    Atomics.store(ctl, CTL.SLEEPING, 0);
    Atomics.add(ctl, CTL.RETURNS, 1);
    if (r < 0 && e !== EAGAIN && e !== EINTR && e !== ETIMEDOUT) return e;
  }
}

function probeWaitv() {
  // nr_futexes = 0 is EINVAL where the syscall exists, ENOSYS where it does not (EPERM under some seccomp filters).
  const r = Number(sys(SYS.futex_waitv, null, 0, 0, null, 0, 0));
  return r < 0 ? errno() : 0;
}

let mode = 'waitv';
const probe = probeWaitv();
if (forcePoll || probe === ENOSYS || probe === EPERM) mode = 'poll';
else if (probe !== EINVAL) mode = 'poll';
setStatus(mode === 'waitv' ? 1 : 2);
let failure = mode === 'waitv' ? waitvLoop() : pollLoop();
if (failure !== undefined && mode === 'waitv' && (failure === ENOSYS || failure === EPERM)) {
  setStatus(2);
  failure = pollLoop();
}
if (failure !== undefined) {
  setStatus(-failure);
  parentPort.postMessage({ error: failure });
} else {
  setStatus(3);
}
}
