// msgsnd(2): put a message on a queue.
//
// There is no timed msgsnd, and a blocking one cannot be interrupted safely from JavaScript, so a send that has to
// wait for room is IPC_NOWAIT polling (lib/c/poll-wait.ts): 0.05 ms doubling to 10 ms between tries, termination
// signals looked at between them. The queue being removed while waiting is EIDRM.
import { libc } from '../native/libc.js';
import { errnoError, type ShmError } from './errors.js';
import { describeMsgFlags, IPC_NOWAIT, IPC_STAT } from './constants.js';
import { checkFlags, checkMessageText, checkMessageType, checkMsqid, checkTimeoutMs } from '../common/arguments.js';
import { pollUntil } from './poll-wait.js';

interface PreparedSend {
  msqid: number;
  buffer: Uint8Array;
  size: number;
  flags: number;
  call: string;
}

function prepare(msqid: unknown, mtype: unknown, mtext: unknown, msgflg: unknown): PreparedSend {
  const id = checkMsqid(msqid);
  const { abi } = libc();
  const type = checkMessageType(mtype, abi.sizeof.long, true);
  const text = checkMessageText(mtext);
  const flags = checkFlags(msgflg ?? 0, 'msgflg');
  const buffer = new Uint8Array(abi.sizeof.long + text.length);
  abi.writeMsgType(buffer, type);
  buffer.set(text, abi.sizeof.long);
  return { msqid: id, buffer, size: text.length, flags, call: `msgsnd(msqid=${id}, mtype=${type}, ${text.length} bytes, flags=${describeMsgFlags(flags)})` };
}

function failure(p: PreparedSend, errnoValue?: number, waited = false): ShmError {
  return errnoError({ syscall: 'msgsnd', call: p.call, msqid: p.msqid, size: p.size, flags: p.flags, waited }, errnoValue);
}

/** Whether a queue that answered EINVAL after having been valid is gone (EINVAL or EIDRM to IPC_STAT too). */
export function queueGone(msqid: number): boolean {
  const { abi } = libc();
  if (libc().msgctl(msqid, IPC_STAT, new Uint8Array(Math.max(abi.sizeof.msqidDs, 256))) === 0) return false;
  const errnoValue = libc().errno();
  return errnoValue === abi.errno.EINVAL || errnoValue === abi.errno.EIDRM;
}

/** Sends, waiting up to `timeoutMs` for room (Infinity: no limit); false when there was none (or IPC_NOWAIT and none now). */
function send(p: PreparedSend, timeoutMs: number): boolean {
  const lib = libc();
  const { errno } = lib.abi;
  const once = (p.flags & IPC_NOWAIT) !== 0;
  const outcome = pollUntil(
    (round) => {
      if (lib.msgsnd(p.msqid, p.buffer, p.size, p.flags | IPC_NOWAIT) === 0) return { done: true, value: true };
      const errnoValue = lib.errno();
      if (errnoValue === errno.EAGAIN) return once ? { done: true, value: false } : { done: false };
      if (errnoValue === errno.EINTR) return { done: false };
      if (round > 0 && (errnoValue === errno.EIDRM || (errnoValue === errno.EINVAL && queueGone(p.msqid)))) throw failure(p, errno.EIDRM, true);
      throw failure(p, errnoValue, round > 0);
    },
    once ? 0 : timeoutMs,
  );
  return outcome?.value ?? false;
}

/**
 * msgsnd(2): puts a message of type `mtype` (> 0, a C long: a bigint beyond 2^53) with the text `mtext` (bytes, or a
 * string sent as UTF-8) on the queue. When the queue is full it waits for room, unless `msgflg` has IPC_NOWAIT
 * (then EAGAIN).
 */
export function msgsnd(msqid: number, mtype: number | bigint, mtext: Uint8Array | string, msgflg = 0): void {
  const p = prepare(msqid, mtype, mtext, msgflg);
  if (!send(p, Infinity)) throw failure(p, libc().abi.errno.EAGAIN);
}

/**
 * For the friendly layer: msgsnd that waits at most `timeoutMs` (Infinity: no limit; 0 or IPC_NOWAIT: one try) and
 * answers false when the queue had no room in time.
 */
export function msgsndWithin(msqid: number, mtype: number | bigint, mtext: Uint8Array | string, msgflg: number, timeoutMs: number): boolean {
  const p = prepare(msqid, mtype, mtext, msgflg);
  return send(p, checkTimeoutMs('msgsnd', timeoutMs));
}
