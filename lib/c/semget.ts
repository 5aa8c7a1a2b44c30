// semget(2): create or open a semaphore set by key.
import { libc } from '../native/libc.js';
import { errnoError } from './errors.js';
import { hexKey } from '../common/format.js';
import { describeGetFlags } from './constants.js';
import { checkFlags, checkKey, checkNonNegativeInt } from '../common/arguments.js';

/**
 * Returns the set's id. `key` may be signed or unsigned 32-bit (IPC_PRIVATE for a new private set); `nsems` is the
 * number of semaphores of a new set (at most SEMMSL), 0 or at most the set's own count to open an existing one.
 * A new set's semaphores are 0.
 */
export function semget(key: number, nsems: number, semflg: number): number {
  const k = checkKey(key);
  const count = checkNonNegativeInt(nsems, 'nsems', 'the number of semaphores, 0 to open an existing set');
  const flags = checkFlags(semflg, 'semflg');
  const id = libc().semget(k, count, flags);
  if (id === -1) {
    throw errnoError({
      syscall: 'semget',
      call: `semget(key=${hexKey(k)}, nsems=${count}, flags=${describeGetFlags(flags)})`,
      key: k,
      nsems: count,
      flags,
    });
  }
  return id;
}
