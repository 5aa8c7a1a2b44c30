// The option checks that SemaphoreSet and MessageQueue share (docs/api.md, "Errors": misuse is a TypeError or a
// RangeError, thrown before any system call).
import { ShmError } from '../c/index.js';
import { checkMode, checkUnsigned32 } from '../common/arguments.js';

export function isCode(error: unknown, code: string): boolean {
  return error instanceof ShmError && error.code === code;
}

/** An options argument: undefined (no options) or an object. */
export function checkOptions(op: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${op}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  return options as Record<string, unknown>;
}

export function checkBoolean(op: string, name: string, value: unknown, fallback = false): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${op}: ${name} must be a boolean, got ${typeof value}`);
  return value;
}

/** setPermissions' argument: only uid, gid and mode, each in range. */
export function checkPermissions(op: string, permissions: unknown): { uid?: number; gid?: number; mode?: number } {
  if (typeof permissions !== 'object' || permissions === null || Array.isArray(permissions))
    throw new TypeError(`${op}: needs an object { uid?, gid?, mode? }, got ${permissions === null ? 'null' : typeof permissions}`);
  const { uid, gid, mode, ...rest } = permissions as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new TypeError(`${op}: changes only uid, gid and mode; got ${unknown.join(', ')}`);
  return {
    ...(uid !== undefined && { uid: checkUnsigned32(uid, `${op}: uid`) }),
    ...(gid !== undefined && { gid: checkUnsigned32(gid, `${op}: gid`) }),
    ...(mode !== undefined && { mode: checkMode(mode, `${op}: mode`) }),
  };
}
