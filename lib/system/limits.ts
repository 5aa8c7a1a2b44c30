// System limits and usage, like ipcs -l and ipcs -u.
import { IPC_INFO, SHM_INFO, pageSize as systemPageSize, readKernelTunable, shmctl } from '../c/index.js';

export interface Limits {
  /** Largest segment, in bytes (SHMMAX). */
  shmmax: bigint;
  /** Smallest segment, in bytes (SHMMIN). */
  shmmin: bigint;
  /** Most segments on the system (SHMMNI). */
  shmmni: bigint;
  /** Most segments one process may attach (SHMSEG; Linux does not enforce it). */
  shmseg: bigint;
  /** Most shared memory on the system, in pages (SHMALL). */
  shmall: bigint;
  /** shmall in bytes. */
  shmallBytes: bigint;
  pageSize: number;
  /** Where shmmax, shmall and shmmni were read: /proc/sys/kernel, or IPC_INFO when /proc is unavailable. */
  source: 'proc' | 'ipc_info';
}

const big = (value: number | bigint) => BigInt(value);

export function limits(): Limits {
  const info = shmctl(0, IPC_INFO);
  const pageSize = systemPageSize();
  const fromProc = { shmmax: readKernelTunable('shmmax'), shmall: readKernelTunable('shmall'), shmmni: readKernelTunable('shmmni') };
  const complete = fromProc.shmmax !== undefined && fromProc.shmall !== undefined && fromProc.shmmni !== undefined;
  const shmall = fromProc.shmall ?? big(info.shmall);
  return {
    shmmax: fromProc.shmmax ?? big(info.shmmax),
    shmmin: big(info.shmmin),
    shmmni: fromProc.shmmni ?? big(info.shmmni),
    shmseg: big(info.shmseg),
    shmall,
    shmallBytes: shmall * BigInt(pageSize),
    pageSize,
    source: complete ? 'proc' : 'ipc_info',
  };
}

export interface Summary {
  /** Segments in use. */
  segments: number;
  /** Pages allocated to all segments (shm_tot). */
  pagesAllocated: bigint;
  pagesResident: bigint;
  pagesSwapped: bigint;
  swapAttempts: bigint;
  swapSuccesses: bigint;
}

/** Current usage, from SHM_INFO. */
export function summary(): Summary {
  const info = shmctl(0, SHM_INFO);
  return {
    segments: info.usedIds,
    pagesAllocated: big(info.shmTot),
    pagesResident: big(info.shmRss),
    pagesSwapped: big(info.shmSwp),
    swapAttempts: big(info.swapAttempts),
    swapSuccesses: big(info.swapSuccesses),
  };
}
