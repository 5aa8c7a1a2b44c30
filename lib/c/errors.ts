// Errors shaped like Node's own (fs, net): `code` is the errno name, `errno` its number on this target,
// `syscall` the C function that failed. The message starts with the code, names the call with its arguments,
// and says what to do where we can tell.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { libc } from '../native/libc.js';
import {
  procMsgRowById,
  procMsgRowByKey,
  procRowById,
  procRowByKey,
  procSemRowById,
  procSemRowByKey,
  readKernelSemLimits,
  readKernelTunable,
} from '../native/procfs.js';
import { hexKey, octalMode } from '../common/format.js';

export interface ShmErrorFields {
  code: string;
  /** Only when `code` is an errno name. */
  errno?: number;
  /** Only when a C call failed. */
  syscall?: string;
  operation?: string;
  cause?: unknown;
  key?: number;
  shmid?: number;
  /** The semaphore set a call was about (semget, semop, semtimedop, semctl). */
  semid?: number;
  /** The message queue a call was about (msgget, msgsnd, msgrcv, msgctl). */
  msqid?: number;
  path?: string;
}

/** A failure of the system, of a peer or of an object's state (docs/api.md, "Errors"); misuse is TypeError/RangeError. */
// Optional fields are `declare`d: absent, not undefined, when they do not apply (as on Node's own errors).
export class ShmError extends Error {
  /** errno name, e.g. 'ENOENT', or ERR_SHM_* for a state the library refuses. */
  readonly code: string;
  /** errno number on this platform, when `code` is an errno name. */
  declare readonly errno?: number;
  /** The C call that failed, e.g. 'shmget'; absent when none did. */
  declare readonly syscall?: string;
  /** The API call that raised this error, e.g. 'Segment.create'. */
  declare readonly operation?: string;
  declare readonly key?: number;
  declare readonly shmid?: number;
  declare readonly semid?: number;
  declare readonly msqid?: number;
  declare readonly path?: string;

  constructor(message: string, fields: ShmErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'ShmError';
    this.code = fields.code;
    if (fields.errno !== undefined) this.errno = fields.errno;
    if (fields.syscall !== undefined) this.syscall = fields.syscall;
    if (fields.operation !== undefined) this.operation = fields.operation;
    if (fields.key !== undefined) this.key = fields.key;
    if (fields.shmid !== undefined) this.shmid = fields.shmid;
    if (fields.semid !== undefined) this.semid = fields.semid;
    if (fields.msqid !== undefined) this.msqid = fields.msqid;
    if (fields.path !== undefined) this.path = fields.path;
  }
}

/** What was being done when a call failed: used for the message and the advice. */
export interface CallContext {
  syscall: string;
  /** The API call, when it is not the C function itself (e.g. 'Segment.attach'). */
  operation?: string;
  /** How the call is shown in the message, e.g. "shmget(key=0x00001234, size=4096, flags=IPC_CREAT|0600)". */
  call: string;
  key?: number;
  shmid?: number;
  /** semget, semop, semtimedop, semctl. */
  semid?: number;
  /** msgget, msgsnd, msgrcv, msgctl. */
  msqid?: number;
  /** semget's nsems. */
  nsems?: number;
  /** semctl's semnum. */
  semnum?: number;
  /** semop: the number of operations; the largest sem_num. */
  nsops?: number;
  maxSemNum?: number;
  /** msgrcv's msgtyp (a MSG_COPY index with MSG_COPY). */
  msgtyp?: number | bigint;
  /** The call was a wait that had already seen the object (a removal is then EIDRM, not EINVAL). */
  waited?: boolean;
  size?: number;
  path?: string;
  flags?: number;
  cmd?: string;
}

/** Reads errno right after a failed libc call and builds the error. */
export function errnoError(context: CallContext, errnoValue = libc().errno()): ShmError {
  const { abi } = libc();
  const code = abi.errnoName(errnoValue) ?? `E${errnoValue}`;
  const description = libc().strerror(errnoValue);
  const advice = adviceFor(code, context);
  const sentence = advice ? `. ${advice.charAt(0).toUpperCase()}${advice.slice(1)}` : '';
  const message = `${code}: ${description.charAt(0).toLowerCase()}${description.slice(1)}, ${context.call}${sentence}`;
  return new ShmError(message, {
    code,
    errno: errnoValue,
    syscall: context.syscall,
    operation: context.operation ?? context.syscall,
    key: context.key,
    shmid: context.shmid,
    semid: context.semid,
    msqid: context.msqid,
    path: context.path,
  });
}

/**
 * An error the library raises without a failed C call: an errno-style code (EPIPE, EPROTO, ETIMEDOUT, ...) or
 * ERR_SHM_* (a detached attachment, a closed channel end). `operation` is the API call that raised it.
 */
export function stateError(
  code: string,
  operation: string,
  message: string,
  extra: { shmid?: number; semid?: number; msqid?: number; key?: number; cause?: unknown } = {},
): ShmError {
  const errnoValue = code.startsWith('E') ? libc().abi.errno[code] : undefined;
  return new ShmError(`${code}: ${message}`, { code, errno: errnoValue, operation, ...extra });
}

function segmentByKey(key: number | undefined) {
  if (key === undefined || key === 0) return undefined;
  return procRowByKey(key);
}

function segmentById(shmid: number | undefined) {
  if (shmid === undefined) return undefined;
  return procRowById(shmid);
}

/** The rwx bits of a segment's mode that apply to this process (owner, group or other), as the kernel picks them. */
function accessBits(row: { perms: number; uid: number; gid: number; cuid: number; cgid: number }): number {
  const uid = process.getuid?.();
  const groups = new Set([process.getgid?.(), ...(process.getgroups?.() ?? [])]);
  if (uid === row.uid || uid === row.cuid) return (row.perms >> 6) & 7;
  if (groups.has(row.gid) || groups.has(row.cgid)) return (row.perms >> 3) & 7;
  return row.perms & 7;
}

function describeOwner(row: { perms: number; uid: number; gid: number }): string {
  return `mode ${octalMode(row.perms)}, owner uid ${row.uid} gid ${row.gid}; this process runs as uid ${process.getuid?.()} gid ${process.getgid?.()}`;
}

/** The huge page size (kB) a shmget asked for, and the folder of its pool. */
function hugePagePool(flags: number): { pageKb: number; dir: string } {
  const k = libc().abi.constants;
  const shift = (flags >>> k.SHM_HUGE_SHIFT) & k.SHM_HUGE_MASK;
  const pageKb = shift ? 2 ** shift / 1024 : defaultHugePageKb();
  return { pageKb, dir: `/sys/kernel/mm/hugepages/hugepages-${pageKb}kB` };
}

/** Advice when the huge page size asked for does not exist here (the CPU or the kernel lacks it), else undefined. */
function missingHugePageSize(flags: number): string | undefined {
  const { pageKb, dir } = hugePagePool(flags);
  if (existsSync(dir)) return undefined;
  let sizes: string[] = [];
  try {
    sizes = readdirSync('/sys/kernel/mm/hugepages').map((name) => name.replace(/^hugepages-(\d+)kB$/, '$1 kB'));
  } catch {
    // no /sys
  }
  return `this machine has no huge pages of ${pageKb} kB (${dir} is missing: the CPU or the kernel does not offer that size)${sizes.length ? `; it has ${sizes.join(', ')}` : ''}: use another SHM_HUGE_* size or none`;
}

/** Which huge page size a shmget asked for, and how many are reserved and free on this machine. */
function hugePageAdvice(flags: number, size: number): string {
  const { pageKb, dir } = hugePagePool(flags);
  const read = (name: string) => {
    try {
      return Number(readFileSync(`${dir}/${name}`, 'utf8').trim());
    } catch {
      return undefined;
    }
  };
  const total = read('nr_hugepages');
  // Pages promised to existing segments but not touched yet still count as free: take them off.
  const available = (read('free_hugepages') ?? 0) - (read('resv_hugepages') ?? 0);
  const needed = Math.max(1, Math.ceil(size / (pageKb * 1024)));
  if (total === undefined) return missingHugePageSize(flags) ?? `the pool of ${pageKb} kB huge pages cannot be read (${dir})`;
  return (
    `huge pages of ${pageKb} kB: ${available} available of ${total} in the pool, ${needed} needed. ` +
    `Reserve more as root: echo ${total + needed - Math.max(0, available)} > ${dir}/nr_hugepages` +
    (pageKb === defaultHugePageKb() ? ' (or sysctl vm.nr_hugepages)' : '')
  );
}

function defaultHugePageKb(): number {
  try {
    return Number(/Hugepagesize:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 2048);
  } catch {
    return 2048;
  }
}

// Advice depends on the call; lookups in /proc happen only here, on the failure path.
function adviceFor(code: string, ctx: CallContext): string | undefined {
  const key = ctx.key !== undefined ? hexKey(ctx.key) : undefined;
  switch (`${ctx.syscall}:${code}`) {
    case 'ftok:ENOENT':
      return `ftok needs an existing file: create ${JSON.stringify(ctx.path)} first or pass another path`;
    case 'ftok:EACCES':
      return `this process cannot stat ${JSON.stringify(ctx.path)}: check the permissions of its directories`;
    case 'shmget:EEXIST': {
      const row = segmentByKey(ctx.key);
      return `a segment with key ${key} already exists${row ? ` (shmid ${row.shmid}, ${row.size} bytes)` : ''} and IPC_EXCL was given: open it without IPC_EXCL, or remove it first (ipcrm -M ${key})`;
    }
    case 'shmget:ENOENT':
      return `no segment has key ${key}: create it with IPC_CREAT, or check the key (ipcs -m lists the segments)`;
    case 'shmget:EINVAL': {
      const row = segmentByKey(ctx.key);
      if (row && ctx.size !== undefined && ctx.size > row.size) {
        return `the segment with key ${key} (shmid ${row.shmid}) has only ${row.size} bytes: ask for at most that size (0 opens it at its own size), or remove it and create a larger one`;
      }
      const shmmax = readKernelTunable('shmmax');
      const shmmin = 1n;
      if (shmmax !== undefined && ctx.size !== undefined && BigInt(ctx.size) > shmmax) {
        return `${ctx.size} bytes is above SHMMAX (${shmmax}, /proc/sys/kernel/shmmax): ask for less or raise the limit (sysctl kernel.shmmax)`;
      }
      if (ctx.size !== undefined && BigInt(ctx.size) < shmmin && (ctx.flags ?? 0) & libc().abi.constants.IPC_CREAT) {
        return 'a new segment needs a size of at least 1 byte (size 0 only opens an existing segment)';
      }
      const missing = (ctx.flags ?? 0) & libc().abi.constants.SHM_HUGETLB ? missingHugePageSize(ctx.flags ?? 0) : undefined;
      return missing ?? 'the size is outside the limits (ipcs -l) or the flags do not fit this call';
    }
    case 'shmget:ENOSPC':
      return `the system-wide limit of segments (SHMMNI = ${readKernelTunable('shmmni') ?? '?'}) or of shared memory pages (SHMALL) is reached: remove segments nobody uses (ipcs -m; ipcrm) or raise kernel.shmmni / kernel.shmall`;
    case 'shmget:ENOMEM':
      if ((ctx.flags ?? 0) & libc().abi.constants.SHM_HUGETLB) return hugePageAdvice(ctx.flags ?? 0, ctx.size ?? 0);
      return 'the kernel could not allocate memory for the segment: ask for less';
    case 'shmget:EACCES': {
      const row = segmentByKey(ctx.key);
      return row
        ? `the segment with key ${key} exists with ${describeOwner(row)}: ask its owner to chmod it, or open it read-only if the mode allows reading`
        : 'the segment exists but its mode does not give this process the access it asked for';
    }
    case 'shmget:EPERM':
      return 'SHM_HUGETLB needs CAP_IPC_LOCK or membership of the group in /proc/sys/vm/hugetlb_shm_group';
    case 'shmat:EACCES':
    case 'shmctl:EACCES': {
      const row = segmentById(ctx.shmid);
      if (!row) return 'the segment mode does not give this process that access';
      const canRead = (accessBits(row) & 0o4) !== 0;
      return `segment ${ctx.shmid} has ${describeOwner(row)}: ${canRead ? 'attach read-only (the mode allows reading), or ' : ''}ask its owner to chmod it`;
    }
    case 'shmat:EINVAL':
    case 'shmctl:EINVAL':
      if (ctx.shmid !== undefined && !segmentById(ctx.shmid)) {
        return `there is no segment with id ${ctx.shmid} (it may have been removed): ipcs -m lists the segments`;
      }
      if (ctx.syscall === 'shmat') {
        return 'the address is not suitably aligned (use SHM_RND) or the range is already mapped (ranges where an attachment made an ArrayBuffer stay mapped after detach)';
      }
      return undefined;
    case 'shmat:EIDRM':
    case 'shmctl:EIDRM':
      return `segment ${ctx.shmid} was removed`;
    case 'shmat:ENOMEM':
      return 'the process has no room in its address space for the segment: detach segments you no longer use';
    case 'shmctl:EPERM':
      return ctx.cmd === 'SHM_LOCK' || ctx.cmd === 'SHM_UNLOCK'
        ? 'locking needs CAP_IPC_LOCK, or an RLIMIT_MEMLOCK large enough for the segment'
        : 'only the owner, the creator or a privileged process may change or remove a segment';
    case 'shmctl:ENOMEM':
      return 'SHM_LOCK: the segment is larger than the RLIMIT_MEMLOCK of this process (ulimit -l)';
    default:
      return semAdvice(code, ctx) ?? msgAdvice(code, ctx);
  }
}

// Semaphores and message queues. /proc/sysvipc/{sem,msg} tell the facts of an object to every process (IPC_STAT
// needs read permission); /proc/sys/kernel the limits.

function semByKey(key: number | undefined) {
  return key === undefined || key === 0 ? undefined : procSemRowByKey(key);
}

function semById(semid: number | undefined) {
  return semid === undefined ? undefined : procSemRowById(semid);
}

function msgByKey(key: number | undefined) {
  return key === undefined || key === 0 ? undefined : procMsgRowByKey(key);
}

function msgById(msqid: number | undefined) {
  return msqid === undefined ? undefined : procMsgRowById(msqid);
}

function ownerOf(row: { mode: number; uid: number; gid: number }): string {
  return describeOwner({ perms: row.mode, uid: row.uid, gid: row.gid });
}

function semAdvice(code: string, ctx: CallContext): string | undefined {
  const key = ctx.key !== undefined ? hexKey(ctx.key) : undefined;
  const set = `semaphore set ${ctx.semid}`;
  const waitCall = ctx.syscall === 'semop' || ctx.syscall === 'semtimedop';
  switch (`${waitCall ? 'semop' : ctx.syscall}:${code}`) {
    case 'semget:EEXIST': {
      const row = semByKey(ctx.key);
      return `a semaphore set with key ${key} already exists${row ? ` (semid ${row.semid}, ${row.nsems} semaphores)` : ''} and IPC_EXCL was given: open it without IPC_EXCL, or remove it first (ipcrm -S ${key})`;
    }
    case 'semget:ENOENT':
      return `no semaphore set has key ${key}: create it with IPC_CREAT, or check the key (ipcs -s lists the sets)`;
    case 'semget:EINVAL': {
      const row = semByKey(ctx.key);
      if (row && ctx.nsems !== undefined && ctx.nsems > row.nsems) {
        return `the semaphore set with key ${key} (semid ${row.semid}) has only ${row.nsems} semaphores: ask for at most that many (nsems 0 opens it as it is), or remove it and create a larger one`;
      }
      const limits = readKernelSemLimits();
      if (limits && ctx.nsems !== undefined && ctx.nsems > limits.semmsl) {
        return `${ctx.nsems} semaphores is above SEMMSL (${limits.semmsl}, the first number of /proc/sys/kernel/sem): ask for fewer, or raise it (sysctl kernel.sem)`;
      }
      if (ctx.nsems === 0) return 'a new semaphore set needs at least 1 semaphore (nsems 0 only opens an existing set)';
      return 'nsems is outside the limits (ipcs -s -l)';
    }
    case 'semget:ENOSPC': {
      const limits = readKernelSemLimits();
      return (
        `the system-wide limit of semaphore sets (SEMMNI = ${limits?.semmni ?? '?'}, the fourth number of /proc/sys/kernel/sem) ` +
        `or of semaphores (SEMMNS = ${limits?.semmns ?? '?'}, the second) is reached: remove sets nobody uses (ipcs -s; ipcrm -s ID) or raise the limits (sysctl kernel.sem)`
      );
    }
    case 'semget:EACCES': {
      const row = semByKey(ctx.key);
      return row
        ? `the semaphore set with key ${key} exists with ${ownerOf(row)}: ask its owner to chmod it (semctl IPC_SET)`
        : 'the semaphore set exists but its mode does not give this process the access it asked for';
    }
    case 'semget:ENOMEM':
    case 'semop:ENOMEM':
      return 'the kernel could not allocate memory for the semaphore set or its SEM_UNDO record';
    case 'semop:E2BIG': {
      const limits = readKernelSemLimits();
      return `one semop call takes at most SEMOPM (${limits?.semopm ?? '?'}, the third number of /proc/sys/kernel/sem) operations${ctx.nsops !== undefined ? `, not ${ctx.nsops}` : ''}: split them, or raise the limit (sysctl kernel.sem)`;
    }
    case 'semop:EFBIG': {
      const row = semById(ctx.semid);
      return row
        ? `${set} has ${row.nsems} semaphores (sem_num 0..${row.nsems - 1})${ctx.maxSemNum !== undefined ? `; sem_num ${ctx.maxSemNum} is beyond them` : ''}`
        : 'a sem_num is beyond the semaphores of the set';
    }
    case 'semop:EAGAIN':
      return ctx.flags !== undefined && ctx.flags & libc().abi.constants.IPC_NOWAIT
        ? 'an operation with IPC_NOWAIT would have had to wait (none was done)'
        : 'the timeout passed before the operations could be done (none was done)';
    case 'semop:EIDRM':
    case 'semctl:EIDRM':
      return `${set} was removed${ctx.waited || waitCall ? ' while this process waited' : ''}`;
    case 'semop:EINTR':
      return 'a signal interrupted the wait (none of the operations was done): call again';
    case 'semop:ERANGE':
      return `an operation would take a semaphore above SEMVMX (${SEMVMX_VALUE}) or its SEM_UNDO adjustment beyond SEMAEM (${SEMVMX_VALUE}) (none was done)`;
    case 'semop:EINVAL':
    case 'semctl:EINVAL': {
      if (ctx.semid === undefined) return undefined;
      const row = semById(ctx.semid);
      if (!row) {
        if (ctx.cmd === 'SEM_STAT' || ctx.cmd === 'SEM_STAT_ANY')
          return `index ${ctx.semid} of the kernel's array of semaphore sets is unused (SEM_INFO gives the highest used index)`;
        return `there is no semaphore set with id ${ctx.semid} (it may have been removed): ipcs -s lists the sets`;
      }
      if (ctx.semnum !== undefined && ctx.semnum >= row.nsems)
        return `${set} has ${row.nsems} semaphores: semnum must be 0..${row.nsems - 1}, got ${ctx.semnum}`;
      return undefined;
    }
    case 'semop:EACCES':
    case 'semctl:EACCES': {
      const row = semById(ctx.semid);
      return row ? `${set} has ${ownerOf(row)}: ask its owner to chmod it` : 'the mode of the semaphore set does not give this process that access';
    }
    case 'semctl:EPERM':
      return 'only the owner, the creator or a privileged process may change or remove a semaphore set';
    case 'semctl:ERANGE':
      return `a semaphore value must be 0..SEMVMX (${SEMVMX_VALUE})`;
    default:
      return undefined;
  }
}

/** SEMVMX and SEMAEM: kernel constants, 32767 on every target. */
const SEMVMX_VALUE = 32767;

function msgAdvice(code: string, ctx: CallContext): string | undefined {
  const key = ctx.key !== undefined ? hexKey(ctx.key) : undefined;
  const queue = `message queue ${ctx.msqid}`;
  const k = libc().abi.constants;
  const copy = ctx.flags !== undefined && k.MSG_COPY !== undefined && (ctx.flags & k.MSG_COPY) !== 0;
  switch (`${ctx.syscall}:${code}`) {
    case 'msgget:EEXIST': {
      const row = msgByKey(ctx.key);
      return `a message queue with key ${key} already exists${row ? ` (msqid ${row.msqid}, ${row.qnum} messages)` : ''} and IPC_EXCL was given: open it without IPC_EXCL, or remove it first (ipcrm -Q ${key})`;
    }
    case 'msgget:ENOENT':
      return `no message queue has key ${key}: create it with IPC_CREAT, or check the key (ipcs -q lists the queues)`;
    case 'msgget:ENOSPC':
      return `the system-wide limit of message queues (MSGMNI = ${readKernelTunable('msgmni') ?? '?'}, /proc/sys/kernel/msgmni) is reached: remove queues nobody uses (ipcs -q; ipcrm -q ID) or raise it (sysctl kernel.msgmni)`;
    case 'msgget:EACCES': {
      const row = msgByKey(ctx.key);
      return row
        ? `the message queue with key ${key} exists with ${ownerOf(row)}: ask its owner to chmod it (msgctl IPC_SET)`
        : 'the message queue exists but its mode does not give this process the access it asked for';
    }
    case 'msgget:ENOMEM':
    case 'msgsnd:ENOMEM':
      return 'the kernel could not allocate memory for the message queue or the message';
    case 'msgsnd:EINVAL':
    case 'msgrcv:EINVAL':
    case 'msgctl:EINVAL': {
      if (ctx.msqid === undefined) return undefined;
      if (!msgById(ctx.msqid)) {
        if (ctx.cmd === 'MSG_STAT' || ctx.cmd === 'MSG_STAT_ANY')
          return `index ${ctx.msqid} of the kernel's array of message queues is unused (MSG_INFO gives the highest used index)`;
        return `there is no message queue with id ${ctx.msqid} (it may have been removed): ipcs -q lists the queues`;
      }
      if (ctx.syscall === 'msgsnd') {
        const msgmax = readKernelTunable('msgmax');
        if (msgmax !== undefined && ctx.size !== undefined && BigInt(ctx.size) > msgmax) {
          return `${ctx.size} bytes is above MSGMAX (${msgmax}, /proc/sys/kernel/msgmax), the largest message: send less, or raise the limit (sysctl kernel.msgmax)`;
        }
      }
      if (ctx.syscall === 'msgrcv' && copy) return 'MSG_COPY needs IPC_NOWAIT and cannot be combined with MSG_EXCEPT';
      return undefined;
    }
    case 'msgsnd:EAGAIN': {
      const row = msgById(ctx.msqid);
      return `${queue} is full${row ? ` (${row.cbytes} bytes in ${row.qnum} messages)` : ''} and IPC_NOWAIT was given: receive messages first, wait, or raise its msg_qbytes (msgctl IPC_SET)`;
    }
    case 'msgsnd:EIDRM':
    case 'msgrcv:EIDRM':
    case 'msgctl:EIDRM':
      return `${queue} was removed${ctx.waited || ctx.syscall !== 'msgctl' ? ' while this process waited' : ''}`;
    case 'msgsnd:EINTR':
    case 'msgrcv:EINTR':
      return 'a signal interrupted the wait: call again';
    case 'msgrcv:E2BIG': {
      const msgmax = readKernelTunable('msgmax');
      return `the message is longer than msgsz (${ctx.size ?? '?'} bytes) and stays in the queue: pass MSG_NOERROR to truncate it, or a larger msgsz (msgmax = ${msgmax ?? '?'})`;
    }
    case 'msgrcv:ENOMSG':
      return copy
        ? `${queue} has no message at index ${ctx.msgtyp} (MSG_COPY counts from 0)`
        : `${queue} has no message${describeType(ctx)} and IPC_NOWAIT was given`;
    case 'msgrcv:ENOSYS':
      return 'MSG_COPY needs a kernel built with CONFIG_CHECKPOINT_RESTORE, which this one is not';
    case 'msgsnd:EACCES':
    case 'msgrcv:EACCES':
    case 'msgctl:EACCES': {
      const row = msgById(ctx.msqid);
      return row ? `${queue} has ${ownerOf(row)}: ask its owner to chmod it` : 'the mode of the message queue does not give this process that access';
    }
    case 'msgctl:EPERM': {
      const msgmnb = readKernelTunable('msgmnb');
      return ctx.cmd === 'IPC_SET'
        ? `only the owner, the creator or a privileged process may change a message queue, and raising msg_qbytes above MSGMNB (${msgmnb ?? '?'}, /proc/sys/kernel/msgmnb) needs CAP_SYS_RESOURCE`
        : 'only the owner, the creator or a privileged process may change or remove a message queue';
    }
    default:
      return undefined;
  }
}

function describeType(ctx: CallContext): string {
  const type = ctx.msgtyp;
  if (type === undefined || type === 0 || type === 0n) return '';
  const k = libc().abi.constants;
  if (type < 0) return ` of a type <= ${-BigInt(type)}`;
  return ctx.flags !== undefined && ctx.flags & k.MSG_EXCEPT ? ` of a type other than ${type}` : ` of type ${type}`;
}
