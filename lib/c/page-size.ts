// sysconf(_SC_PAGESIZE): the unit of every mapping and of SHMALL.
import { libc } from '../native/libc.js';

export function pageSize(): number {
  return libc().pageSize;
}
