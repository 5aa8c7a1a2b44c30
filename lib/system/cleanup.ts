// Finding and removing segments nobody will come back for.
import { IPC_RMID, processExists, shmctl, shmget } from '../c/index.js';
import { checkKey, checkShmid } from '../common/arguments.js';
import { list } from './list.js';
import type { SegmentStatus } from '../segment/status.js';

/** Segments nobody is attached to whose creator and last user are both gone. */
export function orphans(): SegmentStatus[] {
  return list().filter((s) => s.attached === 0 && !processExists(s.creatorPid) && !processExists(s.lastPid));
}

/** IPC_RMID by id, or by key (looked up with shmget(key, 0, 0)). */
export function remove(target: { id: number } | { key: number }): void {
  if (typeof target !== 'object' || target === null) throw new TypeError('remove takes { id } or { key }');
  if ('id' in target) {
    shmctl(checkShmid(target.id, 'id'), IPC_RMID);
    return;
  }
  if ('key' in target) {
    shmctl(shmget(checkKey(target.key), 0, 0), IPC_RMID);
    return;
  }
  throw new TypeError('remove takes { id } or { key }');
}
