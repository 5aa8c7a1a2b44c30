// Looking: ls (ipcs -m, -t, -p, -c), stat (ipcs -m -i), limits (ipcs -m -l), summary (ipcs -m -u).
import { limits, list, summary, type SegmentStatus } from '../index.js';
import { UsageError, parseId, parseKey, str, write, type Command } from './args.js';
import { formatLimits, formatList, formatStat, formatSummary, hexKey, toJson, type ListView, type SizeUnit } from './format.js';

const unitOf = (values: Record<string, unknown>): SizeUnit => (values.human ? 'human' : values.bytes ? 'bytes' : 'default');

export const ls: Command = {
  name: 'ls',
  summary: 'list segments, like ipcs -m (-t times, -p pids, -c creators/owners)',
  help: `Usage: sysv-shm ls [-t | -p | -c] [--human] [--json]

Lists every shared memory segment, as ipcs -m prints them:
key, shmid, owner, perms, bytes, nattch, status (dest: removed but still
attached, destroyed at the last detach; locked: SHM_LOCK in force).

Options:
  -t, --time      attach, detach and change times (ipcs -m -t)
  -p, --pid       creator and last-operation pids (ipcs -m -p)
  -c, --creator   creators and owners (ipcs -m -c)
  -b, --bytes     sizes in bytes (the default)
      --human     sizes like 4.9K (ipcs --human)
      --json      every field of every segment, as JSON
  -h, --help      this help
`,
  options: {
    time: { type: 'boolean', short: 't' },
    pid: { type: 'boolean', short: 'p' },
    creator: { type: 'boolean', short: 'c' },
    human: { type: 'boolean' },
    bytes: { type: 'boolean', short: 'b' },
    json: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError(`ls takes no arguments (got ${positionals.join(' ')}); for one segment use: sysv-shm stat <id>`, 'ls');
    const views = (['time', 'pid', 'creator'] as const).filter((v) => values[v]);
    if (views.length > 1) throw new UsageError(`choose one of -t, -p, -c`, 'ls');
    const segments = list();
    if (values.json) await write(io.stdout, toJson(segments));
    else await write(io.stdout, formatList(segments, (views[0] ?? 'default') as ListView, unitOf(values)));
    return 0;
  },
};

/** The segment with this id or key, from the system-wide list (as ipcs does: no read permission needed). */
function find(id: number | undefined, key: number | undefined): SegmentStatus {
  const segments = list();
  if (id !== undefined) {
    const found = segments.find((s) => s.id === id);
    if (!found) throw new Error(`no segment with id ${id} (sysv-shm ls lists them)`);
    return found;
  }
  const found = segments.find((s) => s.key === key);
  if (!found) throw new Error(`no segment with key ${hexKey(key!)} (sysv-shm ls lists them; a removed segment's key is 0)`);
  return found;
}

export const stat: Command = {
  name: 'stat',
  summary: 'one segment in detail, like ipcs -m -i',
  help: `Usage: sysv-shm stat <id> [--human] [--json]
       sysv-shm stat --key <key> [--human] [--json]

Shows one segment as ipcs -m -i prints it: owner and creator, mode,
size, pids, attachments and times (in the local time zone; TZ applies).

Options:
  -k, --key <key>  the segment with this key (0x1234abcd or decimal; a
                   negative one as --key=-123)
      --human      size like 4.9K
      --json       every field as JSON
  -h, --help       this help
`,
  options: { key: { type: 'string', short: 'k' }, human: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, positionals, io) {
    const keyText = str(values, 'key');
    if ((keyText === undefined) === (positionals.length === 0) || positionals.length > 1) {
      throw new UsageError('give one segment id, or --key <key>', 'stat');
    }
    const segment = find(keyText === undefined ? parseId(positionals[0], 'stat') : undefined, keyText === undefined ? undefined : parseKey(keyText, 'stat'));
    await write(io.stdout, values.json ? toJson(segment) : formatStat(segment, unitOf(values)));
    return 0;
  },
};

export const limitsCommand: Command = {
  name: 'limits',
  summary: 'system limits, like ipcs -m -l',
  help: `Usage: sysv-shm limits [--bytes | --human] [--json]

Shows the system's limits as ipcs -m -l prints them: SHMMNI (segments),
SHMMAX (largest segment), SHMALL (all segments together), SHMMIN.
They are set in /proc/sys/kernel/shm{mni,max,all}.

Options:
  -b, --bytes   sizes in bytes
      --human   sizes like 16E
      --json    shmmax, shmmin, shmmni, shmseg, shmall (pages), shmallBytes,
                pageSize, source; big numbers as decimal strings
  -h, --help    this help
`,
  options: { bytes: { type: 'boolean', short: 'b' }, human: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError('limits takes no arguments', 'limits');
    const l = limits();
    await write(io.stdout, values.json ? toJson(l) : formatLimits(l, unitOf(values)));
    return 0;
  },
};

export const summaryCommand: Command = {
  name: 'summary',
  summary: 'usage, like ipcs -m -u',
  help: `Usage: sysv-shm summary [--json]

Shows current usage as ipcs -m -u prints it: segments, pages allocated,
resident and swapped (SHM_INFO).

Options:
      --json    the same as JSON; page counts as decimal strings
  -h, --help    this help
`,
  options: { json: { type: 'boolean' } },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError('summary takes no arguments', 'summary');
    const s = summary();
    await write(io.stdout, values.json ? toJson(s) : formatSummary(s));
    return 0;
  },
};
