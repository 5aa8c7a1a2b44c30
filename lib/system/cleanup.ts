// Finding and removing objects nobody will come back for.
import { IPC_RMID, msgctl, msgget, processExists, semctl, semget, shmctl, shmget } from '../c/index.js';
import { checkKey, checkMsqid, checkSemid, checkShmid } from '../common/arguments.js';
import { list } from './list.js';
import type { SegmentStatus } from '../segment/status.js';

/** Segments nobody is attached to whose creator and last user are both gone. */
export function orphans(): SegmentStatus[] {
  return list().filter((s) => s.attached === 0 && !processExists(s.creatorPid) && !processExists(s.lastPid));
}

/** The three facilities: shared memory segments, semaphore sets, message queues (as ipcrm -a=shm|sem|msg names them). */
export type IpcKind = 'shm' | 'sem' | 'msg';

export type RemoveTarget = { id: number; kind?: IpcKind } | { key: number; kind?: IpcKind };

const USAGE = "remove takes { id } or { key }, with kind 'shm' (the default), 'sem' or 'msg'";

/**
 * IPC_RMID by id, or by key (looked up with shmget(key, 0, 0), semget(key, 0, 0) or msgget(key, 0)): a segment
 * (kind 'shm', the default), a semaphore set ('sem') or a message queue ('msg'). Returns the id removed.
 */
export function remove(target: RemoveTarget): number {
  if (typeof target !== 'object' || target === null) throw new TypeError(USAGE);
  const kind = target.kind ?? 'shm';
  if (kind !== 'shm' && kind !== 'sem' && kind !== 'msg') throw new TypeError(`${USAGE}; got kind ${JSON.stringify(kind)}`);
  let id: number;
  if ('id' in target) id = (kind === 'shm' ? checkShmid : kind === 'sem' ? checkSemid : checkMsqid)(target.id, 'id');
  else if ('key' in target) {
    const key = checkKey(target.key);
    id = kind === 'shm' ? shmget(key, 0, 0) : kind === 'sem' ? semget(key, 0, 0) : msgget(key, 0);
  } else throw new TypeError(USAGE);
  if (kind === 'shm') shmctl(id, IPC_RMID);
  else if (kind === 'sem') semctl(id, 0, IPC_RMID);
  else msgctl(id, IPC_RMID);
  return id;
}
