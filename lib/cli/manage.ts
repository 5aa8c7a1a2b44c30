// Making and removing: create (ipcmk -M), rm (ipcrm), orphans.
import { Segment, list, orphans, remove, type SegmentStatus } from '../index.js';
import { UsageError, parseId, parseKey, parseMode, parseProjId, parseSize, str, strs, write, type Command, type Io } from './args.js';
import { formatList, hexKey, toJson } from './format.js';
import { oneLine } from './errors.js';

export const create: Command = {
  name: 'create',
  summary: 'create a segment and print its id, like ipcmk -M',
  help: `Usage: sysv-shm create --size <size> [--key <key> | --path <file> --proj <id>] [--mode <mode>] [--json]

Creates a segment and prints its id. Without --key or --path the segment is
private (IPC_PRIVATE, key 0): other processes attach it by id.
It stays until removed: sysv-shm rm <id>.

Options:
  -s, --size <size>  bytes; K, M, G are 1024-based (64K, 1M), KB, MB, GB 1000-based
  -k, --key <key>    a key (0x1234abcd or decimal); fails if it is taken
      --path <file>  with --proj: the key is ftok(file, proj)
      --proj <id>    ftok's project id, 1..255 or one character
  -m, --mode <mode>  octal permission bits (default 0600: owner only; ipcmk's
                     default is 0644)
      --json         print the new segment's status as JSON instead of its id
  -h, --help         this help
`,
  options: {
    size: { type: 'string', short: 's' },
    key: { type: 'string', short: 'k' },
    path: { type: 'string' },
    proj: { type: 'string' },
    mode: { type: 'string', short: 'm' },
    json: { type: 'boolean' },
  },
  async run(values, positionals, io) {
    if (positionals.length > 0) throw new UsageError(`create takes options only (got ${positionals.join(' ')}); e.g. sysv-shm create --size 4096`, 'create');
    const sizeText = str(values, 'size');
    if (sizeText === undefined) throw new UsageError('--size is required, e.g. --size 4096 or --size 1M', 'create');
    const keyText = str(values, 'key');
    const path = str(values, 'path');
    const proj = str(values, 'proj');
    if (keyText !== undefined && path !== undefined) throw new UsageError('give --key or --path with --proj, not both', 'create');
    if ((path === undefined) !== (proj === undefined)) throw new UsageError('--path and --proj go together (ftok takes both)', 'create');
    const modeText = str(values, 'mode');
    const segment = Segment.create({
      size: parseSize(sizeText, '--size', 'create'),
      ...(keyText !== undefined ? { key: parseKey(keyText, 'create') } : {}),
      ...(path !== undefined ? { path, projId: parseProjId(proj!, 'create') } : {}),
      ...(modeText !== undefined ? { mode: parseMode(modeText, 'create') } : {}),
    });
    await write(io.stdout, values.json ? toJson(segment.stat()) : `${segment.id}\n`);
    return 0;
  },
};

async function report(io: Io, verbose: boolean, id: number, wasAttached: boolean): Promise<void> {
  if (!verbose) return;
  await write(io.stdout, wasAttached ? `marked ${id} for removal: still attached, destroyed at the last detach\n` : `removed ${id}\n`);
}

export const rm: Command = {
  name: 'rm',
  summary: 'remove segments by id or key, like ipcrm',
  help: `Usage: sysv-shm rm <id>... [--key <key>]... [-v]
       sysv-shm rm --all-mine [-v]

Removes segments (IPC_RMID), as ipcrm -m / -M does. An unattached segment is
destroyed at once; an attached one is marked (dest in sysv-shm ls, key 0) and
destroyed when its last process detaches.

Options:
  -k, --key <key>  the segment with this key (0x1234abcd or decimal); repeatable
      --all-mine   every segment owned by the current user (uid ${process.getuid?.() ?? '?'})
  -v, --verbose    say what happened to each segment
  -h, --help       this help

Every segment is tried; the exit status is 1 if any could not be removed.
`,
  options: { key: { type: 'string', short: 'k', multiple: true }, 'all-mine': { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' } },
  async run(values, positionals, io) {
    const keys = strs(values, 'key').map((k) => parseKey(k, 'rm'));
    const ids = positionals.map((p) => parseId(p, 'rm'));
    const allMine = values['all-mine'] === true;
    if (allMine && (keys.length > 0 || ids.length > 0)) throw new UsageError('--all-mine takes no ids or keys', 'rm');
    if (!allMine && keys.length === 0 && ids.length === 0) throw new UsageError('give segment ids, --key <key>, or --all-mine', 'rm');
    const verbose = values.verbose === true;
    const before = new Map(list().map((s) => [s.id, s]));
    const targets: Array<{ id: number } | { key: number }> = allMine
      ? [...before.values()].filter((s) => s.uid === process.getuid?.()).map((s) => ({ id: s.id }))
      : [...ids.map((id) => ({ id })), ...keys.map((key) => ({ key }))];
    let failed = 0;
    for (const target of targets) {
      const label = 'id' in target ? `id ${target.id}` : `key ${hexKey(target.key)}`;
      try {
        const status = 'id' in target ? before.get(target.id) : [...before.values()].find((s) => s.key === target.key);
        remove(target);
        await report(io, verbose, status?.id ?? ('id' in target ? target.id : -1), (status?.attached ?? 0) > 0);
      } catch (error) {
        failed++;
        await write(io.stderr, `sysv-shm rm: ${label}: ${oneLine(error)}\n`);
      }
    }
    if (allMine && verbose && targets.length === 0) await write(io.stdout, 'no segments owned by you\n');
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
