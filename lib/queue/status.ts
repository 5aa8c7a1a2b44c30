// The friendly form of struct msqid_ds.
import type { MsqidDs } from '../abi/index.js';
import { hexKey } from '../common/format.js';

export interface MessageQueueStatus {
  id: number;
  /** The key as key_t holds it (signed 32-bit); 0 for a private queue. */
  key: number;
  /** The key as ipcs prints it: 0x%08x. */
  keyHex: string;
  /** Permission bits (0o777): read to receive, write to send. */
  mode: number;
  /** Current owner. */
  uid: number;
  gid: number;
  /** Creator. */
  cuid: number;
  cgid: number;
  /** msg_qnum: messages in the queue now. */
  messages: number;
  /** msg_cbytes: bytes of text in the queue now. */
  bytes: number;
  /** msg_qbytes: the most bytes of text the queue holds (a send waits beyond it). */
  maxBytes: number;
  /** msg_lspid / msg_lrpid: the pid of the last send and of the last receive; 0 = none yet. */
  lastSendPid: number;
  lastReceivePid: number;
  /** msg_stime / msg_rtime: null before the first send / receive. */
  lastSendTime: Date | null;
  lastReceiveTime: Date | null;
  /** msg_ctime: creation, or the last IPC_SET. */
  lastChangeTime: Date;
}

function date(seconds: number): Date | null {
  return seconds === 0 ? null : new Date(seconds * 1000);
}

export function toMessageQueueStatus(id: number, ds: MsqidDs): MessageQueueStatus {
  return {
    id,
    key: ds.perm.key,
    keyHex: hexKey(ds.perm.key),
    mode: ds.perm.mode & 0o777,
    uid: ds.perm.uid,
    gid: ds.perm.gid,
    cuid: ds.perm.cuid,
    cgid: ds.perm.cgid,
    messages: ds.qnum,
    bytes: ds.cbytes,
    maxBytes: ds.qbytes,
    lastSendPid: ds.lspid,
    lastReceivePid: ds.lrpid,
    lastSendTime: date(ds.stime),
    lastReceiveTime: date(ds.rtime),
    lastChangeTime: new Date(ds.ctime * 1000),
  };
}
