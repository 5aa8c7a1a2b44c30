// Reading the kernel's own view of System V IPC from /proc: /proc/sysvipc/{shm,sem,msg} and the tunables in
// /proc/sys/kernel. Raw rows only; decoding into friendly objects happens in the layers above. The readers return
// undefined when /proc is not mounted or hides sysvipc.
import { readFileSync } from 'node:fs';

/** One row of /proc/sysvipc/shm, numbers as the kernel printed them (rss/swap are bytes, times seconds). */
export interface ProcShmRow {
  key: number; // signed, as printed
  shmid: number;
  perms: number; // the kernel prints mode in octal-looking decimal digits: "600" means 0o600 plus SHM_DEST/SHM_LOCKED bits
  size: number;
  cpid: number;
  lpid: number;
  nattch: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  atime: number;
  dtime: number;
  ctime: number;
  rss?: number;
  swap?: number;
}

/** One row of /proc/sysvipc/sem (times in seconds; otime is the latest semop of any semaphore of the set, 0 if none). */
export interface ProcSemRow {
  key: number; // signed, as printed
  semid: number;
  /** The mode (the kernel prints it in octal). */
  mode: number;
  nsems: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  otime: number;
  ctime: number;
}

/** One row of /proc/sysvipc/msg (no qbytes: the kernel does not print it; IPC_STAT has it). */
export interface ProcMsgRow {
  key: number; // signed, as printed
  msqid: number;
  /** The mode (the kernel prints it in octal). */
  mode: number;
  /** Bytes in the queue's messages (msg_cbytes). */
  cbytes: number;
  /** Messages in the queue (msg_qnum). */
  qnum: number;
  lspid: number;
  lrpid: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  stime: number;
  rtime: number;
  ctime: number;
}

export type SysvipcKind = 'shm' | 'sem' | 'msg';

export const PROC_SYSVIPC_SHM = '/proc/sysvipc/shm';
export const PROC_SYSVIPC_SEM = '/proc/sysvipc/sem';
export const PROC_SYSVIPC_MSG = '/proc/sysvipc/msg';

/** A row of a /proc/sysvipc file, keyed by the names of the file's own header line. */
export interface ProcCells {
  /** The cell under this column name as a number (decimal), or undefined when the kernel prints no such column. */
  num(name: string): number | undefined;
  /** The cell under this column name read as octal (the kernel prints perms with %o). */
  octal(name: string): number | undefined;
}

/**
 * Every row of /proc/sysvipc/<kind> (or of `path`), in the kernel's order (slot order, as ipcs prints them), as
 * cells keyed by the header line's names: columns are found by name, so that a kernel adding or moving one does
 * not shift the others. undefined when the file cannot be read.
 */
export function readProcSysvipc(kind: SysvipcKind, path = `/proc/sysvipc/${kind}`): ProcCells[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines.shift()?.trim().split(/\s+/) ?? [];
  const columns = new Map(header.map((name, i) => [name, i]));
  return lines.map((line) => {
    const cells = line.trim().split(/\s+/);
    const cell = (name: string) => {
      const i = columns.get(name);
      return i === undefined ? undefined : cells[i];
    };
    return {
      num: (name) => {
        const text = cell(name);
        return text === undefined ? undefined : Number(text);
      },
      octal: (name) => {
        const text = cell(name);
        return text === undefined ? undefined : parseInt(text, 8);
      },
    };
  });
}

export function readProcShm(path = PROC_SYSVIPC_SHM): ProcShmRow[] | undefined {
  return readProcSysvipc('shm', path)?.map(({ num, octal }) => ({
    key: num('key') ?? 0,
    shmid: num('shmid') ?? -1,
    // The kernel prints the mode with %4o: octal digits.
    perms: octal('perms') ?? 0,
    size: num('size') ?? 0,
    cpid: num('cpid') ?? 0,
    lpid: num('lpid') ?? 0,
    nattch: num('nattch') ?? 0,
    uid: num('uid') ?? 0,
    gid: num('gid') ?? 0,
    cuid: num('cuid') ?? 0,
    cgid: num('cgid') ?? 0,
    atime: num('atime') ?? 0,
    dtime: num('dtime') ?? 0,
    ctime: num('ctime') ?? 0,
    rss: num('rss'),
    swap: num('swap'),
  }));
}

/** Every semaphore set of /proc/sysvipc/sem (or `path`), in the kernel's order; undefined when unreadable. */
export function readProcSem(path = PROC_SYSVIPC_SEM): ProcSemRow[] | undefined {
  return readProcSysvipc('sem', path)?.map(({ num, octal }) => ({
    key: num('key') ?? 0,
    semid: num('semid') ?? -1,
    mode: octal('perms') ?? 0,
    nsems: num('nsems') ?? 0,
    uid: num('uid') ?? 0,
    gid: num('gid') ?? 0,
    cuid: num('cuid') ?? 0,
    cgid: num('cgid') ?? 0,
    otime: num('otime') ?? 0,
    ctime: num('ctime') ?? 0,
  }));
}

/** Every message queue of /proc/sysvipc/msg (or `path`), in the kernel's order; undefined when unreadable. */
export function readProcMsg(path = PROC_SYSVIPC_MSG): ProcMsgRow[] | undefined {
  return readProcSysvipc('msg', path)?.map(({ num, octal }) => ({
    key: num('key') ?? 0,
    msqid: num('msqid') ?? -1,
    mode: octal('perms') ?? 0,
    cbytes: num('cbytes') ?? 0,
    qnum: num('qnum') ?? 0,
    lspid: num('lspid') ?? 0,
    lrpid: num('lrpid') ?? 0,
    uid: num('uid') ?? 0,
    gid: num('gid') ?? 0,
    cuid: num('cuid') ?? 0,
    cgid: num('cgid') ?? 0,
    stime: num('stime') ?? 0,
    rtime: num('rtime') ?? 0,
    ctime: num('ctime') ?? 0,
  }));
}

/** The /proc/sysvipc/shm row of one segment, by id or by key (signed or unsigned), or undefined. */
export function procRowById(shmid: number): ProcShmRow | undefined {
  return readProcShm()?.find((row) => row.shmid === shmid);
}
export function procRowByKey(key: number): ProcShmRow | undefined {
  return readProcShm()?.find((row) => row.key === (key | 0));
}

/** The /proc/sysvipc/sem row of one set, by id or by key (signed or unsigned), or undefined. */
export function procSemRowById(semid: number): ProcSemRow | undefined {
  return readProcSem()?.find((row) => row.semid === semid);
}
export function procSemRowByKey(key: number): ProcSemRow | undefined {
  return readProcSem()?.find((row) => row.key === (key | 0));
}

/** The /proc/sysvipc/msg row of one queue, by id or by key (signed or unsigned), or undefined. */
export function procMsgRowById(msqid: number): ProcMsgRow | undefined {
  return readProcMsg()?.find((row) => row.msqid === msqid);
}
export function procMsgRowByKey(key: number): ProcMsgRow | undefined {
  return readProcMsg()?.find((row) => row.key === (key | 0));
}

/** A kernel tunable from /proc/sys/kernel (shmmax, shmall, shmmni, msgmax, msgmnb, msgmni), or undefined when unreadable. */
export function readKernelTunable(name: string): bigint | undefined {
  try {
    return BigInt(readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** /proc/sys/kernel/sem: the semaphore limits, in the file's order "semmsl semmns semopm semmni". */
export interface KernelSemLimits {
  /** Most semaphores in one set (SEMMSL). */
  semmsl: number;
  /** Most semaphores on the system (SEMMNS). */
  semmns: number;
  /** Most operations in one semop call (SEMOPM). */
  semopm: number;
  /** Most sets on the system (SEMMNI). */
  semmni: number;
}

/** The four numbers of /proc/sys/kernel/sem (or `path`), or undefined when unreadable or not four integers. */
export function readKernelSemLimits(path = '/proc/sys/kernel/sem'): KernelSemLimits | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const numbers = text.trim().split(/\s+/);
  if (numbers.length < 4 || !numbers.slice(0, 4).every((n) => /^-?\d+$/.test(n))) return undefined;
  const [semmsl, semmns, semopm, semmni] = numbers.map(Number);
  return { semmsl, semmns, semopm, semmni };
}
