// Which object a create or an open means: a key, ftok's inputs, or an id; shared by SemaphoreSet and MessageQueue.
import { ftok, IPC_PRIVATE } from '../c/index.js';
import { INT32_MAX } from '../common/arguments.js';

/** What open() takes: a key (a number, or `{ key }`), ftok's inputs, or an id another process handed over. */
export type OpenTarget = number | { key: number } | { path: string; projId: number | string } | { id: number };

/** How create() names its key: `key`, or `path` + `projId` (ftok); neither is a private object (IPC_PRIVATE). */
export interface KeyOptions {
  key?: number;
  path?: string;
  projId?: number | string;
}

export function keyOf(op: string, options: KeyOptions): number {
  if (options.path !== undefined) {
    if (options.key !== undefined) throw new TypeError(`${op}: give either key or path + projId, not both`);
    if (options.projId === undefined) throw new TypeError(`${op}: path needs a projId (1..255) for ftok`);
    return ftok(options.path, options.projId);
  }
  if (options.projId !== undefined) throw new TypeError(`${op}: projId needs a path for ftok`);
  return options.key ?? IPC_PRIVATE;
}

/** The key (checked by the get call) or the id that `target` names; a private key is a RangeError. */
export function resolveTarget(op: string, target: unknown, what: string): { key: number } | { id: number } {
  let key: number;
  if (typeof target === 'number') key = target;
  else if (typeof target === 'object' && target !== null && 'id' in target) {
    const id = (target as { id: unknown }).id;
    if (typeof id !== 'number') throw new TypeError(`${op}: id must be a number, got ${typeof id}`);
    if (!Number.isInteger(id) || id < 0 || id > INT32_MAX) throw new RangeError(`${op}: id must be an integer 0..${INT32_MAX}, got ${id}`);
    return { id };
  } else if (typeof target === 'object' && target !== null && 'path' in target) {
    const { path, projId } = target as { path: string; projId: number | string };
    key = ftok(path, projId);
  } else if (typeof target === 'object' && target !== null && 'key' in target) {
    key = (target as { key: number }).key;
  } else {
    throw new TypeError(`${op} takes a key, { key }, { path, projId } or { id }`);
  }
  if (key === IPC_PRIVATE) throw new RangeError(`${op}: a private ${what} has no key to open it by: open it by { id }`);
  return { key };
}
