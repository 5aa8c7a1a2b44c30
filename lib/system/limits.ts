// System limits and usage, like ipcs -l and ipcs -u: shared memory at the top level (as before semaphore sets and
// queues came), semaphores in `sem`, message queues in `msg`.
import {
  IPC_INFO,
  MSG_INFO,
  SEM_INFO,
  SEMAEM,
  SEMVMX,
  SHM_INFO,
  msgctl,
  pageSize as systemPageSize,
  readKernelSemLimits,
  readKernelTunable,
  semctl,
  shmctl,
} from '../c/index.js';

/** Semaphore limits, like ipcs -s -l. */
export interface SemaphoreLimits {
  /** Most semaphore sets on the system (SEMMNI). */
  semmni: number;
  /** Most semaphores in one set (SEMMSL). */
  semmsl: number;
  /** Most semaphores on the system (SEMMNS). */
  semmns: number;
  /** Most operations in one semop call (SEMOPM). */
  semopm: number;
  /** Largest value of a semaphore (SEMVMX, 32767). */
  semvmx: number;
  /** Largest adjustment SEM_UNDO records for one semaphore (SEMAEM, 32767). */
  semaem: number;
  /** Where they were read: /proc/sys/kernel/sem, or IPC_INFO when /proc is unavailable. */
  source: 'proc' | 'ipc_info';
}

/** Message queue limits, like ipcs -q -l. */
export interface MessageQueueLimits {
  /** Most queues on the system (MSGMNI). */
  msgmni: number;
  /** Largest message, in bytes (MSGMAX). */
  msgmax: number;
  /** The most bytes a new queue may hold (MSGMNB; msg_qbytes of a new queue). */
  msgmnb: number;
  /** Where they were read: /proc/sys/kernel/msg{mni,max,mnb}, or IPC_INFO when /proc is unavailable. */
  source: 'proc' | 'ipc_info';
}

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
  /** Semaphore sets. */
  sem: SemaphoreLimits;
  /** Message queues. */
  msg: MessageQueueLimits;
}

const big = (value: number | bigint) => BigInt(value);

/** Semaphore limits: /proc/sys/kernel/sem, else semctl IPC_INFO (as ipcs does). */
export function semaphoreLimits(): SemaphoreLimits {
  const proc = readKernelSemLimits();
  if (proc) return { semmni: proc.semmni, semmsl: proc.semmsl, semmns: proc.semmns, semopm: proc.semopm, semvmx: SEMVMX, semaem: SEMAEM, source: 'proc' };
  const info = semctl(0, 0, IPC_INFO);
  return { semmni: info.semmni, semmsl: info.semmsl, semmns: info.semmns, semopm: info.semopm, semvmx: info.semvmx, semaem: info.semaem, source: 'ipc_info' };
}

/** Message queue limits: /proc/sys/kernel/msg{mni,max,mnb}, else msgctl IPC_INFO (as ipcs does). */
export function messageQueueLimits(): MessageQueueLimits {
  const [msgmni, msgmax, msgmnb] = ['msgmni', 'msgmax', 'msgmnb'].map(readKernelTunable);
  if (msgmni !== undefined && msgmax !== undefined && msgmnb !== undefined) {
    return { msgmni: Number(msgmni), msgmax: Number(msgmax), msgmnb: Number(msgmnb), source: 'proc' };
  }
  const info = msgctl(0, IPC_INFO);
  return { msgmni: info.msgmni, msgmax: info.msgmax, msgmnb: info.msgmnb, source: 'ipc_info' };
}

/** Shared memory limits (the top level of limits()). */
export function sharedMemoryLimits(): Omit<Limits, 'sem' | 'msg'> {
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

export function limits(): Limits {
  return { ...sharedMemoryLimits(), sem: semaphoreLimits(), msg: messageQueueLimits() };
}

/** Semaphore usage, like ipcs -s -u (SEM_INFO). */
export interface SemaphoreSummary {
  /** Semaphore sets in use ("used arrays"). */
  sets: number;
  /** Semaphores in all sets together ("allocated semaphores"). */
  semaphores: number;
}

/** Message queue usage, like ipcs -q -u (MSG_INFO). */
export interface MessageQueueSummary {
  /** Queues in use ("allocated queues"). */
  queues: number;
  /** Messages in all queues together ("used headers"). */
  messages: number;
  /** Bytes of text in all queues together ("used space"). */
  bytes: number;
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
  /** Semaphore sets. */
  sem: SemaphoreSummary;
  /** Message queues. */
  msg: MessageQueueSummary;
}

/** Shared memory usage (the top level of summary(), SHM_INFO). */
export function sharedMemorySummary(): Omit<Summary, 'sem' | 'msg'> {
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

/** Semaphore usage (SEM_INFO). */
export function semaphoreSummary(): SemaphoreSummary {
  const info = semctl(0, 0, SEM_INFO);
  return { sets: info.semusz, semaphores: info.semaem };
}

/** Message queue usage (MSG_INFO). */
export function messageQueueSummary(): MessageQueueSummary {
  const info = msgctl(0, MSG_INFO);
  return { queues: info.msgpool, messages: info.msgmap, bytes: info.msgtql };
}

/** Current usage: SHM_INFO, SEM_INFO and MSG_INFO. */
export function summary(): Summary {
  return { ...sharedMemorySummary(), sem: semaphoreSummary(), msg: messageQueueSummary() };
}
