// Reading the kernel's own view of SysV shared memory from /proc. Raw rows only; decoding into friendly
// objects happens in the layers above. Returns undefined when /proc is not mounted or hides sysvipc.
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

export const PROC_SYSVIPC_SHM = '/proc/sysvipc/shm';

export function readProcShm(path = PROC_SYSVIPC_SHM): ProcShmRow[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines.shift()?.trim().split(/\s+/) ?? [];
  const column = (name: string) => header.indexOf(name);
  const rows: ProcShmRow[] = [];
  for (const line of lines) {
    const cells = line.trim().split(/\s+/);
    const num = (name: string) => {
      const i = column(name);
      return i < 0 || cells[i] === undefined ? undefined : Number(cells[i]);
    };
    rows.push({
      key: num('key') ?? 0,
      shmid: num('shmid') ?? -1,
      // The kernel prints the mode with %4o: octal digits.
      perms: parseInt(cells[column('perms')] ?? '0', 8),
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
    });
  }
  return rows;
}

/** The /proc/sysvipc/shm row of one segment, by id or by key (signed or unsigned), or undefined. */
export function procRowById(shmid: number): ProcShmRow | undefined {
  return readProcShm()?.find((row) => row.shmid === shmid);
}
export function procRowByKey(key: number): ProcShmRow | undefined {
  return readProcShm()?.find((row) => row.key === (key | 0));
}

/** A kernel tunable from /proc/sys/kernel (shmmax, shmall, shmmni), or undefined when unreadable. */
export function readKernelTunable(name: string): bigint | undefined {
  try {
    return BigInt(readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim());
  } catch {
    return undefined;
  }
}
