// System V message queues for people: create or open by key, path or id; send and receive typed messages with a
// timeout, synchronously (IPC_NOWAIT polling in lib/c) or asynchronously (IPC_NOWAIT polling on the main thread,
// lib/sysv-wait/poller.ts: no thread per pending wait, and an abandoned receive takes nothing); async iteration;
// peek (MSG_COPY); status. Built only on the C-shaped layer (docs/layers.md); semantics in docs/message-queues.md.
import { inspect } from 'node:util';
import { getAbi } from '../abi/index.js';
import {
  ShmError,
  errnoError,
  msgctl,
  msgget,
  msgrcvWithin,
  msgsndWithin,
  readKernelTunable,
  readProcMsg,
  stateError,
  IPC_CREAT,
  IPC_EXCL,
  IPC_NOWAIT,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  MSGMAX,
  MSG_COPY,
  MSG_EXCEPT,
  MSG_NOERROR,
} from '../c/index.js';
import { checkMessageSize, checkMessageText, checkMessageType, checkMode, checkTimeoutMs, INT32_MAX } from '../common/arguments.js';
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
import { toMessageQueueStatus, type MessageQueueStatus } from './status.js';

export interface MessageQueueCreateOptions extends KeyOptions {
  /** Permission bits; default 0o600 (read: receive, write: send). */
  mode?: number;
  /** Fail with EEXIST when the key is taken (IPC_EXCL). Default true; false opens the existing queue instead. */
  exclusive?: boolean;
  /**
   * The queue's capacity in bytes of text, 1..2^31 - 1 (msg_qbytes; the kernel's default is /proc/sys/kernel/msgmnb).
   * Raising it above msgmnb needs CAP_SYS_RESOURCE. Applied only when this call creates the queue.
   */
  maxBytes?: number;
}

/** A message: its type (a C long: a bigint beyond 2^53) and its text. */
export interface QueueMessage<T = Uint8Array> {
  type: number | bigint;
  data: T;
}

export interface SendOptions {
  /** The message's type, >= 1 (a C long); default 1. */
  type?: number | bigint;
  /** Wait at most this long for room in a full queue (send then returns false); default no limit. */
  timeoutMs?: number;
  /** Do not wait: false at once when the queue is full. */
  noWait?: boolean;
}

export interface ReceiveOptions {
  /**
   * Which message: 0 (default) the first of any type; > 0 the first of that type (with `except`: of any other
   * type); < 0 the first of the lowest type <= |type|.
   */
  type?: number | bigint;
  /** MSG_EXCEPT: with a type > 0, the first message of any other type. */
  except?: boolean;
  /** MSG_NOERROR: cut a message longer than maxBytes to maxBytes (the rest is lost) instead of E2BIG. */
  truncate?: boolean;
  /** The most bytes of text to receive; default msgmax (/proc/sys/kernel/msgmax), the largest a message can be. */
  maxBytes?: number;
  /** Wait at most this long for a message (receive then returns null); default no limit. */
  timeoutMs?: number;
  /** Do not wait: null at once when no message matches. */
  noWait?: boolean;
}

export interface PeekOptions {
  /**
   * The most bytes of text to copy; default msgmax. A longer message is E2BIG (no truncation: the kernel answers
   * EINVAL to MSG_COPY with MSG_NOERROR when the message is longer).
   */
  maxBytes?: number;
}

export interface QueueSignalOption {
  /** Cancels the wait: the call rejects with an AbortError (cause: the signal's reason); nothing was sent or taken. */
  signal?: AbortSignal;
}

export type MessagesOptions = Omit<ReceiveOptions, 'timeoutMs' | 'noWait'> & QueueSignalOption;

/** timeoutMs and noWait together: noWait is a timeout of 0. */
function waitTime(op: string, o: { timeoutMs?: unknown; noWait?: unknown }): number {
  const timeoutMs = checkTimeoutMs(op, o.timeoutMs);
  if (!checkBoolean(op, 'noWait', o.noWait)) return timeoutMs;
  if (o.timeoutMs !== undefined && timeoutMs !== 0) throw new RangeError(`${op}: give noWait or timeoutMs, not both`);
  return 0;
}

/** msgmax now: the largest message this kernel takes (the default of receive's maxBytes). */
// The default maxBytes of a receive: the system's msgmax, re-read at most once a second (a read of /proc costs more
// than a receive); a message can be longer only if msgmax was raised within that second.
let msgmaxCache: { value: number; at: number } | undefined;
function msgmax(): number {
  const now = performance.now();
  if (msgmaxCache === undefined || now - msgmaxCache.at > 1000) {
    const value = readKernelTunable('msgmax');
    msgmaxCache = { value: value === undefined ? MSGMAX : Math.min(Number(value), INT32_MAX), at: now };
  }
  return msgmaxCache.value;
}

interface Receive {
  type: number | bigint;
  flags: number;
  maxBytes: number;
  timeoutMs: number;
}

export class MessageQueue {
  /** The queue's id (msqid). */
  readonly id: number;
  /** The key it was created or opened with (0 for a private queue). */
  readonly key: number;
  /** True when this object's call created the queue. */
  readonly created: boolean;
  #closed = false;

  private constructor(id: number, key: number, created: boolean) {
    this.id = id;
    this.key = key | 0; // key_t as C holds it: signed, also when given unsigned (as ipcs prints it)
    this.created = created;
  }

  /** Creates a queue. Exclusive by default: an existing key is an EEXIST error. */
  static create(options: MessageQueueCreateOptions = {}): MessageQueue {
    const op = 'MessageQueue.create';
    const o = checkOptions(op, options) as MessageQueueCreateOptions;
    const key = keyOf(op, o);
    const mode = checkMode(o.mode ?? 0o600);
    const exclusive = o.exclusive === undefined ? true : checkBoolean(op, 'exclusive', o.exclusive);
    const maxBytes = o.maxBytes === undefined ? undefined : MessageQueue.#checkMaxBytes(op, o.maxBytes);
    let id: number;
    for (;;) {
      try {
        id = msgget(key, IPC_CREAT | IPC_EXCL | mode);
        break;
      } catch (error) {
        if (exclusive || !isCode(error, 'EEXIST')) throw error;
      }
      try {
        return new MessageQueue(msgget(key, 0), key, false);
      } catch (error) {
        if (!isCode(error, 'ENOENT') && !isCode(error, 'EIDRM')) throw error; // removed meanwhile: create again
      }
    }
    const queue = new MessageQueue(id, key, true);
    if (maxBytes !== undefined) {
      try {
        queue.setMaxBytes(maxBytes);
      } catch (error) {
        try {
          msgctl(id, IPC_RMID);
        } catch {
          // gone already
        }
        throw error;
      }
    }
    return queue;
  }

  /** Opens an existing queue by key, by ftok(path, projId), or by id. */
  static open(target: OpenTarget): MessageQueue {
    const op = 'MessageQueue.open';
    const resolved = resolveTarget(op, target, 'message queue');
    if ('key' in resolved) return new MessageQueue(msgget(resolved.key, 0), resolved.key, false);
    return new MessageQueue(resolved.id, MessageQueue.#keyOf(resolved.id), false);
  }

  /** The key as ipcs prints it. */
  get keyHex(): string {
    return hexKey(this.key);
  }

  /** Whether close() (or `using`'s dispose) ended this object. */
  get closed(): boolean {
    return this.#closed;
  }

  // Sending: msgsnd. A full queue (msg_qbytes) makes a send wait for room.

  /** Puts a message on the queue; waits for room when it is full; false after `timeoutMs` (or at once with noWait). */
  send(data: Uint8Array | string, options?: SendOptions): boolean {
    const op = 'MessageQueue.send';
    const { bytes, type, timeoutMs } = this.#sendArgs(op, data, options);
    if (this.#trySend(op, type, bytes)) return true;
    this.#checkFits(op, bytes.length);
    if (timeoutMs === 0) return false;
    try {
      return msgsndWithin(this.id, type, bytes, 0, timeoutMs);
    } catch (error) {
      throw this.#waitError(error, op, true);
    }
  }

  async sendAsync(data: Uint8Array | string, options?: SendOptions & QueueSignalOption): Promise<boolean> {
    const op = 'MessageQueue.sendAsync';
    const { bytes, type, timeoutMs } = this.#sendArgs(op, data, options);
    const signal = checkSignal(op, options?.signal);
    let checked = false;
    // Every send is in one group: messages go on the queue in the order of the calls.
    return pollUntil<boolean>(`msg:${this.id}`, {
      op,
      group: 'send',
      owner: this,
      signal,
      deadline: performance.now() + timeoutMs,
      onTimeout: false,
      attempt: () => {
        if (this.#trySend(op, type, bytes, timeoutMs !== 0)) return true;
        if (!checked) this.#checkFits(op, bytes.length);
        checked = true;
        return NOT_YET;
      },
    });
  }

  // Receiving: msgrcv. A message longer than maxBytes is E2BIG and stays queued, unless `truncate`.

  /** Takes the first matching message, waiting for one; null after `timeoutMs` (or at once with noWait). */
  receive(options?: ReceiveOptions): QueueMessage | null {
    const op = 'MessageQueue.receive';
    const r = this.#receiveArgs(op, options);
    this.#check(op);
    let message: { mtype: number | bigint; mtext: Uint8Array } | null;
    try {
      message = msgrcvWithin(this.id, r.maxBytes, r.type, r.flags, r.timeoutMs);
    } catch (error) {
      throw this.#receiveError(error, op, r, r.timeoutMs !== 0);
    }
    return message === null ? null : { type: message.mtype, data: message.mtext };
  }

  /** receive(), with the text decoded as UTF-8. */
  receiveString(options?: ReceiveOptions): QueueMessage<string> | null {
    const message = this.receive(options);
    return message === null ? null : { type: message.type, data: new TextDecoder().decode(message.data) };
  }

  async receiveAsync(options?: ReceiveOptions & QueueSignalOption): Promise<QueueMessage | null> {
    const op = 'MessageQueue.receiveAsync';
    const r = this.#receiveArgs(op, options);
    this.#check(op);
    return this.#receiveAsync(op, r, checkSignal(op, options?.signal));
  }

  /**
   * The messages, as they come: `for await (const { type, data } of queue.messages({ type, signal }))`. Leaving the
   * loop (break, return) ends the pending receive without taking a message; the signal rejects the pending next()
   * with an AbortError; a removed queue ends it with EIDRM.
   */
  messages(options?: MessagesOptions): AsyncIterableIterator<QueueMessage> {
    const op = 'MessageQueue.messages';
    const o = checkOptions(op, options);
    if (o.timeoutMs !== undefined || o.noWait !== undefined) throw new TypeError(`${op}: takes no timeoutMs or noWait: the iteration waits for each message`);
    const r = this.#receiveArgs(op, o);
    const outer = checkSignal(op, o.signal);
    this.#check(op);
    const stop = new AbortController();
    const signal = outer === undefined ? stop.signal : AbortSignal.any([outer, stop.signal]);
    let finished = false;
    const iterator: AsyncIterableIterator<QueueMessage> = {
      next: async () => {
        if (finished) return { value: undefined, done: true };
        try {
          const message = await this.#receiveAsync(op, r, signal);
          if (message !== null) return { value: message, done: false };
        } catch (error) {
          finished = true;
          if (stop.signal.aborted) return { value: undefined, done: true };
          throw error;
        }
        finished = true;
        return { value: undefined, done: true };
      },
      return: async () => {
        finished = true;
        stop.abort();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * The message at `index` (0 = the oldest) without taking it (MSG_COPY); null when there are fewer messages.
   * Needs a kernel with CONFIG_CHECKPOINT_RESTORE (ENOSYS otherwise).
   */
  peek(index = 0, options?: PeekOptions): QueueMessage | null {
    const op = 'MessageQueue.peek';
    this.#check(op);
    if (typeof index !== 'number') throw new TypeError(`${op}: index must be a number, got ${typeof index}`);
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`${op}: index must be an integer >= 0, got ${index}`);
    const o = checkOptions(op, options);
    if (o.truncate !== undefined) throw new TypeError(`${op}: takes no truncate option (the kernel cannot copy a message cut short)`);
    const maxBytes = o.maxBytes === undefined ? msgmax() : checkMessageSize(o.maxBytes, `${op}: maxBytes`);
    const r: Receive = { type: index, flags: IPC_NOWAIT | MSG_COPY, maxBytes, timeoutMs: 0 };
    let message: { mtype: number | bigint; mtext: Uint8Array } | null;
    try {
      message = msgrcvWithin(this.id, maxBytes, index, r.flags, 0);
    } catch (error) {
      throw this.#receiveError(error, op, r);
    }
    return message === null ? null : { type: message.mtype, data: message.mtext };
  }

  // Status, capacity, permissions, removal.

  status(): MessageQueueStatus {
    this.#check('MessageQueue.status');
    return toMessageQueueStatus(this.id, msgctl(this.id, IPC_STAT));
  }

  /**
   * IPC_SET msg_qbytes: the queue's capacity in bytes of text, 1..2^31 - 1 (it also bounds the number of messages).
   * Above /proc/sys/kernel/msgmnb needs CAP_SYS_RESOURCE.
   */
  setMaxBytes(maxBytes: number): void {
    const op = 'MessageQueue.setMaxBytes';
    this.#check(op);
    // No IPC_STAT here: it needs read permission, which an owner who set mode 0 lacks (lib/c fills in the rest).
    msgctl(this.id, IPC_SET, { qbytes: MessageQueue.#checkMaxBytes(op, maxBytes) });
  }

  /**
   * IPC_SET: changes the owner and/or the permission bits; what is not given is kept. Works for the owner also when
   * the mode denies the owner reading the queue.
   */
  setPermissions(permissions: { uid?: number; gid?: number; mode?: number }): void {
    const op = 'MessageQueue.setPermissions';
    this.#check(op);
    msgctl(this.id, IPC_SET, { perm: checkPermissions(op, permissions) });
  }

  /** IPC_RMID: the queue and its messages are gone at once; every waiter (in any process) fails with EIDRM. */
  remove(): void {
    this.#check('MessageQueue.remove');
    msgctl(this.id, IPC_RMID);
  }

  /**
   * Ends this object (not the queue: remove() does that): its pending async calls reject with ERR_QUEUE_CLOSED
   * (nothing sent, nothing taken), and later calls throw it.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    cancelWaits(`msg:${this.id}`, this, () => this.#closedError('MessageQueue.close'));
  }

  /** For `using`: close(). The queue stays (remove() is explicit). */
  [Symbol.dispose](): void {
    this.close();
  }

  [inspect.custom](): string {
    let state: string;
    try {
      const s = msgctl(this.id, IPC_STAT);
      state = `messages: ${s.qnum}, bytes: ${s.cbytes}, maxBytes: ${s.qbytes}`;
    } catch (error) {
      state = `gone (${(error as ShmError).code})`;
    }
    return `MessageQueue { id: ${this.id}, key: ${this.keyHex}, ${state}${this.#closed ? ', closed' : ''} }`;
  }

  // Internals.

  static #checkMaxBytes(op: string, value: unknown): number {
    if (typeof value !== 'number') throw new TypeError(`${op}: maxBytes must be a number, got ${typeof value}`);
    // At least 1: the kernel also counts messages against msg_qbytes (qnum + 1 <= qbytes), so 0 takes nothing.
    if (!Number.isInteger(value) || value < 1 || value > INT32_MAX)
      throw new RangeError(`${op}: maxBytes must be an integer in [1, ${INT32_MAX}], got ${value}`);
    return value;
  }

  /** The key of a queue by id: IPC_STAT, or /proc/sysvipc/msg when its mode hides it from us. */
  static #keyOf(id: number): number {
    try {
      return msgctl(id, IPC_STAT).perm.key;
    } catch (error) {
      if (!isCode(error, 'EACCES')) throw error;
      const row = readProcMsg()?.find((r) => r.msqid === id);
      if (row === undefined) throw error;
      return row.key;
    }
  }

  #check(op: string): void {
    if (this.#closed) throw this.#closedError(op);
  }

  #closedError(op: string): ShmError {
    return stateError('ERR_QUEUE_CLOSED', op, `this MessageQueue object (message queue ${this.id}) was closed; the queue itself stays until removed`, {
      msqid: this.id,
    });
  }

  #sendArgs(op: string, data: unknown, options: unknown): { bytes: Uint8Array; type: number | bigint; timeoutMs: number } {
    this.#check(op);
    const bytes = checkMessageText(data, `${op}: data`);
    const o = checkOptions(op, options);
    const type = checkMessageType(o.type ?? 1, getAbi().sizeof.long, true, `${op}: type`);
    return { bytes, type, timeoutMs: waitTime(op, o) };
  }

  #receiveArgs(op: string, options: unknown): Receive {
    const o = checkOptions(op, options);
    const type = checkMessageType(o.type ?? 0, getAbi().sizeof.long, false, `${op}: type`);
    const except = checkBoolean(op, 'except', o.except);
    if (except && !(typeof type === 'bigint' ? type > 0n : type > 0)) {
      throw new RangeError(`${op}: except needs a type > 0 (the first message of any other type), got type ${type}`);
    }
    const truncate = checkBoolean(op, 'truncate', o.truncate);
    const maxBytes = o.maxBytes === undefined ? msgmax() : checkMessageSize(o.maxBytes, `${op}: maxBytes`);
    return { type, flags: (except ? MSG_EXCEPT : 0) | (truncate ? MSG_NOERROR : 0), maxBytes, timeoutMs: waitTime(op, o) };
  }

  /** One send with IPC_NOWAIT: false when the queue is full. */
  #trySend(op: string, type: number | bigint, bytes: Uint8Array, waiting = false): boolean {
    try {
      return msgsndWithin(this.id, type, bytes, IPC_NOWAIT, 0);
    } catch (error) {
      throw this.#waitError(error, op, waiting);
    }
  }

  /**
   * A message longer than the queue's capacity waits forever in the kernel: EMSGSIZE instead. So does any message
   * when the capacity is 0 (a peer may set it): the kernel also needs qnum + 1 <= qbytes.
   */
  #checkFits(op: string, length: number): void {
    let qbytes: number;
    try {
      qbytes = msgctl(this.id, IPC_STAT).qbytes;
    } catch {
      return; // no read permission (or gone: the send says so)
    }
    if (length > qbytes || qbytes === 0) {
      const holds = qbytes === 0 ? 'it holds no message at all: its maxBytes (msg_qbytes) is 0' : `it holds at most ${qbytes} bytes (maxBytes, msg_qbytes)`;
      throw stateError(
        'EMSGSIZE',
        op,
        `a message of ${length} bytes can never fit in message queue ${this.id}: ${holds}. Send less, or raise it with setMaxBytes() (above /proc/sys/kernel/msgmnb it needs CAP_SYS_RESOURCE)`,
        { msqid: this.id },
      );
    }
  }

  #receiveAsync(op: string, r: Receive, signal: AbortSignal | undefined): Promise<QueueMessage | null> {
    const flags = r.flags | IPC_NOWAIT;
    return pollUntil<QueueMessage | null>(`msg:${this.id}`, {
      op,
      group: `receive:${r.type}:${r.flags}:${r.maxBytes}`,
      owner: this,
      signal,
      deadline: performance.now() + r.timeoutMs,
      onTimeout: null,
      attempt: () => {
        let message: { mtype: number | bigint; mtext: Uint8Array } | null;
        try {
          message = msgrcvWithin(this.id, r.maxBytes, r.type, flags, 0);
        } catch (error) {
          throw this.#receiveError(error, op, r, r.timeoutMs !== 0);
        }
        return message === null ? NOT_YET : { type: message.mtype, data: message.mtext };
      },
    });
  }

  /** E2BIG in this layer's words; a vanished queue as EIDRM. */
  #receiveError(error: unknown, op: string, r: Receive, waited = false): unknown {
    if (isCode(error, 'E2BIG')) {
      const e = error as ShmError;
      return new ShmError(
        r.flags & MSG_COPY
          ? `E2BIG: argument list too long, ${op}(${r.type}, maxBytes=${r.maxBytes}) on message queue ${this.id}. The message at that index is longer than maxBytes: pass a larger maxBytes (the largest message is msgmax = ${msgmax()} bytes, /proc/sys/kernel/msgmax)`
          : `E2BIG: argument list too long, ${op}(maxBytes=${r.maxBytes}) on message queue ${this.id}. The next matching message is longer than maxBytes and stays in the queue: pass a larger maxBytes (the largest message is msgmax = ${msgmax()} bytes, /proc/sys/kernel/msgmax), or truncate: true to take it cut to maxBytes`,
        { code: 'E2BIG', errno: e.errno, syscall: 'msgrcv', operation: op, msqid: this.id, cause: error },
      );
    }
    return this.#waitError(error, op, waited);
  }

  /** EINVAL because the queue no longer exists (removed before or while this call waited) is EIDRM. */
  #waitError(error: unknown, op: string, waited = false): unknown {
    if (!isCode(error, 'EINVAL') || this.#exists()) return error;
    const syscall = (error as ShmError).syscall ?? 'msgrcv';
    return errnoError({ syscall, operation: op, call: `${syscall}(msqid=${this.id})`, msqid: this.id, waited }, getAbi().errno.EIDRM);
  }

  #exists(): boolean {
    try {
      msgctl(this.id, IPC_STAT);
      return true;
    } catch (error) {
      return !(isCode(error, 'EINVAL') || isCode(error, 'EIDRM'));
    }
  }
}
