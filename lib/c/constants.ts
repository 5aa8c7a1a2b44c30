// The C constants, with the values of the platform we run on (from the generated ABI table, never typed by hand).
// shmctl commands carry a type brand so that TypeScript knows what each shmctl call returns.
import { getAbi } from '../abi/index.js';

const k = getAbi().constants;

declare const commandName: unique symbol;
/** A shmctl command number, tagged with its C name for overload resolution. */
export type ShmctlCommand<Name extends string> = number & { readonly [commandName]: Name };

function command<Name extends string>(name: Name): ShmctlCommand<Name> {
  return k[name] as ShmctlCommand<Name>;
}

export const IPC_PRIVATE: number = k.IPC_PRIVATE;
export const IPC_CREAT: number = k.IPC_CREAT;
export const IPC_EXCL: number = k.IPC_EXCL;
export const IPC_NOWAIT: number = k.IPC_NOWAIT;

export const IPC_RMID = command('IPC_RMID');
export const IPC_SET = command('IPC_SET');
export const IPC_STAT = command('IPC_STAT');
export const IPC_INFO = command('IPC_INFO');
export const SHM_LOCK = command('SHM_LOCK');
export const SHM_UNLOCK = command('SHM_UNLOCK');
export const SHM_STAT = command('SHM_STAT');
export const SHM_INFO = command('SHM_INFO');
export const SHM_STAT_ANY = command('SHM_STAT_ANY');

export const SHM_RDONLY: number = k.SHM_RDONLY;
export const SHM_RND: number = k.SHM_RND;
export const SHM_REMAP: number = k.SHM_REMAP;
export const SHM_EXEC: number = k.SHM_EXEC;

export const SHM_HUGETLB: number = k.SHM_HUGETLB;
export const SHM_NORESERVE: number = k.SHM_NORESERVE;
export const SHM_HUGE_SHIFT: number = k.SHM_HUGE_SHIFT;
export const SHM_HUGE_2MB: number = k.SHM_HUGE_2MB;
export const SHM_HUGE_1GB: number = k.SHM_HUGE_1GB;

/** Mode bits the kernel adds in shm_perm.mode. */
export const SHM_DEST: number = k.SHM_DEST;
export const SHM_LOCKED: number = k.SHM_LOCKED;

/** Names of the shmctl commands by number, for messages and argument checks. */
export const SHMCTL_COMMAND_NAMES: ReadonlyMap<number, string> = new Map(
  (['IPC_RMID', 'IPC_SET', 'IPC_STAT', 'IPC_INFO', 'SHM_LOCK', 'SHM_UNLOCK', 'SHM_STAT', 'SHM_INFO', 'SHM_STAT_ANY'] as const).map(
    (name) => [k[name], name] as const,
  ),
);

/** shmget flags rendered the way C code spells them, e.g. "IPC_CREAT|IPC_EXCL|0600". */
export function describeShmgetFlags(flags: number): string {
  const parts: string[] = [];
  let rest = flags;
  for (const name of ['IPC_CREAT', 'IPC_EXCL', 'SHM_HUGETLB', 'SHM_NORESERVE'] as const) {
    if (k[name] && (rest & k[name]) === k[name]) {
      parts.push(name);
      rest &= ~k[name];
    }
  }
  const hugeBits = rest & (k.SHM_HUGE_MASK << k.SHM_HUGE_SHIFT);
  if (hugeBits) {
    const name = hugeBits === k.SHM_HUGE_2MB ? 'SHM_HUGE_2MB' : hugeBits === k.SHM_HUGE_1GB ? 'SHM_HUGE_1GB' : undefined;
    parts.push(name ?? `(${hugeBits >>> k.SHM_HUGE_SHIFT}<<SHM_HUGE_SHIFT)`);
    rest &= ~hugeBits;
  }
  const mode = rest & 0o777;
  rest &= ~0o777;
  if (rest) parts.push('0x' + (rest >>> 0).toString(16));
  parts.push('0' + mode.toString(8).padStart(3, '0'));
  return parts.join('|');
}

/** shmat flags rendered symbolically. */
export function describeShmatFlags(flags: number): string {
  const parts: string[] = ['SHM_RDONLY', 'SHM_RND', 'SHM_REMAP', 'SHM_EXEC'].filter((name) => flags & k[name]);
  const known = parts.reduce((acc, name) => acc | k[name], 0);
  if (flags & ~known) parts.push('0x' + ((flags & ~known) >>> 0).toString(16));
  return parts.length ? parts.join('|') : '0';
}
