// msgget(2): create or open a message queue by key.
import { libc } from '../native/libc.js';
import { errnoError } from './errors.js';
import { hexKey } from '../common/format.js';
import { describeGetFlags } from './constants.js';
import { checkFlags, checkKey } from '../common/arguments.js';

/** Returns the queue's id. `key` may be signed or unsigned 32-bit (IPC_PRIVATE for a new private queue). */
export function msgget(key: number, msgflg: number): number {
  const k = checkKey(key);
  const flags = checkFlags(msgflg, 'msgflg');
  const id = libc().msgget(k, flags);
  if (id === -1) {
    throw errnoError({ syscall: 'msgget', call: `msgget(key=${hexKey(k)}, flags=${describeGetFlags(flags)})`, key: k, flags });
  }
  return id;
}
