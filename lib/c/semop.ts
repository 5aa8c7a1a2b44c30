// semop(2) and semtimedop(2): atomic operations on the semaphores of a set.
//
// A blocking call never leaves the thread in the kernel for long: it sleeps in semtimedop slices of at most
// 250 ms and between slices runs the listeners of a pending termination signal (lib/native/signals.ts), so that
// Ctrl-C and kill still end the process. Retrying is exact: a semop that timed out or was interrupted did none
// of its operations. A signal that interrupts a slice (EINTR: System V calls are never restarted) is not an error.
import { libc } from '../native/libc.js';
import { runPendingTerminationListeners } from '../native/signals.js';
import { POLL_SPIN_MS } from './poll-wait.js';
import { errnoError, type ShmError } from './errors.js';
import { describeSemFlags, IPC_INFO, IPC_NOWAIT } from './constants.js';
import { checkSembuf, checkSembufArray, checkSemid, checkSemTimeoutMs, type SembufInput } from '../common/arguments.js';

/** One operation of semop, as C's struct sembuf: sem_flg is IPC_NOWAIT and SEM_UNDO ORed together (0 if absent). */
export type SemOperation = SembufInput;

/** The longest sleep in the kernel between two looks at pending termination signals. */
export const SEM_SLICE_MS = 250;

/** The kernel copies this many operations without allocating; longer arrays are checked against SEMOPM first. */
const SEMOPM_FAST = 64;

interface Prepared {
  semid: number;
  bytes: Uint8Array;
  count: number;
  /** Every operation has IPC_NOWAIT: the call never sleeps. */
  allNoWait: boolean;
  /** Some operation has IPC_NOWAIT: an EAGAIN may be that operation's, not a slice's end. */
  anyNoWait: boolean;
  maxSemNum: number;
  call: string;
  /** The call as semop(2), which run() makes instead when every operation has IPC_NOWAIT. */
  semopCall: string;
  /** The same operations, each with IPC_NOWAIT: the tries before the first sleep (when none had it already). */
  nowaitBytes: Uint8Array | null;
}

function describeOps(ops: readonly { sem_num: number; sem_op: number; sem_flg: number }[]): string {
  const shown = ops.slice(0, 4).map((op) => `{${op.sem_num}, ${op.sem_op}, ${describeSemFlags(op.sem_flg)}}`);
  if (ops.length > shown.length) shown.push(`... ${ops.length} operations`);
  return `[${shown.join(', ')}]`;
}

/** SEMOPM of this IPC namespace (semctl IPC_INFO), or undefined if it cannot be read. */
function semopm(): number | undefined {
  const { abi } = libc();
  const bytes = new Uint8Array(Math.max(abi.sizeof.seminfo, 64));
  if (libc().semctlBuffer(0, 0, IPC_INFO, bytes) < 0) return undefined;
  return abi.decodeSeminfo(bytes).semopm;
}

/** Checks the arguments (before any syscall) and encodes the operations. */
function prepare(syscall: string, semid: unknown, sops: unknown, timeout?: string): Prepared {
  const id = checkSemid(semid);
  const array = checkSembufArray(sops);
  const { abi } = libc();
  // A longer array than the kernel takes is its E2BIG, found before checking or copying each element.
  if (array.length > SEMOPM_FAST) {
    const limit = semopm();
    if (limit !== undefined && array.length > limit) {
      const call = `${syscall}(semid=${id}, [... ${array.length} operations]${timeout ?? ''})`;
      throw errnoError({ syscall, call, semid: id, nsops: array.length }, abi.errno.E2BIG);
    }
  }
  const ops = array.map((op, index) => checkSembuf(op, index));
  const noWait = ops.filter((op) => op.sem_flg & IPC_NOWAIT).length;
  return {
    semid: id,
    bytes: abi.encodeSembufs(ops),
    count: ops.length,
    allNoWait: noWait === ops.length,
    anyNoWait: noWait > 0,
    maxSemNum: ops.reduce((max, op) => Math.max(max, op.sem_num), 0),
    call: `${syscall}(semid=${id}, ${describeOps(ops)}${timeout ?? ''})`,
    semopCall: `semop(semid=${id}, ${describeOps(ops)})`,
    nowaitBytes: noWait === 0 ? abi.encodeSembufs(ops.map((op) => ({ ...op, sem_flg: op.sem_flg | IPC_NOWAIT }))) : null,
  };
}

function failure(name: string, p: Prepared, errnoValue?: number, how: { waited?: boolean; nowait?: boolean } = {}): ShmError {
  const flags = how.nowait ? IPC_NOWAIT : undefined;
  // With IPC_NOWAIT on every operation, run() calls semop(2), whichever function was called: say so.
  const [syscall, call] = p.allNoWait ? ['semop', p.semopCall] : [name, p.call];
  return errnoError({ syscall, call, semid: p.semid, nsops: p.count, maxSemNum: p.maxSemNum, waited: how.waited, flags }, errnoValue);
}

/**
 * Runs the operations, sleeping up to `timeoutMs` (Infinity: no limit) in slices. Returns true when done, false
 * when they would still have to wait at the deadline or an operation with IPC_NOWAIT would have to wait (`nowait`
 * tells which); throws ShmError otherwise.
 */
function run(syscall: string, p: Prepared, timeoutMs: number): { done: true } | { done: false; nowait: boolean } {
  const lib = libc();
  const { errno } = lib.abi;
  if (p.allNoWait) {
    if (lib.semop(p.semid, p.bytes, p.count) === 0) return { done: true };
    const errnoValue = lib.errno();
    if (errnoValue === errno.EAGAIN) return { done: false, nowait: true };
    throw failure(syscall, p, errnoValue, { nowait: true });
  }
  const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
  // First, for POLL_SPIN_MS, tries that do not sleep: a peer on another CPU that releases soon is seen without the
  // cost of a sleep and a wake-up. Exact: a newcomer's semop is tried at once by the kernel too, waiters or not.
  if (p.nowaitBytes && timeoutMs > 0) {
    const spinUntil = performance.now() + Math.min(POLL_SPIN_MS, timeoutMs);
    do {
      if (lib.semop(p.semid, p.nowaitBytes, p.count) === 0) return { done: true };
      const errnoValue = lib.errno();
      if (errnoValue !== errno.EAGAIN && errnoValue !== errno.EINTR) throw failure(syscall, p, errnoValue);
    } while (performance.now() < spinUntil);
  }
  let remaining = deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now());
  for (let round = 0; ; round++) {
    const slice = Math.min(SEM_SLICE_MS, remaining);
    const started = performance.now();
    if (lib.semtimedop(p.semid, p.bytes, p.count, lib.abi.encodeTimespec(slice)) === 0) return { done: true };
    const errnoValue = lib.errno();
    if (errnoValue === errno.EAGAIN) {
      // The kernel's timer never ends a sleep early: an EAGAIN before the slice is over is an IPC_NOWAIT
      // operation's "would have to wait".
      if (p.anyNoWait && performance.now() - started < slice - 0.05) return { done: false, nowait: true };
    } else if (errnoValue === errno.EINVAL && round > 0) {
      // Valid at the previous slice, gone now: removed while we waited (between two slices).
      throw failure(syscall, p, errno.EIDRM, { waited: true });
    } else if (errnoValue !== errno.EINTR) {
      throw failure(syscall, p, errnoValue, { waited: round > 0 });
    }
    runPendingTerminationListeners();
    if (deadline !== Infinity) {
      remaining = deadline - performance.now();
      if (remaining <= 0) return { done: false, nowait: false };
    }
  }
}

/**
 * semop(2): does all the operations at once or none. Without IPC_NOWAIT an operation that cannot be done yet
 * waits (in slices, see above) until it can; with IPC_NOWAIT it fails with EAGAIN. SEM_UNDO operations are undone
 * when the process exits. The set being removed while waiting is EIDRM.
 */
export function semop(semid: number, sops: readonly SemOperation[]): void {
  const p = prepare('semop', semid, sops);
  const outcome = run('semop', p, Infinity);
  if (!outcome.done) throw failure('semop', p, libc().abi.errno.EAGAIN, { nowait: true });
}

/**
 * semtimedop(2): semop that waits at most `timeoutMs` milliseconds (null: no limit). As in C, the timeout is an
 * EAGAIN ShmError (so is an IPC_NOWAIT operation that would have to wait).
 */
export function semtimedop(semid: number, sops: readonly SemOperation[], timeoutMs: number | null): void {
  const timeout = checkSemTimeoutMs(timeoutMs);
  const p = prepare('semtimedop', semid, sops, `, ${timeout === Infinity ? 'NULL' : `${timeoutMs} ms`}`);
  const outcome = run('semtimedop', p, timeout);
  if (!outcome.done) throw failure('semtimedop', p, libc().abi.errno.EAGAIN, { nowait: outcome.nowait });
}

/**
 * For the friendly layer: semtimedop that answers false instead of EAGAIN (the timeout passed, or an IPC_NOWAIT
 * operation would have had to wait); `timeoutMs` Infinity waits without limit, 0 tries once.
 */
export function semopWithin(semid: number, sops: readonly SemOperation[], timeoutMs: number): boolean {
  const timeout = checkSemTimeoutMs(timeoutMs);
  const p = prepare('semtimedop', semid, sops, `, ${timeout === Infinity ? 'NULL' : `${timeoutMs} ms`}`);
  return run('semtimedop', p, timeout).done;
}
