// koffi and syscall(2), for the engine and (loaded late, after a QUIT check) for the waiter threads.
import { createRequire } from 'node:module';

export const koffi = createRequire('/work/main/package.json')('koffi');

let lib;
export function libc() {
  lib ??= koffi.load('libc.so.6');
  return lib;
}

/** syscall(2) with a fixed prototype (as lib/native/syscall.ts does: every argument a machine word). */
let sys;
export function syscall() {
  sys ??= libc().func('long syscall(long nr, void *a, long b, long c, void *d, long e, long f)');
  return sys;
}

export function errno() {
  return koffi.errno();
}
