// msgrcv(2): take a message from a queue (or copy one, MSG_COPY).
//
// There is no timed msgrcv, and a blocking one that is given up (a timeout, an abort) would still take the next
// message, so a receive that has to wait is IPC_NOWAIT polling (lib/c/poll-wait.ts): 0.05 ms doubling to 10 ms
// between tries, termination signals looked at between them. The queue being removed while waiting is EIDRM.
import { libc } from '../native/libc.js';
import { errnoError, type ShmError } from './errors.js';
import { describeMsgFlags, IPC_NOWAIT, MSG_COPY, MSG_EXCEPT } from './constants.js';
import { checkFlags, checkMessageSize, checkMessageType, checkMsqid, checkTimeoutMs } from '../common/arguments.js';
import { pollUntil } from './poll-wait.js';
import { queueGone } from './msgsnd.js';

/** A received message: its type (a C long: a bigint beyond 2^53) and its text. */
export interface ReceivedMessage {
  mtype: number | bigint;
  mtext: Uint8Array;
}

interface PreparedReceive {
  msqid: number;
  buffer: Uint8Array;
  size: number;
  type: number | bigint;
  flags: number;
  call: string;
}

function prepare(msqid: unknown, msgsz: unknown, msgtyp: unknown, msgflg: unknown): PreparedReceive {
  const id = checkMsqid(msqid);
  const { abi } = libc();
  const size = checkMessageSize(msgsz);
  const given = checkMessageType(msgtyp, abi.sizeof.long, false);
  const type = typeof given === 'bigint' && Number.isSafeInteger(Number(given)) ? Number(given) : given;
  const flags = checkFlags(msgflg ?? 0, 'msgflg');
  if (flags & MSG_COPY) {
    if (!(flags & IPC_NOWAIT)) throw new RangeError('msgrcv: MSG_COPY needs IPC_NOWAIT (the kernel answers EINVAL without it)');
    if (flags & MSG_EXCEPT) throw new RangeError('msgrcv: MSG_COPY cannot be combined with MSG_EXCEPT (the kernel answers EINVAL)');
  }
  return {
    msqid: id,
    // The kernel writes up to msgsz bytes of text after the type: the buffer holds them all.
    buffer: new Uint8Array(abi.sizeof.long + size),
    size,
    type,
    flags,
    call: `msgrcv(msqid=${id}, msgsz=${size}, msgtyp=${type}, flags=${describeMsgFlags(flags)})`,
  };
}

function failure(p: PreparedReceive, errnoValue?: number, waited = false): ShmError {
  return errnoError({ syscall: 'msgrcv', call: p.call, msqid: p.msqid, size: p.size, msgtyp: p.type, flags: p.flags, waited }, errnoValue);
}

/** Receives, waiting up to `timeoutMs` for a message (Infinity: no limit); null when none came (or IPC_NOWAIT and none now). */
function receive(p: PreparedReceive, timeoutMs: number): ReceivedMessage | null {
  const lib = libc();
  const { abi } = lib;
  const { errno } = abi;
  const once = (p.flags & IPC_NOWAIT) !== 0;
  const outcome = pollUntil<ReceivedMessage | null>(
    (round) => {
      const n = lib.msgrcv(p.msqid, p.buffer, p.size, p.type, p.flags | IPC_NOWAIT);
      if (n >= 0) {
        const L = abi.sizeof.long;
        return { done: true, value: { mtype: abi.readMsgType(p.buffer), mtext: p.buffer.slice(L, L + n) } };
      }
      const errnoValue = lib.errno();
      if (errnoValue === errno.ENOMSG) return once ? { done: true, value: null } : { done: false };
      if (errnoValue === errno.EINTR) return { done: false };
      if (round > 0 && (errnoValue === errno.EIDRM || (errnoValue === errno.EINVAL && queueGone(p.msqid)))) throw failure(p, errno.EIDRM, true);
      throw failure(p, errnoValue, round > 0);
    },
    once ? 0 : timeoutMs,
  );
  return outcome?.value ?? null;
}

/**
 * msgrcv(2): takes the first message of the queue (`msgtyp` 0), the first of type `msgtyp` (> 0; with MSG_EXCEPT:
 * of any other type), or the first of the lowest type <= |msgtyp| (< 0), with at most `msgsz` bytes of text: a
 * longer one is E2BIG and stays queued, unless MSG_NOERROR truncates it. MSG_COPY (with IPC_NOWAIT) copies the
 * message at index `msgtyp` without taking it. Without IPC_NOWAIT it waits for a message; with it, ENOMSG.
 */
export function msgrcv(msqid: number, msgsz: number, msgtyp: number | bigint, msgflg = 0): ReceivedMessage {
  const p = prepare(msqid, msgsz, msgtyp, msgflg);
  const message = receive(p, Infinity);
  if (message === null) throw failure(p, libc().abi.errno.ENOMSG);
  return message;
}

/**
 * For the friendly layer: msgrcv that waits at most `timeoutMs` (Infinity: no limit; 0 or IPC_NOWAIT: one try) and
 * answers null when no message came in time.
 */
export function msgrcvWithin(msqid: number, msgsz: number, msgtyp: number | bigint, msgflg: number, timeoutMs: number): ReceivedMessage | null {
  const p = prepare(msqid, msgsz, msgtyp, msgflg);
  return receive(p, checkTimeoutMs('msgrcv', timeoutMs));
}
