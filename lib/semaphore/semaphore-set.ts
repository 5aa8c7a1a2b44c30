// System V semaphore sets for people: create (initialised with a semop, so openers can tell), open by key, path or
// id, take and give back with SEM_UNDO by default, wait synchronously (semtimedop in slices, in lib/c) or
// asynchronously (IPC_NOWAIT polling on the main thread: lib/sysv-wait/poller.ts), locks for `using`, status.
// Built only on the C-shaped layer (docs/layers.md); the semantics are docs/semaphores.md.
import { inspect } from 'node:util';
import { getAbi } from '../abi/index.js';
import {
  type ShmError,
  errnoError,
  readProcSem,
  semctl,
  semget,
  semop,
  semopWithin,
  pollUntil as pollSync,
  type Attempt,
  stateError,
  GETALL,
  GETNCNT,
  GETPID,
  GETVAL,
  GETZCNT,
  IPC_CREAT,
  IPC_EXCL,
  IPC_NOWAIT,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SEM_UNDO,
  SETALL,
  SETVAL,
} from '../c/index.js';
import { checkMode, checkTimeoutMs, SEMAPHORE_VALUE_MAX } from '../common/arguments.js';
import { hexKey } from '../common/format.js';
import {
  NOT_YET,
  cancelWaits,
  checkBoolean,
  checkOptions,
  checkPermissions,
  checkSignal,
  isCode,
  keyOf,
  pollUntil,
  resolveTarget,
  type KeyOptions,
  type OpenTarget,
} from '../sysv-wait/index.js';
import { SemaphoreLock } from './lock.js';
import { toSemaphoreSetStatus, type SemaphoreSetStatus, type SemaphoreState } from './status.js';

/** The most semaphores a set may have here: sem_num is an unsigned short. The kernel's SEMMSL is lower (32000). */
const MAX_COUNT = 65536;

export interface SemaphoreSetCreateOptions extends KeyOptions {
  /** Number of semaphores; default 1, or the length of `values`. */
  count?: number;
  /** Initial values (0..32767), set before anyone can see the set initialised; default all 0. */
  values?: readonly number[];
  /** Permission bits; default 0o600 (read: look, write: alter). */
  mode?: number;
  /** Fail with EEXIST when the key is taken (IPC_EXCL). Default true; false opens the existing set instead. */
  exclusive?: boolean;
  /** With `exclusive: false`, when the set existed: as open()'s option. */
  waitInitializedMs?: number;
}

export interface SemaphoreSetOpenOptions {
  /**
   * Wait up to this long for the set's creator to initialise it (sem_otime != 0: it made a first semop, as
   * SemaphoreSet.create does); ETIMEDOUT after that. Default 0: no wait (sets made by ipcmk or by C code that only
   * uses SETVAL never get an otime until a first semop).
   */
  waitInitializedMs?: number;
}

export interface AcquireOptions {
  /** Which semaphore; default 0. */
  index?: number;
  /** How much to take, 1..32767; default 1. */
  count?: number;
  /** Give up after this long (acquire then returns false); default no limit. */
  timeoutMs?: number;
  /** SEM_UNDO: the kernel gives it back if this process exits without releasing. Default true. */
  undo?: boolean;
}

export interface ReleaseOptions {
  index?: number;
  count?: number;
  /** SEM_UNDO; default true. Release with the same `undo` as the acquire, or the value drifts at exit. */
  undo?: boolean;
}

export interface WaitForZeroOptions {
  index?: number;
  timeoutMs?: number;
}

/** One operation of operate(): `op` < 0 takes, > 0 gives, 0 waits for zero. */
export interface SemaphoreOperation {
  index: number;
  op: number;
  /** SEM_UNDO; default true for op != 0, as acquire and release. */
  undo?: boolean;
  /** IPC_NOWAIT for this operation: if it would wait, nothing is done and operate() returns false. */
  noWait?: boolean;
}

export interface OperateOptions {
  timeoutMs?: number;
}

export interface SignalOption {
  /** Cancels the wait: the call rejects with an AbortError (cause: the signal's reason) and nothing was done. */
  signal?: AbortSignal;
}

export interface LockOptions {
  index?: number;
  /** Give up after this long: ETIMEDOUT. Default no limit. */
  timeoutMs?: number;
}

interface Op {
  sem_num: number;
  sem_op: number;
  sem_flg: number;
}

function checkWhole(op: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${typeof value} ${String(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${op}: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  return value;
}

function checkValue(op: string, name: string, value: unknown): number {
  return checkWhole(op, name, value, 0, SEMAPHORE_VALUE_MAX);
}

/** Key, size and initialisation of a set by id: IPC_STAT, or /proc/sysvipc/sem when its mode hides it from us. */
function facts(id: number): { key: number; count: number; otime: number } {
  try {
    const ds = semctl(id, 0, IPC_STAT);
    return { key: ds.perm.key, count: ds.nsems, otime: ds.otime };
  } catch (error) {
    if (!isCode(error, 'EACCES')) throw error;
    const row = readProcSem()?.find((r) => r.semid === id);
    if (row === undefined) throw error;
    return { key: row.key, count: row.nsems, otime: row.otime };
  }
}

function groupOf(ops: readonly Op[]): string {
  return ops.map((o) => `${o.sem_num}:${o.sem_op}:${o.sem_flg}`).join(',');
}

export class SemaphoreSet {
  /** The set's id (semid). */
  readonly id: number;
  /** The key it was created or opened with (0 for a private set). */
  readonly key: number;
  /** Number of semaphores (sem_nsems). */
  readonly count: number;
  /** True when this object's call created the set. */
  readonly created: boolean;
  #closed = false;

  private constructor(id: number, key: number, count: number, created: boolean) {
    this.id = id;
    this.key = key | 0; // key_t as C holds it: signed, also when given unsigned (as ipcs prints it)
    this.count = count;
    this.created = created;
  }

  /**
   * Creates a set of `count` semaphores with `values`, and marks it initialised with a first semop (sem_otime set)
   * before returning: an opener with `waitInitializedMs` never sees it half made. Exclusive by default.
   */
  static create(options: SemaphoreSetCreateOptions = {}): SemaphoreSet {
    const op = 'SemaphoreSet.create';
    const o = checkOptions(op, options) as SemaphoreSetCreateOptions;
    const key = keyOf(op, o);
    const mode = checkMode(o.mode ?? 0o600);
    const exclusive = checkBoolean(op, 'exclusive', o.exclusive, true);
    let values: number[] | undefined;
    if (o.values !== undefined) {
      if (!Array.isArray(o.values)) throw new TypeError(`${op}: values must be an array of numbers`);
      values = o.values.map((v, i) => checkValue(op, `values[${i}]`, v));
    }
    const count = checkWhole(op, 'count', o.count ?? values?.length ?? 1, 1, MAX_COUNT);
    if (values !== undefined && values.length !== count) throw new RangeError(`${op}: values has ${values.length} entries for ${count} semaphores`);
    const waitInitializedMs = checkTimeoutMs(op, o.waitInitializedMs, 0);
    let id: number;
    for (;;) {
      try {
        id = semget(key, count, IPC_CREAT | IPC_EXCL | mode);
        break;
      } catch (error) {
        if (exclusive || !isCode(error, 'EEXIST')) throw error;
      }
      // Someone else made it: open theirs (semget checks it has at least `count` semaphores).
      let existing: number;
      try {
        existing = semget(key, count, 0);
      } catch (error) {
        if (isCode(error, 'ENOENT') || isCode(error, 'EIDRM')) continue; // removed meanwhile: create again
        throw error;
      }
      const set = new SemaphoreSet(existing, key, facts(existing).count, false);
      set.#waitInitialized(op, waitInitializedMs);
      return set;
    }
    const set = new SemaphoreSet(id, key, count, true);
    try {
      set.#initialise(values ?? new Array<number>(count).fill(0));
    } catch (error) {
      try {
        semctl(id, 0, IPC_RMID);
      } catch {
        // gone already
      }
      throw error;
    }
    return set;
  }

  /** Opens an existing set by key, by ftok(path, projId), or by id. */
  static open(target: OpenTarget, options: SemaphoreSetOpenOptions = {}): SemaphoreSet {
    const op = 'SemaphoreSet.open';
    const o = checkOptions(op, options) as SemaphoreSetOpenOptions;
    const waitInitializedMs = checkTimeoutMs(op, o.waitInitializedMs, 0);
    const resolved = resolveTarget(op, target, 'semaphore set');
    const id = 'id' in resolved ? resolved.id : semget(resolved.key, 0, 0);
    const { key, count } = facts(id);
    const set = new SemaphoreSet(id, key, count, false);
    set.#waitInitialized(op, waitInitializedMs);
    return set;
  }

  /** The key as ipcs prints it. */
  get keyHex(): string {
    return hexKey(this.key);
  }

  /** Whether close() (or `using`'s dispose) ended this object. */
  get closed(): boolean {
    return this.#closed;
  }

  // The values: GETVAL, GETALL, SETVAL, SETALL. Setting a value clears every process's SEM_UNDO adjustment of it.

  value(index = 0): number {
    const i = this.#index('SemaphoreSet.value', index);
    return semctl(this.id, i, GETVAL);
  }

  values(): number[] {
    this.#check('SemaphoreSet.values');
    return semctl(this.id, 0, GETALL);
  }

  setValue(index: number, value: number): void {
    const op = 'SemaphoreSet.setValue';
    const i = this.#index(op, index);
    semctl(this.id, i, SETVAL, checkValue(op, 'value', value));
  }

  setValues(values: readonly number[]): void {
    const op = 'SemaphoreSet.setValues';
    this.#check(op);
    if (!Array.isArray(values)) throw new TypeError(`${op}: values must be an array of numbers`);
    if (values.length !== this.count) throw new RangeError(`${op}: the set has ${this.count} semaphores, got ${values.length} values`);
    semctl(
      this.id,
      0,
      SETALL,
      values.map((v, i) => checkValue(op, `values[${i}]`, v)),
    );
  }

  // Operations. Each is one atomic semop: all of it is done, or (on a timeout, noWait, an error) none of it.

  /** Takes `count` (default 1) from a semaphore, waiting while its value is lower; false after `timeoutMs`. */
  acquire(options?: AcquireOptions): boolean {
    const op = 'SemaphoreSet.acquire';
    const { ops, timeoutMs } = this.#acquireOps(op, options);
    return this.#run(op, ops, timeoutMs);
  }

  /** acquire() without waiting: true if taken now. */
  tryAcquire(options?: Omit<AcquireOptions, 'timeoutMs'>): boolean {
    const op = 'SemaphoreSet.tryAcquire';
    const { ops } = this.#acquireOps(op, { ...checkOptions(op, options), timeoutMs: 0 });
    return this.#run(op, ops, 0);
  }

  /** Gives `count` (default 1) back to a semaphore; never waits. */
  release(options?: ReleaseOptions): void {
    const op = 'SemaphoreSet.release';
    const o = checkOptions(op, options) as ReleaseOptions;
    const index = this.#index(op, o.index ?? 0);
    const count = checkWhole(op, 'count', o.count ?? 1, 1, SEMAPHORE_VALUE_MAX);
    const undo = checkBoolean(op, 'undo', o.undo, true);
    this.#run(op, [{ sem_num: index, sem_op: count, sem_flg: undo ? SEM_UNDO : 0 }], Infinity);
  }

  /** Waits until a semaphore's value is 0; false after `timeoutMs`. */
  waitForZero(options?: WaitForZeroOptions): boolean {
    const op = 'SemaphoreSet.waitForZero';
    const { ops, timeoutMs } = this.#zeroOps(op, options);
    return this.#run(op, ops, timeoutMs);
  }

  /** Several operations as one atomic semop; false after `timeoutMs`, or when a `noWait` operation would wait. */
  operate(operations: readonly SemaphoreOperation[], options?: OperateOptions): boolean {
    const op = 'SemaphoreSet.operate';
    const ops = this.#operations(op, operations);
    const timeoutMs = checkTimeoutMs(op, checkOptions(op, options).timeoutMs);
    return this.#run(op, ops, timeoutMs);
  }

  // The same, asynchronous: IPC_NOWAIT tries on the main thread, coalesced per set; no thread per pending wait.

  async acquireAsync(options?: AcquireOptions & SignalOption): Promise<boolean> {
    const op = 'SemaphoreSet.acquireAsync';
    const { ops, timeoutMs } = this.#acquireOps(op, options);
    return this.#runAsync(op, ops, timeoutMs, checkSignal(op, options?.signal));
  }

  async waitForZeroAsync(options?: WaitForZeroOptions & SignalOption): Promise<boolean> {
    const op = 'SemaphoreSet.waitForZeroAsync';
    const { ops, timeoutMs } = this.#zeroOps(op, options);
    return this.#runAsync(op, ops, timeoutMs, checkSignal(op, options?.signal));
  }

  async operateAsync(operations: readonly SemaphoreOperation[], options?: OperateOptions & SignalOption): Promise<boolean> {
    const op = 'SemaphoreSet.operateAsync';
    const ops = this.#operations(op, operations);
    const o = checkOptions(op, options);
    const timeoutMs = checkTimeoutMs(op, o.timeoutMs);
    return this.#runAsync(op, ops, timeoutMs, checkSignal(op, o.signal));
  }

  /**
   * Takes one unit of a semaphore used as a lock (value 1 = free) with SEM_UNDO, and gives it back when the lock
   * is released or disposed: `using lock = set.lock()`. A process that dies holding it gives it back too.
   * ETIMEDOUT after `timeoutMs`.
   */
  lock(options?: LockOptions): SemaphoreLock {
    const op = 'SemaphoreSet.lock';
    const o = checkOptions(op, options) as LockOptions;
    const index = this.#index(op, o.index ?? 0);
    const timeoutMs = checkTimeoutMs(op, o.timeoutMs);
    if (!this.#run(op, [{ sem_num: index, sem_op: -1, sem_flg: SEM_UNDO }], timeoutMs)) throw this.#lockTimeout(op, index, timeoutMs);
    return this.#lock(index);
  }

  /** lock(), waiting asynchronously: `using lock = await set.lockAsync({ signal })`. */
  async lockAsync(options?: LockOptions & SignalOption): Promise<SemaphoreLock> {
    const op = 'SemaphoreSet.lockAsync';
    const o = checkOptions(op, options) as LockOptions & SignalOption;
    const index = this.#index(op, o.index ?? 0);
    const timeoutMs = checkTimeoutMs(op, o.timeoutMs);
    const signal = checkSignal(op, o.signal);
    if (!(await this.#runAsync(op, [{ sem_num: index, sem_op: -1, sem_flg: SEM_UNDO }], timeoutMs, signal))) throw this.#lockTimeout(op, index, timeoutMs);
    return this.#lock(index);
  }

  // Status, permissions, removal.

  /** IPC_STAT, and each semaphore's value, waiter counts and last pid. */
  status(): SemaphoreSetStatus {
    this.#check('SemaphoreSet.status');
    const ds = semctl(this.id, 0, IPC_STAT);
    const values = semctl(this.id, 0, GETALL);
    const semaphores: SemaphoreState[] = values.map((value, i) => ({
      value,
      waitingForNonzero: semctl(this.id, i, GETNCNT),
      waitingForZero: semctl(this.id, i, GETZCNT),
      lastPid: semctl(this.id, i, GETPID),
    }));
    return toSemaphoreSetStatus(this.id, ds, semaphores);
  }

  /**
   * IPC_SET: changes the owner and/or the permission bits; what is not given is kept. Works for the owner also when
   * the mode denies the owner reading the set.
   */
  setPermissions(permissions: { uid?: number; gid?: number; mode?: number }): void {
    const op = 'SemaphoreSet.setPermissions';
    this.#check(op);
    // No IPC_STAT here: it needs read permission, which an owner who set mode 0 lacks (lib/c fills in the rest).
    semctl(this.id, 0, IPC_SET, { perm: checkPermissions(op, permissions) });
  }

  /** IPC_RMID: the set is gone at once; every waiter (blocked or polling, in any process) fails with EIDRM. */
  remove(): void {
    this.#check('SemaphoreSet.remove');
    semctl(this.id, 0, IPC_RMID);
  }

  /**
   * Ends this object (not the set: remove() does that): its pending async calls reject with
   * ERR_SEMAPHORE_CLOSED, and later calls throw it. Locks it handed out can still be released.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    cancelWaits(`sem:${this.id}`, this, () => this.#closedError('SemaphoreSet.close'));
  }

  /** For `using`: close(). The set stays (remove() is explicit). */
  [Symbol.dispose](): void {
    this.close();
  }

  [inspect.custom](): string {
    let state: string;
    try {
      state = `values: [${semctl(this.id, 0, GETALL).join(', ')}]`;
    } catch (error) {
      state = `gone (${(error as ShmError).code})`;
    }
    return `SemaphoreSet { id: ${this.id}, key: ${this.keyHex}, count: ${this.count}, ${state}${this.#closed ? ', closed' : ''} }`;
  }

  // Internals.

  /** A held lock; its release works on a closed object too, so that a held lock is always given back. */
  #lock(index: number): SemaphoreLock {
    return new SemaphoreLock(this.id, index, () => semop(this.id, [{ sem_num: index, sem_op: 1, sem_flg: SEM_UNDO }]));
  }

  #check(op: string): void {
    if (this.#closed) throw this.#closedError(op);
  }

  #closedError(op: string): ShmError {
    return stateError('ERR_SEMAPHORE_CLOSED', op, `this SemaphoreSet object (semaphore set ${this.id}) was closed; the set itself stays until removed`, {
      semid: this.id,
    });
  }

  #index(op: string, index: unknown): number {
    this.#check(op);
    if (typeof index !== 'number') throw new TypeError(`${op}: index must be a number, got ${typeof index} ${String(index)}`);
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`${op}: index ${index} is not one of the set's ${this.count} semaphores (0..${this.count - 1})`);
    }
    return index;
  }

  #acquireOps(op: string, options: unknown): { ops: Op[]; timeoutMs: number } {
    const o = checkOptions(op, options) as AcquireOptions;
    const index = this.#index(op, o.index ?? 0);
    const count = checkWhole(op, 'count', o.count ?? 1, 1, SEMAPHORE_VALUE_MAX);
    const undo = checkBoolean(op, 'undo', o.undo, true);
    const timeoutMs = checkTimeoutMs(op, o.timeoutMs);
    return { ops: [{ sem_num: index, sem_op: -count, sem_flg: undo ? SEM_UNDO : 0 }], timeoutMs };
  }

  #zeroOps(op: string, options: unknown): { ops: Op[]; timeoutMs: number } {
    const o = checkOptions(op, options) as WaitForZeroOptions;
    const index = this.#index(op, o.index ?? 0);
    const timeoutMs = checkTimeoutMs(op, o.timeoutMs);
    return { ops: [{ sem_num: index, sem_op: 0, sem_flg: 0 }], timeoutMs };
  }

  #operations(op: string, operations: unknown): Op[] {
    this.#check(op);
    if (!Array.isArray(operations)) throw new TypeError(`${op}: operations must be an array of { index, op, undo?, noWait? }`);
    if (operations.length === 0) throw new RangeError(`${op}: operations must not be empty`);
    return operations.map((entry: unknown, n) => {
      const name = `operations[${n}]`;
      if (typeof entry !== 'object' || entry === null) throw new TypeError(`${op}: ${name} must be an object { index, op, undo?, noWait? }`);
      const e = entry as SemaphoreOperation;
      const index = this.#index(`${op}: ${name}`, e.index);
      const amount = checkWhole(op, `${name}.op`, e.op, -SEMAPHORE_VALUE_MAX, SEMAPHORE_VALUE_MAX);
      const undo = checkBoolean(op, `${name}.undo`, e.undo, true);
      const noWait = checkBoolean(op, `${name}.noWait`, e.noWait, false);
      return { sem_num: index, sem_op: amount, sem_flg: (undo && amount !== 0 ? SEM_UNDO : 0) | (noWait ? IPC_NOWAIT : 0) };
    });
  }

  /**
   * One semop, waiting up to `timeoutMs` (semtimedop in slices, lib/c): true when done, false when it would have to
   * wait longer (or a noWait operation would have to wait).
   */
  #run(op: string, ops: Op[], timeoutMs: number): boolean {
    try {
      return semopWithin(this.id, timeoutMs === 0 ? ops.map((o) => ({ ...o, sem_flg: o.sem_flg | IPC_NOWAIT })) : ops, timeoutMs);
    } catch (error) {
      throw this.#waitError(error, op, timeoutMs !== 0);
    }
  }

  #runAsync(op: string, ops: Op[], timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    const tries = ops.map((o) => ({ ...o, sem_flg: o.sem_flg | IPC_NOWAIT }));
    // Every try has IPC_NOWAIT, so a noWait operation's EAGAIN looks like "not yet": with one, a single try.
    const once = ops.some((o) => o.sem_flg & IPC_NOWAIT);
    return pollUntil<boolean>(`sem:${this.id}`, {
      op,
      group: groupOf(ops),
      owner: this,
      signal,
      deadline: once ? Number.NEGATIVE_INFINITY : performance.now() + timeoutMs,
      onTimeout: false,
      attempt: () => {
        try {
          return semopWithin(this.id, tries, 0) ? true : NOT_YET;
        } catch (error) {
          throw this.#waitError(error, op, timeoutMs !== 0);
        }
      },
    });
  }

  /** A wait's error; EINVAL because the set no longer exists (a polled wait, or between slices) is EIDRM. */
  #waitError(error: unknown, op: string, waited: boolean): unknown {
    if (!isCode(error, 'EINVAL') || this.#exists()) return error;
    const syscall = (error as ShmError).syscall ?? 'semop';
    return errnoError({ syscall, operation: op, call: `${syscall}(semid=${this.id})`, semid: this.id, waited }, getAbi().errno.EIDRM);
  }

  #exists(): boolean {
    try {
      semctl(this.id, 0, IPC_STAT);
      return true;
    } catch (error) {
      return !(isCode(error, 'EINVAL') || isCode(error, 'EIDRM'));
    }
  }

  #lockTimeout(op: string, index: number, timeoutMs: number): ShmError {
    return stateError('ETIMEDOUT', op, `semaphore ${index} of set ${this.id} was not free within ${timeoutMs} ms; the lock was not taken`, { semid: this.id });
  }

  /**
   * The creator's first semop: SETALL the values (when any is not 0), then take and give back semaphore 0's value
   * in one semop. That changes nothing but sets sem_otime, which tells openers the set is ready.
   */
  #initialise(values: number[]): void {
    if (values.some((v) => v !== 0)) semctl(this.id, 0, SETALL, values);
    const v = values[0];
    const ops =
      v === 0
        ? [{ sem_num: 0, sem_op: 0, sem_flg: IPC_NOWAIT }]
        : [
            { sem_num: 0, sem_op: -v, sem_flg: IPC_NOWAIT },
            { sem_num: 0, sem_op: v, sem_flg: IPC_NOWAIT },
          ];
    try {
      semop(this.id, ops);
    } catch (error) {
      // Someone already operated on it (it is visible by key): sem_otime is set either way.
      if (!isCode(error, 'EAGAIN')) throw error;
    }
  }

  /** Waits (polling, synchronously) until sem_otime != 0; ETIMEDOUT after `timeoutMs`. */
  #waitInitialized(op: string, timeoutMs: number): void {
    if (timeoutMs === 0) return;
    const ready = pollSync((): Attempt<true> => (facts(this.id).otime !== 0 ? { done: true, value: true } : { done: false }), timeoutMs);
    if (ready === undefined) {
      throw stateError(
        'ETIMEDOUT',
        op,
        `semaphore set ${this.id} (key ${this.keyHex}) was not initialised within ${timeoutMs} ms: no semop has been made on it yet (sem_otime is 0). Its creator may have died before setting its values, or does not mark it with a first semop (ipcmk, SETVAL alone): open it without waitInitializedMs, or remove it (ipcrm -s ${this.id})`,
        { semid: this.id, key: this.key },
      );
    }
  }
}
