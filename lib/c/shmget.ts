// shmget(2): create or open a segment by key.
import { libc } from '../native/libc.js';
import { errnoError } from './errors.js';
import { hexKey } from '../common/format.js';
import { describeShmgetFlags } from './constants.js';
import { checkFlags, checkKey, checkSize } from '../common/arguments.js';

/** The largest size_t this process can pass. */
function maxSize(): number {
  return libc().abi.pointerSize === 4 ? 2 ** 32 - 1 : Number.MAX_SAFE_INTEGER;
}

/**
 * Returns the segment id. `key` may be signed or unsigned 32-bit (IPC_PRIVATE for a new private segment);
 * `size` 0 opens an existing segment; the kernel rounds a new segment's memory up to whole pages.
 */
export function shmget(key: number, size: number, shmflg: number): number {
  const k = checkKey(key);
  const bytes = checkSize(size, maxSize());
  const flags = checkFlags(shmflg);
  const id = libc().shmget(k, bytes, flags);
  if (id === -1) {
    throw errnoError({
      syscall: 'shmget',
      call: `shmget(key=${hexKey(k)}, size=${bytes}, flags=${describeShmgetFlags(flags)})`,
      key: k,
      size: bytes,
      flags,
    });
  }
  return id;
}
