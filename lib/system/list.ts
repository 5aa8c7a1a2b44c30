// The system-wide view of System V IPC, like ipcs -m, -s and -q: from /proc/sysvipc/{shm,sem,msg}, or, where /proc
// is not available, by walking the kernel's arrays with SHM_INFO + SHM_STAT_ANY (SEM_…, MSG_… likewise).
import {
  IPC_STAT,
  MSG_INFO,
  MSG_STAT_ANY,
  SEM_INFO,
  SEM_STAT_ANY,
  SHM_INFO,
  SHM_STAT_ANY,
  ShmError,
  msgctl,
  readProcMsg,
  readProcSem,
  readProcShm,
  semctl,
  shmctl,
  stateError,
  type ProcMsgRow,
  type ProcSemRow,
  type ProcShmRow,
} from '../c/index.js';
import type { MsqidDs, SemidDs } from '../abi/index.js';
import { hexKey } from '../common/format.js';
import { toStatus, type SegmentStatus } from '../segment/status.js';

/** A semaphore set as the system-wide list reports it (ipcs -s): who owns it, how many semaphores, when used. */
export interface SemaphoreSetEntry {
  id: number;
  /** The key as key_t holds it (signed 32-bit); 0 for IPC_PRIVATE. */
  key: number;
  /** The key as ipcs prints it: 0x%08x. */
  keyHex: string;
  /** Permission bits (0o777). */
  mode: number;
  /** Current owner. */
  uid: number;
  gid: number;
  /** Creator. */
  cuid: number;
  cgid: number;
  /** Semaphores in the set (sem_nsems). */
  count: number;
  /** The latest semop on any semaphore of the set; null if none yet. */
  lastOperationTime: Date | null;
  /** Creation, or the latest IPC_SET, SETVAL or SETALL. */
  lastChangeTime: Date;
}

/** A message queue as the system-wide list reports it (ipcs -q). */
export interface MessageQueueEntry {
  id: number;
  /** The key as key_t holds it (signed 32-bit); 0 for IPC_PRIVATE. */
  key: number;
  /** The key as ipcs prints it: 0x%08x. */
  keyHex: string;
  /** Permission bits (0o777). */
  mode: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  /** Messages in the queue (msg_qnum). */
  messages: number;
  /** Bytes of text in the queue's messages (msg_cbytes, "used-bytes" in ipcs). */
  bytes: number;
  /** Most bytes the queue may hold (msg_qbytes). /proc does not show it: read with IPC_STAT, absent when that is refused. */
  maxBytes?: number;
  /** Pids of the latest msgsnd and msgrcv; 0 if none yet. */
  lastSendPid: number;
  lastReceivePid: number;
  lastSendTime: Date | null;
  lastReceiveTime: Date | null;
  /** Creation, or the latest IPC_SET. */
  lastChangeTime: Date;
}

export interface ListOptions {
  /**
   * Where to read from: 'auto' prefers /proc/sysvipc (for segments it also gives rss and swap), 'proc' insists on
   * it, 'shmctl' (list), 'semctl' (listSemaphores), 'msgctl' (listQueues) walk the kernel's array with the
   * *_INFO and *_STAT_ANY commands.
   */
  source?: 'auto' | 'proc' | 'shmctl' | 'semctl' | 'msgctl';
  /**
   * 'id' (the default) sorts by id; 'kernel' keeps the kernel's slot order, which is the order ipcs prints. They
   * differ once ids have wrapped: a reused slot gets a higher sequence number, so a larger id, at a lower slot.
   */
  order?: 'id' | 'kernel';
}

const date = (seconds: number) => (seconds === 0 ? null : new Date(seconds * 1000));

/**
 * Rows from /proc when it can be read (and source allows), else from the walk; undefined rows mean "walk".
 * `what` names the file for the error when source is 'proc' and it cannot be read.
 */
function fromSource<Row, T>(
  source: ListOptions['source'],
  what: 'shm' | 'sem' | 'msg',
  read: () => Row[] | undefined,
  decode: (row: Row) => T,
  walk: () => T[],
): T[] {
  if (source === undefined || source === 'auto' || source === 'proc') {
    const rows = read();
    if (rows) return rows.map(decode);
    if (source === 'proc') {
      const fn = { shm: 'list', sem: 'listSemaphores', msg: 'listQueues' }[what];
      throw stateError('ENOENT', fn, `/proc/sysvipc/${what} is not readable here; use ${fn}({ source: "${what}ctl" })`);
    }
  }
  return walk();
}

function ordered<T extends { id: number }>(entries: T[], order: ListOptions['order'] = 'id'): T[] {
  if (order !== 'id' && order !== 'kernel') throw new TypeError(`order must be 'id' or 'kernel', got ${String(order)}`);
  return order === 'id' ? entries.sort((a, b) => a.id - b.id) : entries;
}

function checkSource(source: unknown, allowed: readonly string[]): void {
  if (source !== undefined && !allowed.includes(source as string)) {
    throw new TypeError(`source must be one of ${allowed.map((s) => `'${s}'`).join(', ')}, got ${String(source)}`);
  }
}

/**
 * Walks the kernel's array of one facility (what ipcs does without /proc): `stat` of every index up to the
 * highest in use; an empty slot answers EINVAL (or EIDRM while being removed).
 */
function walk<T>(highestIndex: number, stat: (index: number) => T): T[] {
  const found: T[] = [];
  for (let index = 0; index <= highestIndex; index++) {
    try {
      found.push(stat(index));
    } catch (error) {
      if (error instanceof ShmError && (error.code === 'EINVAL' || error.code === 'EIDRM')) continue; // an empty slot
      throw error;
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Segments.
function segmentFromProc(row: ProcShmRow): SegmentStatus {
  const status = toStatus(row.shmid, {
    perm: { key: row.key, uid: row.uid, gid: row.gid, cuid: row.cuid, cgid: row.cgid, mode: row.perms, seq: 0 },
    segsz: row.size,
    atime: row.atime,
    dtime: row.dtime,
    ctime: row.ctime,
    cpid: row.cpid,
    lpid: row.lpid,
    nattch: row.nattch,
  });
  // /proc does not print seq, but the id encodes it: id = seq * SEQ_MULTIPLIER + index, and SHM_STAT_ANY has it.
  delete (status as Partial<SegmentStatus>).seq;
  if (row.rss !== undefined) status.rssBytes = row.rss;
  if (row.swap !== undefined) status.swapBytes = row.swap;
  return status;
}

/** Every segment on the system (in this IPC namespace), in id order (or the kernel's, with order: 'kernel'). */
export function list({ source = 'auto', order = 'id' }: ListOptions = {}): SegmentStatus[] {
  checkSource(source, ['auto', 'proc', 'shmctl']);
  const segments = fromSource(source, 'shm', readProcShm, segmentFromProc, () =>
    walk(shmctl(0, SHM_INFO).highestIndex, (index) => {
      const entry = shmctl(index, SHM_STAT_ANY);
      return toStatus(entry.shmid, entry);
    }),
  );
  return ordered(segments, order);
}

// ---------------------------------------------------------------------------------------------------------------
// Semaphore sets.
function semaphoreSet(id: number, ds: SemidDs): SemaphoreSetEntry {
  return {
    id,
    key: ds.perm.key,
    keyHex: hexKey(ds.perm.key),
    mode: ds.perm.mode & 0o777,
    uid: ds.perm.uid,
    gid: ds.perm.gid,
    cuid: ds.perm.cuid,
    cgid: ds.perm.cgid,
    count: ds.nsems,
    lastOperationTime: date(ds.otime),
    lastChangeTime: new Date(ds.ctime * 1000),
  };
}

function semaphoreSetFromProc(row: ProcSemRow): SemaphoreSetEntry {
  const { key, uid, gid, cuid, cgid, mode } = row;
  return semaphoreSet(row.semid, { perm: { key, uid, gid, cuid, cgid, mode, seq: 0 }, otime: row.otime, ctime: row.ctime, nsems: row.nsems });
}

/** Every semaphore set on the system (in this IPC namespace), like ipcs -s: in id order, or the kernel's. */
export function listSemaphores({ source = 'auto', order = 'id' }: ListOptions = {}): SemaphoreSetEntry[] {
  checkSource(source, ['auto', 'proc', 'semctl']);
  const sets = fromSource(source, 'sem', readProcSem, semaphoreSetFromProc, () =>
    walk(semctl(0, 0, SEM_INFO).highestIndex, (index) => {
      const entry = semctl(index, 0, SEM_STAT_ANY);
      return semaphoreSet(entry.semid, entry);
    }),
  );
  return ordered(sets, order);
}

// ---------------------------------------------------------------------------------------------------------------
// Message queues.
function queue(id: number, ds: Omit<MsqidDs, 'qbytes'> & { qbytes?: number }): MessageQueueEntry {
  const entry: MessageQueueEntry = {
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
    lastSendPid: ds.lspid,
    lastReceivePid: ds.lrpid,
    lastSendTime: date(ds.stime),
    lastReceiveTime: date(ds.rtime),
    lastChangeTime: new Date(ds.ctime * 1000),
  };
  if (ds.qbytes !== undefined) entry.maxBytes = ds.qbytes;
  return entry;
}

/** msg_qbytes of a queue by IPC_STAT (ipcs -q -i does the same), or undefined when refused or gone. */
export function queueMaxBytes(msqid: number): number | undefined {
  try {
    return msgctl(msqid, IPC_STAT).qbytes;
  } catch (error) {
    if (error instanceof ShmError) return undefined;
    throw error;
  }
}

function queueFromProc(row: ProcMsgRow): MessageQueueEntry {
  const { key, uid, gid, cuid, cgid, mode } = row;
  return queue(row.msqid, {
    perm: { key, uid, gid, cuid, cgid, mode, seq: 0 },
    stime: row.stime,
    rtime: row.rtime,
    ctime: row.ctime,
    cbytes: row.cbytes,
    qnum: row.qnum,
    qbytes: queueMaxBytes(row.msqid),
    lspid: row.lspid,
    lrpid: row.lrpid,
  });
}

/** Every message queue on the system (in this IPC namespace), like ipcs -q: in id order, or the kernel's. */
export function listQueues({ source = 'auto', order = 'id' }: ListOptions = {}): MessageQueueEntry[] {
  checkSource(source, ['auto', 'proc', 'msgctl']);
  const queues = fromSource(source, 'msg', readProcMsg, queueFromProc, () =>
    walk(msgctl(0, MSG_INFO).highestIndex, (index) => {
      const entry = msgctl(index, MSG_STAT_ANY);
      return queue(entry.msqid, entry);
    }),
  );
  return ordered(queues, order);
}
