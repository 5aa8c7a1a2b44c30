// The C constants, with the values of the platform we run on (from the generated ABI table, never typed by hand).
// shmctl, semctl and msgctl commands carry a type brand so that TypeScript knows what each call returns.
import { getAbi } from '../abi/index.js';

const k = getAbi().constants;

declare const commandName: unique symbol;
/** A shmctl command number, tagged with its C name for overload resolution. */
export type ShmctlCommand<Name extends string> = number & { readonly [commandName]: Name };
/** A semctl command number, tagged with its C name (the IPC_* commands are shared with shmctl and msgctl). */
export type SemctlCommand<Name extends string> = ShmctlCommand<Name>;
/** A msgctl command number, tagged with its C name (the IPC_* commands are shared with shmctl and semctl). */
export type MsgctlCommand<Name extends string> = ShmctlCommand<Name>;

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

// System V semaphores (semget, semop, semctl).

/** sem_flg: undo the operation when the process exits. */
export const SEM_UNDO: number = k.SEM_UNDO;
export const GETPID = command('GETPID');
export const GETVAL = command('GETVAL');
export const GETALL = command('GETALL');
export const GETNCNT = command('GETNCNT');
export const GETZCNT = command('GETZCNT');
export const SETVAL = command('SETVAL');
export const SETALL = command('SETALL');
export const SEM_STAT = command('SEM_STAT');
export const SEM_INFO = command('SEM_INFO');
export const SEM_STAT_ANY = command('SEM_STAT_ANY');

/** The largest value of a semaphore (a kernel constant). */
export const SEMVMX: number = k.SEMVMX;
/**
 * Compile-time defaults of the kernel's limits, for documentation: the limits in force are in
 * /proc/sys/kernel/sem ("SEMMSL SEMMNS SEMOPM SEMMNI") and semctl(0, 0, IPC_INFO).
 */
export const SEMMSL: number = k.SEMMSL;
export const SEMOPM: number = k.SEMOPM;
export const SEMMNI: number = k.SEMMNI;
export const SEMAEM: number = k.SEMAEM;

// System V message queues (msgget, msgsnd, msgrcv, msgctl).

/** msgrcv: truncate a longer message to msgsz instead of failing with E2BIG. */
export const MSG_NOERROR: number = k.MSG_NOERROR;
/** msgrcv: with msgtyp > 0, the first message of any other type. */
export const MSG_EXCEPT: number = k.MSG_EXCEPT;
/** msgrcv: copy the message at index msgtyp without removing it (with IPC_NOWAIT; Linux with CONFIG_CHECKPOINT_RESTORE). */
export const MSG_COPY: number = k.MSG_COPY;
export const MSG_STAT = command('MSG_STAT');
export const MSG_INFO = command('MSG_INFO');
export const MSG_STAT_ANY = command('MSG_STAT_ANY');
/** Compile-time defaults; the limits in force are /proc/sys/kernel/msgmax, msgmnb, msgmni (msgctl(0, IPC_INFO)). */
export const MSGMAX: number = k.MSGMAX;
export const MSGMNB: number = k.MSGMNB;
export const MSGMNI: number = k.MSGMNI;

/** Names of the semctl commands by number, for messages and argument checks. */
export const SEMCTL_COMMAND_NAMES: ReadonlyMap<number, string> = new Map(
  (
    [
      'IPC_RMID',
      'IPC_SET',
      'IPC_STAT',
      'IPC_INFO',
      'GETPID',
      'GETVAL',
      'GETALL',
      'GETNCNT',
      'GETZCNT',
      'SETVAL',
      'SETALL',
      'SEM_STAT',
      'SEM_INFO',
      'SEM_STAT_ANY',
    ] as const
  ).map((name) => [k[name], name] as const),
);

/** Names of the msgctl commands by number, for messages and argument checks. */
export const MSGCTL_COMMAND_NAMES: ReadonlyMap<number, string> = new Map(
  (['IPC_RMID', 'IPC_SET', 'IPC_STAT', 'IPC_INFO', 'MSG_STAT', 'MSG_INFO', 'MSG_STAT_ANY'] as const).map((name) => [k[name], name] as const),
);

/** Named bits first, then what is left in hex, then the mode in octal (when `withMode`). */
function describeBits(flags: number, names: readonly string[], withMode: boolean): string {
  const parts: string[] = [];
  let rest = flags;
  for (const name of names) {
    if (k[name] && (rest & k[name]) === k[name]) {
      parts.push(name);
      rest &= ~k[name];
    }
  }
  const mode = withMode ? rest & 0o777 : 0;
  if (withMode) rest &= ~0o777;
  if (rest) parts.push('0x' + (rest >>> 0).toString(16));
  if (withMode) parts.push('0' + mode.toString(8).padStart(3, '0'));
  return parts.length ? parts.join('|') : '0';
}

/** semget/msgget flags rendered the way C code spells them, e.g. "IPC_CREAT|IPC_EXCL|0600". */
export function describeGetFlags(flags: number): string {
  return describeBits(flags, ['IPC_CREAT', 'IPC_EXCL'], true);
}

/** A sembuf's sem_flg rendered symbolically, e.g. "IPC_NOWAIT|SEM_UNDO". */
export function describeSemFlags(flags: number): string {
  return describeBits(flags & 0xffff, ['IPC_NOWAIT', 'SEM_UNDO'], false);
}

/** msgsnd/msgrcv flags rendered symbolically, e.g. "IPC_NOWAIT|MSG_NOERROR" (never the socket MSG_* flags). */
export function describeMsgFlags(flags: number): string {
  return describeBits(flags, ['IPC_NOWAIT', 'MSG_NOERROR', 'MSG_EXCEPT', 'MSG_COPY'], false);
}

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
