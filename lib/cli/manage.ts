// Making and removing: create (ipcmk), rm (ipcrm), orphans.
import { randomInt } from 'node:crypto';
import {
  IPC_CREAT,
  IPC_EXCL,
  MSG_INFO,
  MSG_STAT,
  SEM_INFO,
  SEM_STAT,
  SHM_INFO,
  SHM_STAT,
  Segment,
  ShmError,
  ftok,
  list,
  listQueues,
  listSemaphores,
  msgctl,
  msgget,
  orphans,
  remove,
  semctl,
  semget,
  shmctl,
  shmget,
  type SegmentStatus,
} from '../index.js';
import { UsageError, parseId, parseKey, parseMode, parseProjId, parseSize, str, strs, write, type Command, type Io } from './args.js';
import { formatList, hexKey, toJson } from './format.js';
import { oneLine } from './errors.js';

/** What ipcmk prints for each kind it made, in the order it makes them. */
const IPCMK_LINES = { shm: 'Shared memory id', msg: 'Message queue id', sem: 'Semaphore id' } as const;

/** A number of semaphores for -S: 1 or more, decimal. */
function parseSemaphoreCount(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 2 ** 31 - 1) {
    throw new UsageError(`-S takes the number of semaphores in the set, 1 or more, got ${JSON.stringify(text)}`, 'create');
  }
  return Number(text);
}

/**
 * Makes one object with IPC_CREAT | IPC_EXCL. With no key given, a random one as ipcmk picks (not IPC_PRIVATE),
 * tried again if it happens to be taken (ipcmk would open the existing object instead).
 */
function makeWithKey(key: number | undefined, make: (key: number) => number): number {
  if (key !== undefined) return make(key);
  for (let attempt = 0; ; attempt++) {
    const random = randomInt(1, 2 ** 32) | 0;
    try {
      return make(random);
    } catch (error) {
      if (!(error instanceof ShmError && error.code === 'EEXIST') || attempt >= 20) throw error;
    }
  }
}

export const create: Command = {
  name: 'create',
  summary: 'create a segment, semaphore set or queue and print its id, like ipcmk',
  help: `Usage: sysv-shm create --size <size> [--key <key> | --path <file> --proj <id>] [-p <mode>] [--json]
       sysv-shm create [-M <size>] [-S <n>] [-Q] [--key <key> | --path <file> --proj <id>] [-p <mode>] [--json]

With --size: creates a shared memory segment and prints its id. Without --key
or --path the segment is private (IPC_PRIVATE, key 0): other processes attach
it by id. Mode 0600 (owner only) unless --mode says otherwise.

With ipcmk's options -M (a segment), -S (a semaphore set) and -Q (a message
queue), one or more at once: as ipcmk does, a random key unless --key or --path
gives one, mode 0644 unless -p says otherwise, and one line for each, in
ipcmk's order and words:
  Shared memory id: <id>
  Message queue id: <id>
  Semaphore id: <id>
Everything made stays until removed: sysv-shm rm <id>, rm -q <id>, rm -s <id>.
If one cannot be made, the others made by this command are removed again.

Options:
  -s, --size <size>       a segment of this many bytes; K, M, G are 1024-based
                          (64K, 1M), KB, MB, GB 1000-based
  -M, --shmem <size>      a segment, as ipcmk -M
  -S, --semaphore <n>     a set of n semaphores (all 0), as ipcmk -S
  -Q, --queue             a message queue, as ipcmk -Q
  -k, --key <key>         a key (0x1234abcd or decimal); fails if it is taken;
                          0 is IPC_PRIVATE
      --path <file>       with --proj: the key is ftok(file, proj)
      --proj <id>         ftok's project id, 1..255 or one character
  -p, -m, --mode <mode>   octal permission bits, as ipcmk -p (default 0600 with
                          --size, 0644 with -M, -S, -Q as ipcmk)
      --json              print the new object's status as JSON instead (several:
                          { "shm": ..., "msg": ..., "sem": ... })
  -h, --help              this help
`,
  options: {
    size: { type: 'string', short: 's' },
    shmem: { type: 'string', short: 'M' },
    semaphore: { type: 'string', short: 'S' },
    queue: { type: 'boolean', short: 'Q' },
    key: { type: 'string', short: 'k' },
    path: { type: 'string' },
    proj: { type: 'string' },
    mode: { type: 'string', short: 'm' },
    json: { type: 'boolean' },
  },
  shortAliases: { p: 'm' }, // ipcmk's -p, --mode
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError(`create takes options only (got ${positionals.join(' ')}); e.g. sysv-shm create --size 4096`, 'create');
    const sizeText = str(values, 'size');
    const shmemText = str(values, 'shmem');
    const semText = str(values, 'semaphore');
    const queue = values.queue === true;
    const ipcmk = shmemText !== undefined || semText !== undefined || queue;
    if (sizeText !== undefined && ipcmk) {
      throw new UsageError('--size makes a segment the sysv-shm way; with -S or -Q give the segment as ipcmk does: -M <size>', 'create');
    }
    if (sizeText === undefined && !ipcmk)
      throw new UsageError("--size is required, e.g. --size 4096 or --size 1M (or ipcmk's -M <size>, -S <n>, -Q)", 'create');
    const keyText = str(values, 'key');
    const path = str(values, 'path');
    const proj = str(values, 'proj');
    if (keyText !== undefined && path !== undefined) throw new UsageError('give --key or --path with --proj, not both', 'create');
    if ((path === undefined) !== (proj === undefined)) throw new UsageError('--path and --proj go together (ftok takes both)', 'create');
    const modeText = str(values, 'mode');
    const mode = modeText === undefined ? undefined : parseMode(modeText, 'create');

    if (!ipcmk) {
      const segment = Segment.create({
        size: parseSize(sizeText!, '--size', 'create'),
        ...(keyText !== undefined ? { key: parseKey(keyText, 'create') } : {}),
        ...(path !== undefined ? { path, projId: parseProjId(proj!, 'create') } : {}),
        ...(mode !== undefined ? { mode } : {}),
      });
      await write(io.stdout, values.json ? toJson(segment.stat()) : `${segment.id}\n`);
      return 0;
    }

    // As ipcmk: every argument checked first, then shm, msg, sem made in that order.
    const size = shmemText === undefined ? undefined : parseSize(shmemText, '-M', 'create');
    const nsems = semText === undefined ? undefined : parseSemaphoreCount(semText);
    const key = keyText !== undefined ? parseKey(keyText, 'create') : path !== undefined ? ftok(path, parseProjId(proj!, 'create')) : undefined;
    const flags = IPC_CREAT | IPC_EXCL | (mode ?? 0o644);
    const made: Array<{ kind: 'shm' | 'msg' | 'sem'; id: number }> = [];
    try {
      if (size !== undefined) made.push({ kind: 'shm', id: makeWithKey(key, (k) => Segment.create({ key: k, size, mode: mode ?? 0o644 }).id) });
      if (queue) made.push({ kind: 'msg', id: makeWithKey(key, (k) => msgget(k, flags)) });
      if (nsems !== undefined) made.push({ kind: 'sem', id: makeWithKey(key, (k) => semget(k, nsems, flags)) });
    } catch (error) {
      for (const { kind, id } of made) {
        try {
          remove({ kind, id });
        } catch {
          // gone already
        }
      }
      throw error;
    }
    if (values.json) {
      const status = ({ kind, id }: (typeof made)[number]) =>
        kind === 'shm' ? Segment.fromId(id).stat() : kind === 'sem' ? listSemaphores().find((s) => s.id === id) : listQueues().find((q) => q.id === id);
      await write(io.stdout, toJson(made.length === 1 ? status(made[0]) : Object.fromEntries(made.map((m) => [m.kind, status(m)]))));
    } else {
      await write(io.stdout, made.map(({ kind, id }) => `${IPCMK_LINES[kind]}: ${id}\n`).join(''));
    }
    return 0;
  },
};

async function report(io: Io, verbose: boolean, id: number, wasAttached: boolean): Promise<void> {
  if (!verbose) return;
  await write(io.stdout, wasAttached ? `marked ${id} for removal: still attached, destroyed at the last detach\n` : `removed ${id}\n`);
}

/** ipcrm's options: which facility, by id or by key, and the words ipcrm -v prints. */
const IPCRM_OPTIONS = {
  'shmem-id': { kind: 'shm', byKey: false },
  'shmem-key': { kind: 'shm', byKey: true },
  'queue-id': { kind: 'msg', byKey: false },
  'queue-key': { kind: 'msg', byKey: true },
  'semaphore-id': { kind: 'sem', byKey: false },
  'semaphore-key': { kind: 'sem', byKey: true },
} as const;
const IPCRM_VERBOSE = { shm: 'removing shared memory segment id', msg: 'removing message queue id', sem: 'removing semaphore id' } as const;

/** ipcrm's warning for a failed lookup or removal: "invalid id (5)", "permission denied for key (0x1234)". */
function ipcrmMessage(error: ShmError, byKey: boolean, shown: string): string {
  const what = byKey ? 'key' : 'id';
  if (error.code === 'EACCES' || error.code === 'EPERM') return `permission denied for ${what} (${shown})`;
  if (error.code === 'EINVAL' || error.code === 'ENOENT') return `invalid ${what} (${shown})`;
  if (error.code === 'EIDRM') return `already removed ${what} (${shown})`;
  return `${what} failed: ${oneLine(error)}`;
}

/**
 * One of ipcrm's options, as ipcrm does it: a key is looked up with shmget(key, 0, 0), msgget(key, 0) or
 * semget(key, 0, 0), -v announces the id, then IPC_RMID. Failures are one line in ipcrm's words. False on failure.
 */
async function ipcrmOne(io: Io, option: keyof typeof IPCRM_OPTIONS, text: string, verbose: boolean): Promise<boolean> {
  const { kind, byKey } = IPCRM_OPTIONS[option];
  let id: number;
  try {
    if (byKey) {
      const key = parseKey(text, 'rm');
      if (key === 0) {
        await write(io.stderr, `sysv-shm rm: illegal key (${text})\n`);
        return false;
      }
      id = kind === 'shm' ? shmget(key, 0, 0) : kind === 'sem' ? semget(key, 0, 0) : msgget(key, 0);
    } else {
      id = parseId(text, 'rm', 'id');
    }
  } catch (error) {
    if (!(error instanceof ShmError)) throw error;
    await write(io.stderr, `sysv-shm rm: ${ipcrmMessage(error, true, text)}\n`);
    return false;
  }
  if (verbose) await write(io.stdout, `${IPCRM_VERBOSE[kind]} \`${id}'\n`);
  try {
    remove({ kind, id });
    return true;
  } catch (error) {
    if (!(error instanceof ShmError)) throw error;
    await write(io.stderr, `sysv-shm rm: ${ipcrmMessage(error, byKey, String(id))}\n`);
    return false;
  }
}

/** The kinds ipcrm -a removes, in its order: segments, semaphore sets, message queues. */
const IPCRM_ALL_ORDER = ['shm', 'sem', 'msg'] as const;
type Kind = (typeof IPCRM_ALL_ORDER)[number];

/** The value of --all or --all-mine: one kind, or all three ('all': the option without a value). */
function kindsOfAll(option: string, text: string): Kind[] {
  if (text === 'all') return [...IPCRM_ALL_ORDER];
  if ((IPCRM_ALL_ORDER as readonly string[]).includes(text)) return [text as Kind];
  throw new UsageError(`unknown argument: ${text} (--${option} takes shm, msg or sem, as --${option}=sem, or nothing for all three)`, 'rm');
}

/**
 * The id at each index of the kernel's array of this kind that SHM_STAT, SEM_STAT or MSG_STAT shows this process
 * (read permission, or CAP_IPC_OWNER), found one at a time as ipcrm -a walks them: 0 up to the highest index
 * SHM_INFO, SEM_INFO or MSG_INFO reports.
 */
function* statableIds(kind: Kind): Generator<number> {
  const highest = kind === 'shm' ? shmctl(0, SHM_INFO).highestIndex : kind === 'sem' ? semctl(0, 0, SEM_INFO).highestIndex : msgctl(0, MSG_INFO).highestIndex;
  for (let index = 0; index <= highest; index++) {
    let id: number;
    try {
      id = kind === 'shm' ? shmctl(index, SHM_STAT).shmid : kind === 'sem' ? semctl(index, 0, SEM_STAT).semid : msgctl(index, MSG_STAT).msqid;
    } catch (error) {
      if (error instanceof ShmError) continue; // an empty slot, or one we may not read: ipcrm -a passes it by
      throw error;
    }
    yield id;
  }
}

/** ipcrm -a[=kind]: every object of these kinds this process can see, removed by id in ipcrm's words. False if any failed. */
async function ipcrmAll(io: Io, kinds: Kind[], verbose: boolean): Promise<boolean> {
  let ok = true;
  for (const kind of kinds) {
    for (const id of statableIds(kind)) {
      if (verbose) await write(io.stdout, `${IPCRM_VERBOSE[kind]} \`${id}'\n`);
      try {
        remove({ kind, id });
      } catch (error) {
        if (!(error instanceof ShmError)) throw error;
        ok = false;
        await write(io.stderr, `sysv-shm rm: ${ipcrmMessage(error, false, String(id))}\n`);
      }
    }
  }
  return ok;
}

const OWNED_WORDS: Record<Kind, { one: string; many: string }> = {
  shm: { one: 'segment', many: 'segments' },
  sem: { one: 'semaphore set', many: 'semaphore sets' },
  msg: { one: 'message queue', many: 'message queues' },
};

export const rm: Command = {
  name: 'rm',
  summary: 'remove segments, semaphore sets, queues by id or key, like ipcrm',
  help: `Usage: sysv-shm rm <id>... [--key <key>]... [-v]
       sysv-shm rm [-m <id>] [-M <key>] [-q <id>] [-Q <key>] [-s <id>] [-S <key>]... [-a[=shm|msg|sem]] [-v]
       sysv-shm rm --all-mine[=shm|msg|sem] [-v]

Removes objects (IPC_RMID). Ids and --key are segments, as ipcrm -m / -M
remove them: an unattached segment is destroyed at once; an attached one is
marked (dest in sysv-shm ls, key 0) and destroyed when its last process
detaches. A semaphore set or a message queue goes at once: whoever waits on it
gets EIDRM.

ipcrm's own options act in the order given and speak ipcrm's words: -v says
"removing semaphore id \`5'" before each, and a failure is one line such as
"invalid id (5)", "invalid key (0x1234)", "permission denied for id (5)".
-a removes, after the others, everything of the kind named (all three without
one) that this user can see (read permission; root sees all), as ipcrm -a:
segments, then semaphore sets, then queues. What it sees but may not remove
(not its owner or creator) is "permission denied for id (N)".

Options:
  -k, --key <key>            the segment with this key (0x1234abcd or decimal)
  -m, --shmem-id <id>        a segment by id, as ipcrm -m
  -M, --shmem-key <key>      a segment by key, as ipcrm -M
  -q, --queue-id <id>        a message queue by id, as ipcrm -q
  -Q, --queue-key <key>      a message queue by key, as ipcrm -Q
  -s, --semaphore-id <id>    a semaphore set by id, as ipcrm -s
  -S, --semaphore-key <key>  a semaphore set by key, as ipcrm -S
  -a, --all[=shm|msg|sem]    everything (of that kind) you can see, as ipcrm -a;
                             the kind goes with = or right after: -asem
      --all-mine[=shm|msg|sem]
                             everything (of that kind) owned by the current user
                             (uid ${process.getuid?.() ?? '?'}): segments, semaphore sets, queues
  -v, --verbose              say what happened to each one
  -h, --help                 this help

All of them but -a and --all-mine are repeatable. Every one is tried; the exit
status is 1 if any could not be removed.
`,
  options: {
    key: { type: 'string', short: 'k', multiple: true },
    'shmem-id': { type: 'string', short: 'm', multiple: true },
    'shmem-key': { type: 'string', short: 'M', multiple: true },
    'queue-id': { type: 'string', short: 'q', multiple: true },
    'queue-key': { type: 'string', short: 'Q', multiple: true },
    'semaphore-id': { type: 'string', short: 's', multiple: true },
    'semaphore-key': { type: 'string', short: 'S', multiple: true },
    all: { type: 'string', short: 'a' },
    'all-mine': { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  },
  optionalValues: { all: 'all', 'all-mine': 'all' },
  async run(values, positionals, io, tokens) {
    const keys = strs(values, 'key').map((k) => parseKey(k, 'rm'));
    const ids = positionals.map((p) => parseId(p, 'rm'));
    const ipcrmCount = Object.keys(IPCRM_OPTIONS).reduce((n, name) => n + strs(values, name).length, 0);
    const allMineText = str(values, 'all-mine');
    const allText = str(values, 'all');
    const allMine = allMineText === undefined ? undefined : kindsOfAll('all-mine', allMineText);
    const all = allText === undefined ? undefined : kindsOfAll('all', allText);
    if (allMine && (keys.length > 0 || ids.length > 0 || ipcrmCount > 0 || all)) throw new UsageError('--all-mine takes no ids, keys or other options', 'rm');
    if (!allMine && !all && keys.length === 0 && ids.length === 0 && ipcrmCount === 0) {
      throw new UsageError("give segment ids, --key <key>, ipcrm's -m/-M/-q/-Q/-s/-S/-a, or --all-mine", 'rm');
    }
    const verbose = values.verbose === true;
    // Check every id and key before removing anything (a usage error removes nothing).
    for (const name of Object.keys(IPCRM_OPTIONS) as Array<keyof typeof IPCRM_OPTIONS>) {
      for (const text of strs(values, name)) (IPCRM_OPTIONS[name].byKey ? parseKey : (t: string) => parseId(t, 'rm', 'id'))(text, 'rm');
    }
    const before = new Map(list().map((s) => [s.id, s]));
    let failed = 0;

    const removeSegment = async (target: { id: number } | { key: number }) => {
      const label = 'id' in target ? `id ${target.id}` : `key ${hexKey(target.key)}`;
      try {
        const status = 'id' in target ? before.get(target.id) : [...before.values()].find((s) => s.key === target.key);
        remove(target);
        await report(io, verbose, status?.id ?? ('id' in target ? target.id : -1), (status?.attached ?? 0) > 0);
      } catch (error) {
        failed++;
        await write(io.stderr, `sysv-shm rm: ${label}: ${oneLine(error)}\n`);
      }
    };

    if (allMine) {
      const uid = process.getuid?.();
      let found = 0;
      for (const kind of allMine) {
        const owned = (kind === 'shm' ? [...before.values()] : kind === 'sem' ? listSemaphores() : listQueues()).filter((o) => o.uid === uid);
        found += owned.length;
        for (const { id } of owned) {
          if (kind === 'shm') {
            await removeSegment({ id });
            continue;
          }
          try {
            remove({ kind, id });
            if (verbose) await write(io.stdout, `removed ${OWNED_WORDS[kind].one} ${id}\n`);
          } catch (error) {
            failed++;
            await write(io.stderr, `sysv-shm rm: ${OWNED_WORDS[kind].one} ${id}: ${oneLine(error)}\n`);
          }
        }
      }
      if (verbose && found === 0) {
        const what = allMine.map((kind) => OWNED_WORDS[kind].many);
        await write(io.stdout, `no ${what.length > 1 ? `${what.slice(0, -1).join(', ')} or ${what.at(-1)}` : what[0]} owned by you\n`);
      }
      return failed ? 1 : 0;
    }
    // In command-line order: a positional is a segment id, --key a segment key, the rest ipcrm's options.
    for (const token of tokens) {
      if (token.kind === 'positional') await removeSegment({ id: parseId(token.value, 'rm') });
      else if (token.kind === 'option' && token.name === 'key') await removeSegment({ key: parseKey(token.value!, 'rm') });
      else if (token.kind === 'option' && token.name in IPCRM_OPTIONS) {
        if (!(await ipcrmOne(io, token.name as keyof typeof IPCRM_OPTIONS, token.value!, verbose))) failed++;
      }
    }
    // ipcrm -a acts after every other option, whatever their order.
    if (all && !(await ipcrmAll(io, all, verbose))) failed++;
    return failed ? 1 : 0;
  },
};

export const orphansCommand: Command = {
  name: 'orphans',
  summary: 'segments nobody will come back for (--rm removes them)',
  help: `Usage: sysv-shm orphans [--mine] [--rm] [--json]

Lists orphans: segments nobody is attached to whose creator and last user
processes are both gone. Many are leaks of programs that crashed or forgot to
remove what they made; some are kept on purpose (a server's segment between
runs), so look before you remove.

Options:
      --mine    only segments owned by the current user
      --rm      remove them, and list what was removed
      --json    as JSON
  -h, --help    this help
`,
  options: { mine: { type: 'boolean' }, rm: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError('orphans takes no arguments', 'orphans');
    let found: SegmentStatus[] = orphans();
    if (values.mine) found = found.filter((s) => s.uid === process.getuid?.());
    let failed = 0;
    if (values.rm) {
      const removed: SegmentStatus[] = [];
      for (const s of found) {
        try {
          remove({ id: s.id });
          removed.push(s);
        } catch (error) {
          failed++;
          await write(io.stderr, `sysv-shm orphans: id ${s.id}: ${oneLine(error)}\n`);
        }
      }
      found = removed;
    }
    await write(io.stdout, values.json ? toJson(found) : formatList(found));
    return failed ? 1 : 0;
  },
};
