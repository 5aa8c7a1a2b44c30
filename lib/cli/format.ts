// Text the way util-linux 2.38's ipcs prints it (its printf formats, column by column), and hexdump -C. Shared by
// the sysv-shm command and the REPL helpers. Nothing here makes a system call except resolving user and group names.
import { readFileSync } from 'node:fs';
import type {
  Limits,
  MessageQueueEntry,
  MessageQueueLimits,
  MessageQueueSummary,
  SegmentStatus,
  SemaphoreLimits,
  SemaphoreSetEntry,
  SemaphoreSummary,
  Summary,
} from '../index.js';

// ---------------------------------------------------------------------------------------------------------------
// printf pieces: "%-10s" is left(s, 10), "%10s" right(s, 10), "%-10.10s" left(cut(s, 10), 10).
export const left = (value: string | number, width: number) => String(value).padEnd(width);
export const right = (value: string | number, width: number) => String(value).padStart(width);
export const cut = (value: string, precision: number) => value.slice(0, precision);

/** printf("0x%08x", key) of a key_t. */
import { hexKey } from '../common/format.js';

export { hexKey };
/** printf("%o"). */
export const octal = (value: number) => value.toString(8);
/** printf("%#o"): "0" for zero, else a leading 0. */
export const altOctal = (value: number) => (value === 0 ? '0' : '0' + value.toString(8));

// ---------------------------------------------------------------------------------------------------------------
// User and group names, as getpwuid()/getgrgid() find them in the files databases; a number when there is no entry.
function readNames(file: string): Map<number, string> {
  const names = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}
let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;
export function userName(uid: number): string | undefined {
  return (users ??= readNames('/etc/passwd')).get(uid);
}
export function groupName(gid: number): string | undefined {
  return (groups ??= readNames('/etc/group')).get(gid);
}

// ---------------------------------------------------------------------------------------------------------------
// Times: ipcs prints ctime() in the local time zone (TZ applies): "Sat Nov 21 08:24:05 2026".
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');
/** ctime() without its newline. */
export function ctime(date: Date): string {
  return (
    `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${right(date.getDate(), 2)} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${date.getFullYear()}`
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Sizes: util-linux's size_to_human_string(SIZE_SUFFIX_1LETTER): "4.9K", "16E", "500B".
export function humanSize(bytes: number | bigint): string {
  const n = BigInt(bytes);
  let exp = 0;
  for (let shift = 10; shift <= 60; shift += 10) {
    if (n < 1n << BigInt(shift)) break;
    exp = shift;
  }
  const letter = 'BKMGTPE'[exp / 10];
  const unit = 1n << BigInt(exp);
  let whole = n / unit;
  let frac = exp ? n % unit : 0n;
  if (frac) {
    frac = (frac * 1000n) / unit; // three digits after the point
    frac = (frac + 50n) / 100n; // rounded to one
    if (frac === 10n) {
      whole += 1n;
      frac = 0n;
    }
  }
  return frac ? `${whole}.${frac}${letter}` : `${whole}${letter}`;
}

export type SizeUnit = 'default' | 'bytes' | 'human';

// ---------------------------------------------------------------------------------------------------------------
// ipcs and its views. ipcs prints "\n", then for each facility asked (in the order queues, segments, semaphores)
// its section and "\n". A section is a title, a column header and one line per object; or a report (-l, -u).
// The *Section functions return one section as ipcs's do_shm/do_sem/do_msg print it; ipcsOutput frames them.
export type ListView = 'default' | 'time' | 'pid' | 'creator';

/** What ipcs prints around the sections of the facilities asked for: a blank line first, one after each. */
export function ipcsOutput(sections: string[]): string {
  return '\n' + sections.map((section) => section + '\n').join('');
}

/** printf("%-10d %-10.10s", id, name) or printf("%-10d %-10u", id, uid), with another width for the id. */
function idAndOwner(id: number, uid: number, idWidth = 10): string {
  const name = userName(uid);
  return left(id, idWidth) + ' ' + (name === undefined ? left(uid, 10) : left(cut(name, 10), 10));
}

/** ipc_print_perms: "%-10d %-10o" then cuid, cgid, uid, gid as " %-10s" names or " %-10u" numbers. */
function creatorRow(o: { id: number; mode: number; uid: number; gid: number; cuid: number; cgid: number }): string {
  const user = (id: number) => left(userName(id) ?? id, 10);
  const group = (id: number) => left(groupName(id) ?? id, 10);
  return `${left(o.id, 10)} ${left(octal(o.mode & 0o777), 10)} ${user(o.cuid)} ${group(o.cgid)} ${user(o.uid)} ${group(o.gid)}`;
}

/** " %-20.16s" of ctime()+4 (the newline included when the cut reaches it), or "Not set". */
const shortTime = (date: Date | null) => left(cut(date ? ctime(date).slice(4) + '\n' : 'Not set', 16), 20);
/** "%-26.24s" of ctime(), or "Not set". */
const longTime = (date: Date | null) => left(cut(date ? ctime(date) : 'Not set', 24), 26);

const cols = (names: string[], widths: number[]) => names.map((name, i) => left(name, widths[i])).join(' ');
/** Title, header and rows, each line ending in "\n". */
const table = (title: string, header: string, rows: string[]) => [title, header, ...rows].map((line) => line + '\n').join('');

// ---------------------------------------------------------------------------------------------------------------
// Shared memory: ipcs -m.
const SHM_TITLES: Record<ListView, string> = {
  default: '------ Shared Memory Segments --------',
  time: '------ Shared Memory Attach/Detach/Change Times --------',
  pid: '------ Shared Memory Creator/Last-op PIDs --------',
  creator: '------ Shared Memory Segment Creators/Owners --------',
};

/** One row of `ipcs -m [-t|-p|-c] [--human]`, without its newline. */
export function listRow(s: SegmentStatus, view: ListView = 'default', unit: SizeUnit = 'default'): string {
  switch (view) {
    case 'time':
      return `${idAndOwner(s.id, s.uid)} ${shortTime(s.lastAttachTime)} ${shortTime(s.lastDetachTime)} ${shortTime(s.lastChangeTime)}`;
    case 'pid':
      return `${idAndOwner(s.id, s.uid)} ${left(s.creatorPid, 10)} ${left(s.lastPid, 10)}`;
    case 'creator':
      return creatorRow(s);
    default: {
      const size = unit === 'human' ? right(humanSize(s.size), 6) + '    ' : left(s.size, 10);
      const dest = left(s.markedForRemoval ? 'dest' : ' ', 6);
      const locked = left(s.locked ? 'locked' : ' ', 6);
      return `${hexKey(s.key)} ${idAndOwner(s.id, s.uid)} ${left(octal(s.mode), 10)} ${size} ${left(s.attached, 10)} ${dest} ${locked}`;
    }
  }
}

function shmHeader(view: ListView, unit: SizeUnit): string {
  switch (view) {
    case 'time':
      return cols(['shmid', 'owner', 'attached', 'detached', 'changed'], [10, 10, 20, 20, 20]);
    case 'pid':
      return cols(['shmid', 'owner', 'cpid', 'lpid'], [10, 10, 10, 10]);
    case 'creator':
      return cols(['shmid', 'perms', 'cuid', 'cgid', 'uid', 'gid'], [10, 10, 10, 10, 10, 10]);
    default:
      return cols(['key', 'shmid', 'owner', 'perms', unit === 'human' ? 'size' : 'bytes', 'nattch', 'status'], [10, 10, 10, 10, 10, 10, 12]);
  }
}

/** The segments' section of `ipcs -m [-t|-p|-c] [--human]`. */
export function shmSection(segments: SegmentStatus[], view: ListView = 'default', unit: SizeUnit = 'default'): string {
  return table(
    SHM_TITLES[view],
    shmHeader(view, unit),
    segments.map((s) => listRow(s, view, unit)),
  );
}

/** What `ipcs -m [-t|-p|-c] [--human]` prints for these segments. */
export function formatList(segments: SegmentStatus[], view: ListView = 'default', unit: SizeUnit = 'default'): string {
  return ipcsOutput([shmSection(segments, view, unit)]);
}

/** What `ipcs -m -i <id> [--human]` prints. */
export function formatStat(s: SegmentStatus, unit: SizeUnit = 'default'): string {
  const fullMode = s.mode | (s.markedForRemoval ? 0o1000 : 0) | (s.locked ? 0o2000 : 0);
  const size = unit === 'human' ? `size=${humanSize(s.size)}` : `bytes=${s.size}`;
  return [
    '',
    `Shared memory Segment shmid=${s.id}`,
    `uid=${s.uid}\tgid=${s.gid}\tcuid=${s.cuid}\tcgid=${s.cgid}`,
    `mode=${altOctal(fullMode)}\taccess_perms=${altOctal(s.mode)}`,
    `${size}\tlpid=${s.lastPid}\tcpid=${s.creatorPid}\tnattch=${s.attached}`,
    `att_time=${longTime(s.lastAttachTime)}`,
    `det_time=${longTime(s.lastDetachTime)}`,
    // ipcs prints the change time even when it is 0 (the epoch); the kernel sets it at creation.
    `change_time=${longTime(s.lastChangeTime ?? new Date(0))}`,
    '',
    '',
  ].join('\n');
}

const UINT64_MAX = (1n << 64n) - 1n;

/** ipc_print_size with a label: "label (bytes) = N", "label (kbytes) = N/1024" or "label = 4.9K". */
function labelledSize(label: string, bytes: bigint | number, as: 'kb' | 'bytes' | 'human' | 'plain'): string {
  const n = BigInt(bytes);
  if (as === 'human') return `${label} = ${humanSize(n)}`;
  if (as === 'kb') return `${label} (kbytes) = ${n / 1024n}`;
  if (as === 'bytes') return `${label} (bytes) = ${n}`;
  return `${label} = ${n}`;
}

/** The segments' section of `ipcs -m -l [--bytes|--human]`. */
export function shmLimitsSection(l: Omit<Limits, 'sem' | 'msg'>, unit: SizeUnit = 'default'): string {
  const page = BigInt(l.pageSize);
  // ipcs multiplies in 64 bits and clamps an overflow to the largest multiple of the factor.
  const times = (a: bigint, factor: bigint) => {
    const product = a * factor;
    return product > UINT64_MAX ? UINT64_MAX - (UINT64_MAX % factor) : product;
  };
  const lines = ['------ Shared Memory Limits --------', `max number of segments = ${l.shmmni}`];
  if (unit === 'default') {
    lines.push(labelledSize('max seg size', l.shmmax, 'kb'));
    lines.push(`max total shared memory (kbytes) = ${times(l.shmall, page / 1024n)}`);
    lines.push(labelledSize('min seg size', l.shmmin, 'bytes'));
  } else {
    const as = unit === 'human' ? 'human' : 'bytes';
    lines.push(labelledSize('max seg size', l.shmmax, as));
    lines.push(labelledSize('max total shared memory', times(l.shmall, page), as));
    lines.push(labelledSize('min seg size', l.shmmin, as));
  }
  return lines.map((line) => line + '\n').join('');
}

/** What `ipcs -m -l [--bytes|--human]` prints. */
export function formatLimits(l: Omit<Limits, 'sem' | 'msg'>, unit: SizeUnit = 'default'): string {
  return ipcsOutput([shmLimitsSection(l, unit)]);
}

/** The segments' section of `ipcs -m -u`. */
export function shmSummarySection(s: Omit<Summary, 'sem' | 'msg'>): string {
  return [
    '------ Shared Memory Status --------',
    `segments allocated ${s.segments}`,
    `pages allocated ${s.pagesAllocated}`,
    `pages resident  ${s.pagesResident}`,
    `pages swapped   ${s.pagesSwapped}`,
    `Swap performance: ${s.swapAttempts} attempts\t ${s.swapSuccesses} successes`,
  ]
    .map((line) => line + '\n')
    .join('');
}

/** What `ipcs -m -u` prints. */
export function formatSummary(s: Omit<Summary, 'sem' | 'msg'>): string {
  return ipcsOutput([shmSummarySection(s)]);
}

// ---------------------------------------------------------------------------------------------------------------
// Semaphore sets: ipcs -s. No sizes, so no units; and -p prints nothing at all, not even a title.

/** The semaphore sets' section of `ipcs -s [-t|-p|-c]`. */
export function semSection(sets: SemaphoreSetEntry[], view: ListView = 'default'): string {
  switch (view) {
    case 'pid':
      return '';
    case 'time':
      return table(
        '------ Semaphore Operation/Change Times --------',
        // "%-8s %-10s %-26.24s %-26.24s" over the header, but the rows put two spaces before the first time.
        `${left('semid', 8)} ${left('owner', 10)} ${left('last-op', 26)} ${left('last-changed', 26)}`,
        sets.map((s) => `${idAndOwner(s.id, s.uid, 8)}  ${longTime(s.lastOperationTime)} ${longTime(s.lastChangeTime)}`),
      );
    case 'creator':
      return table(
        '------ Semaphore Arrays Creators/Owners --------',
        cols(['semid', 'perms', 'cuid', 'cgid', 'uid', 'gid'], Array(6).fill(10)),
        sets.map(creatorRow),
      );
    default:
      return table(
        '------ Semaphore Arrays --------',
        cols(['key', 'semid', 'owner', 'perms', 'nsems'], Array(5).fill(10)),
        sets.map((s) => `${hexKey(s.key)} ${idAndOwner(s.id, s.uid)} ${left(octal(s.mode), 10)} ${left(s.count, 10)}`),
      );
  }
}

/** One semaphore of a set, as ipcs -s -i shows it (GETVAL, GETNCNT, GETZCNT, GETPID). */
export interface SemaphoreState {
  value: number;
  waitingForNonzero: number;
  waitingForZero: number;
  lastPid: number;
}

/** What `ipcs -s -i <id>` prints. */
export function formatSemaphoreStat(s: SemaphoreSetEntry, semaphores: SemaphoreState[]): string {
  return [
    '',
    `Semaphore Array semid=${s.id}`,
    `uid=${s.uid}\t gid=${s.gid}\t cuid=${s.cuid}\t cgid=${s.cgid}`,
    `mode=${altOctal(s.mode)}, access_perms=${altOctal(s.mode & 0o777)}`,
    `nsems = ${s.count}`,
    `otime = ${longTime(s.lastOperationTime)}`,
    `ctime = ${longTime(s.lastChangeTime)}`,
    cols(['semnum', 'value', 'ncount', 'zcount', 'pid'], Array(5).fill(10)),
    ...semaphores.map((e, i) => [i, e.value, e.waitingForNonzero, e.waitingForZero, e.lastPid].map((n) => left(n, 10)).join(' ')),
    '',
    '',
  ].join('\n');
}

/** The semaphore sets' section of `ipcs -s -l`. */
export function semLimitsSection(l: SemaphoreLimits): string {
  return [
    '------ Semaphore Limits --------',
    `max number of arrays = ${l.semmni}`,
    `max semaphores per array = ${l.semmsl}`,
    `max semaphores system wide = ${l.semmns}`,
    `max ops per semop call = ${l.semopm}`,
    `semaphore max value = ${l.semvmx}`,
  ]
    .map((line) => line + '\n')
    .join('');
}

/** The semaphore sets' section of `ipcs -s -u`. */
export function semSummarySection(s: SemaphoreSummary): string {
  return `------ Semaphore Status --------\nused arrays = ${s.sets}\nallocated semaphores = ${s.semaphores}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Message queues: ipcs -q.

/** The message queues' section of `ipcs -q [-t|-p|-c] [--human]`. */
export function msgSection(queues: MessageQueueEntry[], view: ListView = 'default', unit: SizeUnit = 'default'): string {
  switch (view) {
    case 'time':
      return table(
        '------ Message Queues Send/Recv/Change Times --------',
        `${left('msqid', 8)} ${cols(['owner', 'send', 'recv', 'change'], [10, 20, 20, 20])}`,
        queues.map((q) => `${idAndOwner(q.id, q.uid, 8)} ${shortTime(q.lastSendTime)} ${shortTime(q.lastReceiveTime)} ${shortTime(q.lastChangeTime)}`),
      );
    case 'pid':
      return table(
        '------ Message Queues PIDs --------',
        // The header's id column is 10 wide, the rows' 8: ipcs's own mismatch.
        cols(['msqid', 'owner', 'lspid', 'lrpid'], Array(4).fill(10)),
        queues.map((q) => `${idAndOwner(q.id, q.uid, 8)}  ${right(q.lastSendPid, 5)}     ${right(q.lastReceivePid, 5)}`),
      );
    case 'creator':
      return table(
        '------ Message Queues Creators/Owners --------',
        cols(['msqid', 'perms', 'cuid', 'cgid', 'uid', 'gid'], Array(6).fill(10)),
        queues.map(creatorRow),
      );
    default:
      return table(
        '------ Message Queues --------',
        cols(['key', 'msqid', 'owner', 'perms', unit === 'human' ? 'size' : 'used-bytes', 'messages'], [10, 10, 10, 10, 12, 12]),
        queues.map((q) => {
          const bytes = unit === 'human' ? right(humanSize(q.bytes), 6) + '      ' : left(q.bytes, 12);
          return `${hexKey(q.key)} ${idAndOwner(q.id, q.uid)} ${left(octal(q.mode), 10)} ${bytes} ${left(q.messages, 12)}`;
        }),
      );
  }
}

/** What `ipcs -q -i <id> [--human]` prints; qbytes is 0 when IPC_STAT was refused (as ipcs prints it). */
export function formatQueueStat(q: MessageQueueEntry, unit: SizeUnit = 'default'): string {
  const size = (label: string, humanLabel: string, n: number) => (unit === 'human' ? `${humanLabel}=${humanSize(n)}` : `${label}=${n}`);
  return [
    '',
    `Message Queue msqid=${q.id}`,
    `uid=${q.uid}\tgid=${q.gid}\tcuid=${q.cuid}\tcgid=${q.cgid}\tmode=${altOctal(q.mode)}`,
    `${size('cbytes', 'csize', q.bytes)}\t${size('qbytes', 'qsize', q.maxBytes ?? 0)}\tqnum=${q.messages}\tlspid=${q.lastSendPid}\tlrpid=${q.lastReceivePid}`,
    `send_time=${longTime(q.lastSendTime)}`,
    `rcv_time=${longTime(q.lastReceiveTime)}`,
    `change_time=${longTime(q.lastChangeTime)}`,
    '',
    '',
  ].join('\n');
}

/** The message queues' section of `ipcs -q -l [--bytes|--human]` (bytes by default, not kbytes). */
export function msgLimitsSection(l: MessageQueueLimits, unit: SizeUnit = 'default'): string {
  const as = unit === 'human' ? 'human' : 'bytes';
  return [
    '------ Messages Limits --------',
    `max queues system wide = ${l.msgmni}`,
    labelledSize('max size of message', l.msgmax, as),
    labelledSize('default max size of queue', l.msgmnb, as),
  ]
    .map((line) => line + '\n')
    .join('');
}

/** The message queues' section of `ipcs -q -u [--bytes|--human]`. */
export function msgSummarySection(s: MessageQueueSummary, unit: SizeUnit = 'default'): string {
  const used = unit === 'default' ? `used space = ${s.bytes} bytes` : labelledSize('used space', s.bytes, unit === 'human' ? 'human' : 'bytes');
  return `------ Messages Status --------\nallocated queues = ${s.queues}\nused headers = ${s.messages}\n${used}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
/** JSON with bigints as decimal strings (they can pass 2^53) and Dates as ISO strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
/**
 * `hexdump -C` of some bytes: 16 per line, offsets from `base`, identical lines after the first squeezed into "*",
 * and the final offset on a line of its own.
 */
export function hexdumpLines(bytes: Uint8Array, base = 0): string[] {
  const lines: string[] = [];
  let previous: string | undefined;
  let squeezing = false;
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, bytes.length));
    const key = Buffer.from(row).toString('hex');
    if (row.length === 16 && key === previous) {
      if (!squeezing) lines.push('*');
      squeezing = true;
      continue;
    }
    squeezing = false;
    previous = key;
    let hex = '';
    for (let i = 0; i < 16; i++) {
      hex += i < row.length ? row[i].toString(16).padStart(2, '0') + ' ' : '   ';
      if (i === 7) hex += ' ';
    }
    const text = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(base + at).toString(16).padStart(8, '0')}  ${hex} |${text}|`);
  }
  if (bytes.length > 0) lines.push((base + bytes.length).toString(16).padStart(8, '0'));
  return lines;
}
