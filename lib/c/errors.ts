// Errors shaped like Node's own (fs, net): `code` is the errno name, `errno` its number on this target,
// `syscall` the C function that failed. The message starts with the code, names the call with its arguments,
// and says what to do where we can tell.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { libc } from '../native/libc.js';
import { procRowById, procRowByKey, readKernelTunable } from '../native/procfs.js';
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
    path: context.path,
  });
}

/**
 * An error the library raises without a failed C call: an errno-style code (EPIPE, EPROTO, ETIMEDOUT, ...) or
 * ERR_SHM_* (a detached attachment, a closed channel end). `operation` is the API call that raised it.
 */
export function stateError(code: string, operation: string, message: string, extra: { shmid?: number; key?: number; cause?: unknown } = {}): ShmError {
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
      return undefined;
  }
}
