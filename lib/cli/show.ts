// Looking: ls (ipcs: -m, -q, -s, -a with -t, -p, -c, -l, -u, -i), stat (ipcs -i), limits (ipcs -l), summary (ipcs -u).
import {
  GETNCNT,
  GETPID,
  GETVAL,
  GETZCNT,
  list,
  listQueues,
  listSemaphores,
  semctl,
  type MessageQueueEntry,
  type SegmentStatus,
  type SemaphoreSetEntry,
} from '../index.js';
import { messageQueueLimits, messageQueueSummary, semaphoreLimits, semaphoreSummary, sharedMemoryLimits, sharedMemorySummary } from '../system/limits.js';
import { UsageError, parseId, parseKey, str, write, type Command, type Io } from './args.js';
import {
  formatQueueStat,
  formatSemaphoreStat,
  formatStat,
  hexKey,
  ipcsOutput,
  msgLimitsSection,
  msgSection,
  msgSummarySection,
  semLimitsSection,
  semSection,
  semSummarySection,
  shmLimitsSection,
  shmSection,
  shmSummarySection,
  toJson,
  type ListView,
  type SemaphoreState,
  type SizeUnit,
} from './format.js';

const unitOf = (values: Record<string, unknown>): SizeUnit => (values.human ? 'human' : values.bytes ? 'bytes' : 'default');

/** The three facilities, in the order ipcs prints them: message queues, shared memory, semaphores. */
type Kind = 'msg' | 'shm' | 'sem';
const KINDS: readonly Kind[] = ['msg', 'shm', 'sem'];

/** The resource options every looking command takes, named as ipcs names them. */
const resourceOptions = {
  shmems: { type: 'boolean', short: 'm' },
  queues: { type: 'boolean', short: 'q' },
  semaphores: { type: 'boolean', short: 's' },
  all: { type: 'boolean', short: 'a' },
} as const;

const RESOURCE_HELP = `  -m, --shmems      shared memory segments (the default)
  -q, --queues      message queues
  -s, --semaphores  semaphore sets
  -a, --all         all three, in ipcs's order: queues, segments, semaphores`;

/** The facilities asked for, in ipcs's order; shared memory when none is named (as sysv-shm always did). */
function kindsOf(values: Record<string, unknown>): Kind[] {
  if (values.all) return [...KINDS];
  const asked = KINDS.filter((kind) => values[{ msg: 'queues', shm: 'shmems', sem: 'semaphores' }[kind]]);
  return asked.length > 0 ? asked : ['shm'];
}

/** JSON of one facility's value, or of several as { msg, shm, sem }. */
function byKind(kinds: Kind[], value: (kind: Kind) => unknown): string {
  return toJson(kinds.length === 1 ? value(kinds[0]) : Object.fromEntries(kinds.map((kind) => [kind, value(kind)])));
}

const NAMES: Record<Kind, { one: string; ls: string }> = {
  shm: { one: 'segment', ls: 'sysv-shm ls' },
  sem: { one: 'semaphore set', ls: 'sysv-shm ls -s' },
  msg: { one: 'message queue', ls: 'sysv-shm ls -q' },
};

/** The object of this kind with this id or key, from the system-wide list (as ipcs does: no read permission needed). */
function find(kind: Kind, target: { id: number } | { key: number }): SegmentStatus | SemaphoreSetEntry | MessageQueueEntry {
  const all: Array<SegmentStatus | SemaphoreSetEntry | MessageQueueEntry> = kind === 'shm' ? list() : kind === 'sem' ? listSemaphores() : listQueues();
  const found = 'id' in target ? all.find((o) => o.id === target.id) : all.find((o) => o.key === target.key);
  if (found) return found;
  const { one, ls } = NAMES[kind];
  if ('id' in target) throw new Error(`no ${one} with id ${target.id} (${ls} lists them)`);
  throw new Error(`no ${one} with key ${hexKey(target.key)} (${ls} lists them${kind === 'shm' ? "; a removed segment's key is 0" : ''})`);
}

/** Each semaphore of a set: GETVAL, GETNCNT, GETZCNT, GETPID (what ipcs -s -i asks; needs read permission). */
function semaphoresOf(set: SemaphoreSetEntry): SemaphoreState[] {
  return Array.from({ length: set.count }, (_, i) => ({
    value: semctl(set.id, i, GETVAL),
    waitingForNonzero: semctl(set.id, i, GETNCNT),
    waitingForZero: semctl(set.id, i, GETZCNT),
    lastPid: semctl(set.id, i, GETPID),
  }));
}

/** One object in detail: what ipcs -m|-s|-q -i prints, or its JSON. */
async function describeOne(io: Io, kind: Kind, target: { id: number } | { key: number }, unit: SizeUnit, json: boolean): Promise<void> {
  const found = find(kind, target);
  if (kind === 'shm') {
    await write(io.stdout, json ? toJson(found) : formatStat(found as SegmentStatus, unit));
  } else if (kind === 'sem') {
    const set = found as SemaphoreSetEntry;
    const semaphores = semaphoresOf(set);
    await write(io.stdout, json ? toJson({ ...set, semaphores }) : formatSemaphoreStat(set, semaphores));
  } else {
    await write(io.stdout, json ? toJson(found) : formatQueueStat(found as MessageQueueEntry, unit));
  }
}

function limitsOf(kind: Kind) {
  return kind === 'shm' ? sharedMemoryLimits() : kind === 'sem' ? semaphoreLimits() : messageQueueLimits();
}

function limitsSection(kind: Kind, unit: SizeUnit): string {
  return kind === 'shm'
    ? shmLimitsSection(sharedMemoryLimits(), unit)
    : kind === 'sem'
      ? semLimitsSection(semaphoreLimits())
      : msgLimitsSection(messageQueueLimits(), unit);
}

function summaryOf(kind: Kind) {
  return kind === 'shm' ? sharedMemorySummary() : kind === 'sem' ? semaphoreSummary() : messageQueueSummary();
}

function summarySection(kind: Kind, unit: SizeUnit): string {
  return kind === 'shm'
    ? shmSummarySection(sharedMemorySummary())
    : kind === 'sem'
      ? semSummarySection(semaphoreSummary())
      : msgSummarySection(messageQueueSummary(), unit);
}

export const ls: Command = {
  name: 'ls',
  summary: 'list segments, semaphore sets, queues, like ipcs (-t, -p, -c, -l, -u, -i)',
  help: `Usage: sysv-shm ls [-m | -q | -s | -a] [-t | -p | -c | -l | -u] [--human | -b] [--json]
       sysv-shm ls [-m | -q | -s] -i <id> [--human] [--json]

Prints what ipcs prints with the same options, byte for byte. Without -q, -s
or -a it lists shared memory segments (ipcs -m): key, shmid, owner, perms,
bytes, nattch, status (dest: removed but still attached, destroyed at the
last detach; locked: SHM_LOCK in force).

Resources:
${RESOURCE_HELP}

Views (one at most):
  -t, --time        times: attach/detach/change, last op/change, send/recv/change
  -p, --pid         creator and last pids (ipcs -s -p prints nothing at all)
  -c, --creator     creators and owners
  -l, --limits      the system's limits, as sysv-shm limits
  -u, --summary     usage, as sysv-shm summary
  -i, --id <id>     one object in detail (with one resource), as sysv-shm stat

Options:
  -b, --bytes       sizes in bytes (the default)
      --human       sizes like 4.9K (ipcs --human)
      --json        every field of every object, as JSON (several resources:
                    { "msg": ..., "shm": ..., "sem": ... })
  -h, --help        this help
`,
  options: {
    ...resourceOptions,
    time: { type: 'boolean', short: 't' },
    pid: { type: 'boolean', short: 'p' },
    creator: { type: 'boolean', short: 'c' },
    limits: { type: 'boolean', short: 'l' },
    summary: { type: 'boolean', short: 'u' },
    id: { type: 'string', short: 'i' },
    human: { type: 'boolean' },
    bytes: { type: 'boolean', short: 'b' },
    json: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    if (positionals.length > 0) {
      throw new UsageError(`ls takes no arguments (got ${positionals.join(' ')}); for one object use: sysv-shm ls -i <id>, or sysv-shm stat <id>`, 'ls');
    }
    const kinds = kindsOf(values);
    const unit = unitOf(values);
    const json = values.json === true;
    const idText = str(values, 'id');
    if (idText !== undefined) {
      if (kinds.length !== 1) throw new UsageError('with -i, give a single resource: -m, -q or -s (as ipcs)', 'ls');
      await describeOne(io, kinds[0], { id: parseId(idText, 'ls', 'id') }, unit, json);
      return 0;
    }
    const views = (['time', 'pid', 'creator', 'limits', 'summary'] as const).filter((v) => values[v]);
    if (views.length > 1) throw new UsageError(`choose one of -t, -p, -c, -l, -u`, 'ls');
    const view = views[0];
    if (view === 'limits') {
      await write(io.stdout, json ? byKind(kinds, limitsOf) : ipcsOutput(kinds.map((kind) => limitsSection(kind, unit))));
      return 0;
    }
    if (view === 'summary') {
      await write(io.stdout, json ? byKind(kinds, summaryOf) : ipcsOutput(kinds.map((kind) => summarySection(kind, unit))));
      return 0;
    }
    if (json) {
      await write(
        io.stdout,
        byKind(kinds, (kind) => (kind === 'shm' ? list() : kind === 'sem' ? listSemaphores() : listQueues())),
      );
      return 0;
    }
    // In the kernel's order, as ipcs prints them (it differs from id order once ids have wrapped).
    const listView: ListView = view ?? 'default';
    const section = (kind: Kind) =>
      kind === 'shm'
        ? shmSection(list({ order: 'kernel' }), listView, unit)
        : kind === 'sem'
          ? semSection(listSemaphores({ order: 'kernel' }), listView)
          : msgSection(listQueues({ order: 'kernel' }), listView, unit);
    await write(io.stdout, ipcsOutput(kinds.map(section)));
    return 0;
  },
};

/** The one resource a command about one object takes: -m (the default), -s or -q. */
function oneKind(values: Record<string, unknown>, command: string): Kind {
  const asked = KINDS.filter((kind) => values[{ msg: 'queues', shm: 'shmems', sem: 'semaphores' }[kind]]);
  if (asked.length > 1) throw new UsageError('give one of -m, -s, -q', command);
  return asked[0] ?? 'shm';
}

export const stat: Command = {
  name: 'stat',
  summary: 'one segment, semaphore set or queue in detail, like ipcs -i',
  help: `Usage: sysv-shm stat [-m | -s | -q] <id> [--human] [--json]
       sysv-shm stat [-m | -s | -q] --key <key> [--human] [--json]

Shows one object as ipcs -m|-s|-q -i prints it. A segment (the default):
owner and creator, mode, size, pids, attachments and times. A semaphore set
(-s): owner, mode, times, and each semaphore's value, waiters and last pid. A
message queue (-q): owner, mode, bytes used and allowed, messages, pids and
times. Times are in the local time zone (TZ applies).

Options:
  -m, --shmems      a shared memory segment (the default)
  -s, --semaphores  a semaphore set
  -q, --queues      a message queue
  -k, --key <key>   the one with this key (0x1234abcd or decimal; a negative
                    one as --key=-123)
  -b, --bytes       sizes in bytes (the default)
      --human       sizes like 4.9K
      --json        every field as JSON
  -h, --help        this help
`,
  options: {
    shmems: resourceOptions.shmems,
    semaphores: resourceOptions.semaphores,
    queues: resourceOptions.queues,
    key: { type: 'string', short: 'k' },
    bytes: { type: 'boolean', short: 'b' },
    human: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    const kind = oneKind(values, 'stat');
    const keyText = str(values, 'key');
    if ((keyText === undefined) === (positionals.length === 0) || positionals.length > 1) {
      throw new UsageError(`give one ${NAMES[kind].one} id, or --key <key>`, 'stat');
    }
    const target = keyText === undefined ? { id: parseId(positionals[0], 'stat', `${NAMES[kind].one} id`) } : { key: parseKey(keyText, 'stat') };
    await describeOne(io, kind, target, unitOf(values), values.json === true);
    return 0;
  },
};

export const limitsCommand: Command = {
  name: 'limits',
  summary: 'system limits, like ipcs -l',
  help: `Usage: sysv-shm limits [-m | -q | -s | -a] [--bytes | --human] [--json]

Shows the system's limits as ipcs -l prints them.
Segments (the default): SHMMNI (segments), SHMMAX (largest segment), SHMALL
(all segments together), SHMMIN; set in /proc/sys/kernel/shm{mni,max,all}.
Semaphores (-s): SEMMNI (sets), SEMMSL (per set), SEMMNS (in all), SEMOPM
(operations per semop), SEMVMX (largest value); set in /proc/sys/kernel/sem.
Queues (-q): MSGMNI (queues), MSGMAX (largest message), MSGMNB (bytes a new
queue holds); set in /proc/sys/kernel/msg{mni,max,mnb}.

Options:
${RESOURCE_HELP}
  -b, --bytes       sizes in bytes
      --human       sizes like 16E
      --json        the numbers as JSON; big ones as decimal strings (several
                    resources: { "msg": ..., "shm": ..., "sem": ... })
  -h, --help        this help
`,
  options: { ...resourceOptions, bytes: { type: 'boolean', short: 'b' }, human: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError('limits takes no arguments', 'limits');
    const kinds = kindsOf(values);
    const unit = unitOf(values);
    await write(io.stdout, values.json ? byKind(kinds, limitsOf) : ipcsOutput(kinds.map((kind) => limitsSection(kind, unit))));
    return 0;
  },
};

export const summaryCommand: Command = {
  name: 'summary',
  summary: 'usage, like ipcs -u',
  help: `Usage: sysv-shm summary [-m | -q | -s | -a] [--bytes | --human] [--json]

Shows current usage as ipcs -u prints it. Segments (the default): segments,
pages allocated, resident and swapped (SHM_INFO). Semaphores (-s): sets in use
and semaphores in them (SEM_INFO). Queues (-q): queues in use, messages in
them and their bytes (MSG_INFO).

Options:
${RESOURCE_HELP}
  -b, --bytes       the bytes of queues as "used space (bytes) = N"
      --human       the bytes of queues like 4.9K
      --json        the same as JSON; page counts as decimal strings (several
                    resources: { "msg": ..., "shm": ..., "sem": ... })
  -h, --help        this help
`,
  options: { ...resourceOptions, bytes: { type: 'boolean', short: 'b' }, human: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError('summary takes no arguments', 'summary');
    const kinds = kindsOf(values);
    const unit = unitOf(values);
    await write(io.stdout, values.json ? byKind(kinds, summaryOf) : ipcsOutput(kinds.map((kind) => summarySection(kind, unit))));
    return 0;
  },
};
