// The system-wide view of SysV shared memory, like ipcs -m: from /proc/sysvipc/shm, or, where /proc is not
// available, by walking the kernel's array with SHM_INFO and SHM_STAT_ANY.
import { SHM_INFO, SHM_STAT_ANY, ShmError, readProcShm, shmctl, stateError, type ProcShmRow } from '../c/index.js';
import { toStatus, type SegmentStatus } from '../segment/status.js';

function fromProc(row: ProcShmRow): SegmentStatus {
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

/** Walks the kernel's array of segments (what ipcs does without /proc). */
function listByShmStat(): SegmentStatus[] {
  const { highestIndex } = shmctl(0, SHM_INFO);
  const found: SegmentStatus[] = [];
  for (let index = 0; index <= highestIndex; index++) {
    try {
      const entry = shmctl(index, SHM_STAT_ANY);
      found.push(toStatus(entry.shmid, entry));
    } catch (error) {
      if (error instanceof ShmError && (error.code === 'EINVAL' || error.code === 'EIDRM')) continue; // an empty slot
      throw error;
    }
  }
  return found;
}

export interface ListOptions {
  /** Where to read from; 'auto' prefers /proc (it also gives rss and swap). */
  source?: 'auto' | 'proc' | 'shmctl';
}

/** Every segment on the system (in this IPC namespace), in id order. */
export function list({ source = 'auto' }: ListOptions = {}): SegmentStatus[] {
  if (source !== 'shmctl') {
    const rows = readProcShm();
    if (rows) return rows.map(fromProc).sort((a, b) => a.id - b.id);
    if (source === 'proc') throw stateError('ENOENT', 'list', '/proc/sysvipc/shm is not readable here; use list({ source: "shmctl" })');
  }
  return listByShmStat().sort((a, b) => a.id - b.id);
}
