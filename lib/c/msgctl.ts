// msgctl(2): status, ownership, mode and size limit, removal, and the system-wide info calls.
import { libc } from '../native/libc.js';
import { errnoError, type ShmError } from './errors.js';
import type { Msginfo, MsqidDs } from '../abi/index.js';
import { IPC_SET, IPC_STAT, MSG_STAT_ANY, MSGCTL_COMMAND_NAMES, type MsgctlCommand } from './constants.js';
import { checkFlags, checkInteger, checkMsqid, INT32_MAX } from '../common/arguments.js';
import { checkPermPatch, currentPerm, ipcScratch, statAnyById, type PermPatch } from './ipc-perm.js';
import { procMsgRowById } from '../native/procfs.js';

/** IPC_INFO / MSG_INFO: the limits (IPC_INFO) or the use (MSG_INFO: msgpool = queues, msgmap = messages, msgtql = bytes), and the highest used index. */
export type MsginfoResult = Msginfo & { highestIndex: number };
/** MSG_STAT / MSG_STAT_ANY: the status of the queue at an index of the kernel's array, plus its id. */
export type MsqidDsWithId = MsqidDs & { msqid: number };
/** What msgctl IPC_SET changes; the parts left out keep their current values. */
export interface MsgctlSetPatch {
  perm?: PermPatch;
  /** msg_qbytes: the most bytes of text the queue holds (above MSGMNB needs CAP_SYS_RESOURCE). */
  qbytes?: number;
}

export function msgctl(msqid: number, cmd: MsgctlCommand<'IPC_STAT'>): MsqidDs;
export function msgctl(msqid: number, cmd: MsgctlCommand<'IPC_SET'>, patch: MsgctlSetPatch): void;
export function msgctl(msqid: number, cmd: MsgctlCommand<'IPC_RMID'>): void;
export function msgctl(msqid: number, cmd: MsgctlCommand<'IPC_INFO' | 'MSG_INFO'>): MsginfoResult;
export function msgctl(index: number, cmd: MsgctlCommand<'MSG_STAT' | 'MSG_STAT_ANY'>): MsqidDsWithId;
// biome-ignore lint/suspicious/noConfusingVoidType: the general overload: some commands return nothing, as their specific overloads say
export function msgctl(msqid: number, cmd: number, patch?: MsgctlSetPatch): MsqidDs | MsqidDsWithId | MsginfoResult | void;
// biome-ignore lint/suspicious/noConfusingVoidType: the implementation of the overloads above
export function msgctl(msqid: number, cmd: number, patch?: MsgctlSetPatch): MsqidDs | MsqidDsWithId | MsginfoResult | void {
  const id = checkMsqid(msqid);
  const name = MSGCTL_COMMAND_NAMES.get(checkFlags(cmd, 'cmd'));
  if (name === undefined) {
    throw new RangeError(`cmd ${cmd} is not a msgctl command; use one of ${[...MSGCTL_COMMAND_NAMES.values()].join(', ')}`);
  }
  const { abi } = libc();
  switch (name) {
    case 'IPC_STAT':
      return abi.decodeMsqidDs(call(id, cmd, name, ipcScratch()).bytes);
    case 'MSG_STAT':
    case 'MSG_STAT_ANY': {
      const { result, bytes } = call(id, cmd, name, ipcScratch());
      return { ...abi.decodeMsqidDs(bytes), msqid: result };
    }
    case 'IPC_SET':
      return set(id, patch);
    case 'IPC_INFO':
    case 'MSG_INFO': {
      const { result, bytes } = call(id, cmd, name, ipcScratch());
      return { ...abi.decodeMsginfo(bytes), highestIndex: result };
    }
    default:
      call(id, cmd, name, null); // IPC_RMID
      return;
  }
}

function call(msqid: number, cmd: number, name: string, bytes: Uint8Array | null): { result: number; bytes: Uint8Array } {
  const result = libc().msgctl(msqid, cmd, bytes);
  if (result === -1) throw errnoError({ syscall: 'msgctl', call: `msgctl(${msqid}, ${name})`, msqid, cmd: name });
  return { result, bytes: bytes ?? new Uint8Array(0) };
}

/**
 * IPC_STAT, or for a process that may not read the queue (IPC_STAT is EACCES) MSG_STAT_ANY at its index: the
 * kernel then still tells the status (Linux 4.17). The EACCES is thrown when that fails too.
 */
export function msgStatOrAny(msqid: number): MsqidDs {
  const { abi } = libc();
  try {
    return abi.decodeMsqidDs(call(msqid, IPC_STAT, 'IPC_STAT', ipcScratch()).bytes);
  } catch (error) {
    if ((error as ShmError).code !== 'EACCES') throw error;
    const found = statAnyById(msqid, (index) => {
      const bytes = ipcScratch();
      const result = libc().msgctl(index, MSG_STAT_ANY, bytes);
      return result === -1 ? undefined : { id: result, ds: abi.decodeMsqidDs(bytes) };
    });
    if (!found) throw error;
    return found.ds;
  }
}

/**
 * The largest msg_qbytes this process can pass, on every target: the field is an unsigned long, but the kernel hands
 * it on as an int (msgctl_down), so 2^32 would become 0 and 2^31 a negative number that skips the MSGMNB check.
 */
const MAX_QBYTES = INT32_MAX;

// The kernel sets uid, gid, mode and msg_qbytes together; the parts the caller left out keep their current values.
function set(msqid: number, patch: unknown): void {
  if (typeof patch !== 'object' || patch === null) throw new TypeError('msgctl IPC_SET needs { perm?: { uid?, gid?, mode? }, qbytes? }');
  const { perm, qbytes, ...rest } = patch as MsgctlSetPatch;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new TypeError(`msgctl IPC_SET changes only perm.uid, perm.gid, perm.mode and qbytes; got ${unknown.join(', ')}`);
  let { uid, gid, mode } = perm === undefined ? ({} as PermPatch) : checkPermPatch(perm, 'msgctl IPC_SET');
  let bytesLimit = qbytes === undefined ? undefined : checkInteger('msgctl IPC_SET', 'qbytes', qbytes, 0, MAX_QBYTES);
  // qbytes is in the status only (not in /proc/sysvipc/msg); uid, gid and mode also in /proc, which anyone may read.
  if (bytesLimit === undefined) bytesLimit = msgStatOrAny(msqid).qbytes;
  if (uid === undefined || gid === undefined || mode === undefined) {
    const current = currentPerm(
      () => msgStatOrAny(msqid),
      () => procMsgRowById(msqid),
    );
    uid ??= current.uid;
    gid ??= current.gid;
    mode ??= current.mode;
  }
  const bytes = ipcScratch();
  bytes.set(libc().abi.encodeMsqidDs({ perm: { uid, gid, mode }, qbytes: bytesLimit }));
  call(msqid, IPC_SET, 'IPC_SET', bytes);
}
