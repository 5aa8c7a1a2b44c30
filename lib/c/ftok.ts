// ftok(3): a key from a file's inode and device plus an 8-bit project id.
import { libc } from '../native/libc.js';
import { errnoError } from './errors.js';
import { checkPath, checkProjId } from '../common/arguments.js';

/**
 * Returns the key C's ftok would return for the same file and id (a signed 32-bit number, as key_t is).
 * `projId` is 1..255, or a one-character string such as 'A' (C code often passes a char).
 */
export function ftok(path: string, projId: number | string): number {
  const file = checkPath(path);
  const id = checkProjId(projId);
  const key = libc().ftok(file, id);
  if (key === -1) {
    throw errnoError({ syscall: 'ftok', call: `ftok(${JSON.stringify(file)}, ${id})`, path: file });
  }
  return key;
}
