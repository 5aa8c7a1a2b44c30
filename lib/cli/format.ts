// Text the way util-linux 2.38's ipcs prints it (its printf formats, column by column), and hexdump -C. Shared by
// the sysv-shm command and the REPL helpers. Nothing here makes a system call except resolving user and group names.
import { readFileSync } from 'node:fs';
import type { Limits, SegmentStatus, Summary } from '../index.js';

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
// ipcs -m and its views. Each section starts with an empty line and ends with one, as ipcs prints them.
export type ListView = 'default' | 'time' | 'pid' | 'creator';

const TITLES: Record<ListView, string> = {
  default: '------ Shared Memory Segments --------',
  time: '------ Shared Memory Attach/Detach/Change Times --------',
  pid: '------ Shared Memory Creator/Last-op PIDs --------',
  creator: '------ Shared Memory Segment Creators/Owners --------',
};

/** printf("%-10d %-10.10s", id, name) or printf("%-10d %-10u", id, uid). */
function idAndOwner(s: SegmentStatus): string {
  const name = userName(s.uid);
  return left(s.id, 10) + ' ' + (name === undefined ? left(s.uid, 10) : left(cut(name, 10), 10));
}

const shortTime = (date: Date | null) => left(cut(date ? ctime(date).slice(4) + '\n' : 'Not set', 16), 20);

/** One row of `ipcs -m [-t|-p|-c] [--human]`, without its newline. */
export function listRow(s: SegmentStatus, view: ListView = 'default', unit: SizeUnit = 'default'): string {
  switch (view) {
    case 'time':
      return `${idAndOwner(s)} ${shortTime(s.lastAttachTime)} ${shortTime(s.lastDetachTime)} ${shortTime(s.lastChangeTime)}`;
    case 'pid':
      return `${idAndOwner(s)} ${left(s.creatorPid, 10)} ${left(s.lastPid, 10)}`;
    case 'creator': {
      const user = (id: number) => left(userName(id) ?? id, 10);
      const group = (id: number) => left(groupName(id) ?? id, 10);
      return `${left(s.id, 10)} ${left(octal(s.mode), 10)} ${user(s.cuid)} ${group(s.cgid)} ${user(s.uid)} ${group(s.gid)}`;
    }
    default: {
      const size = unit === 'human' ? right(humanSize(s.size), 6) + '    ' : left(s.size, 10);
      const dest = left(s.markedForRemoval ? 'dest' : ' ', 6);
      const locked = left(s.locked ? 'locked' : ' ', 6);
      return `${hexKey(s.key)} ${idAndOwner(s)} ${left(octal(s.mode), 10)} ${size} ${left(s.attached, 10)} ${dest} ${locked}`;
    }
  }
}

function listHeader(view: ListView, unit: SizeUnit): string {
  const cols = (names: string[], widths: number[]) => names.map((name, i) => left(name, widths[i])).join(' ');
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

/** What `ipcs -m [-t|-p|-c] [--human]` prints for these segments. */
export function formatList(segments: SegmentStatus[], view: ListView = 'default', unit: SizeUnit = 'default'): string {
  const lines = ['', TITLES[view], listHeader(view, unit), ...segments.map((s) => listRow(s, view, unit)), '', ''];
  return lines.join('\n');
}

/** What `ipcs -m -i <id> [--human]` prints. */
export function formatStat(s: SegmentStatus, unit: SizeUnit = 'default'): string {
  const fullMode = s.mode | (s.markedForRemoval ? 0o1000 : 0) | (s.locked ? 0o2000 : 0);
  const long = (date: Date | null) => left(cut(date ? ctime(date) : 'Not set', 24), 26);
  const size = unit === 'human' ? `size=${humanSize(s.size)}` : `bytes=${s.size}`;
  return [
    '',
    `Shared memory Segment shmid=${s.id}`,
    `uid=${s.uid}\tgid=${s.gid}\tcuid=${s.cuid}\tcgid=${s.cgid}`,
    `mode=${altOctal(fullMode)}\taccess_perms=${altOctal(s.mode)}`,
    `${size}\tlpid=${s.lastPid}\tcpid=${s.creatorPid}\tnattch=${s.attached}`,
    `att_time=${long(s.lastAttachTime)}`,
    `det_time=${long(s.lastDetachTime)}`,
    // ipcs prints the change time even when it is 0 (the epoch); the kernel sets it at creation.
    `change_time=${long(s.lastChangeTime ?? new Date(0))}`,
    '',
    '',
  ].join('\n');
}

const UINT64_MAX = (1n << 64n) - 1n;

/** What `ipcs -m -l [--bytes|--human]` prints. */
export function formatLimits(l: Limits, unit: SizeUnit = 'default'): string {
  const page = BigInt(l.pageSize);
  // ipcs multiplies in 64 bits and clamps an overflow to the largest multiple of the factor.
  const times = (a: bigint, factor: bigint) => {
    const product = a * factor;
    return product > UINT64_MAX ? UINT64_MAX - (UINT64_MAX % factor) : product;
  };
  const size = (label: string, bytes: bigint, as: 'kb' | 'bytes' | 'human') =>
    as === 'human' ? `${label} = ${humanSize(bytes)}` : as === 'kb' ? `${label} (kbytes) = ${bytes / 1024n}` : `${label} (bytes) = ${bytes}`;
  const lines = ['', '------ Shared Memory Limits --------', `max number of segments = ${l.shmmni}`];
  if (unit === 'default') {
    lines.push(size('max seg size', l.shmmax, 'kb'));
    lines.push(`max total shared memory (kbytes) = ${times(l.shmall, page / 1024n)}`);
    lines.push(size('min seg size', l.shmmin, 'bytes'));
  } else {
    const as = unit === 'human' ? 'human' : 'bytes';
    lines.push(size('max seg size', l.shmmax, as));
    lines.push(size('max total shared memory', times(l.shmall, page), as));
    lines.push(size('min seg size', l.shmmin, as));
  }
  lines.push('', '');
  return lines.join('\n');
}

/** What `ipcs -m -u` prints. */
export function formatSummary(s: Summary): string {
  return [
    '',
    '------ Shared Memory Status --------',
    `segments allocated ${s.segments}`,
    `pages allocated ${s.pagesAllocated}`,
    `pages resident  ${s.pagesResident}`,
    `pages swapped   ${s.pagesSwapped}`,
    `Swap performance: ${s.swapAttempts} attempts\t ${s.swapSuccesses} successes`,
    '',
    '',
  ].join('\n');
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
