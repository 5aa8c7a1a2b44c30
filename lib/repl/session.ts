// A REPL for experiments with System V IPC: the library in scope, helpers (ls, hexdump, watch, keep), and a
// session that cleans up after itself: leaving detaches what it attached and removes the segments, semaphore sets
// and message queues it created.
// The TypeScript part (stripping types before evaluation) is passed in by scripts/repl.ts, so that nothing here
// needs a compiler.
import repl, { type REPLServer } from 'node:repl';
import { homedir } from 'node:os';
import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import * as lib from '../index.js';
import {
  MessageQueue,
  Segment,
  SemaphoreSet,
  ShmError,
  remove,
  msgget as libMsgget,
  semget as libSemget,
  shmat as libShmat,
  shmctl,
  shmdt,
  shmget as libShmget,
  IPC_CREAT,
  IPC_EXCL,
  IPC_PRIVATE,
  IPC_STAT,
  type Attachment,
} from '../index.js';
import { cancelRemoveOnExit, isRemovedOnExit, removeOnExit, suspendSigintListener } from '../segment/remove-on-exit.js';
import { Watch, hexdumpText, lsText, type Bytes, type LsKind, type WatchOptions } from './helpers.js';
import type { ListView } from '../cli/format.js';

export const DEFAULT_HISTORY = join(homedir(), '.sysv_shm_repl_history');

export interface ReplSessionOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Default: whether output is a TTY. */
  terminal?: boolean;
  /** History file; '' disables history. Default: $SYSV_SHM_REPL_HISTORY or ~/.sysv_shm_repl_history. */
  historyPath?: string;
  /**
   * Turns one input into JavaScript (e.g. strips TypeScript types). It throws on a syntax error; an error with
   * `incomplete: true` means "more lines may complete it" and the REPL asks for them.
   */
  transform?: (code: string) => string;
  /** Print the banner (default true). */
  banner?: boolean;
  prompt?: string;
}

/** What leaving the REPL cleaned up. */
export interface CleanupReport {
  detached: number;
  /** Segments. */
  removed: number[];
  kept: number[];
  semaphoreSets: { removed: number[]; kept: number[] };
  queues: { removed: number[]; kept: number[] };
}

/** The semaphore sets and message queues a session made: kind 'sem' or 'msg'. */
type SysvKind = 'sem' | 'msg';
const KIND_WORDS: Record<SysvKind, { one: string; many: string; option: string }> = {
  sem: { one: 'semaphore set', many: 'semaphore sets', option: '-s' },
  msg: { one: 'message queue', many: 'message queues', option: '-q' },
};

export interface ReplSession {
  server: REPLServer;
  /** Resolves when the REPL was left and the cleanup is done. */
  closed: Promise<CleanupReport>;
}

const HELP = `sysv-shm REPL
  shm                        the whole library (import * from 'sysv-shm')
  Segment, list, limits, summary, orphans, remove, ftok, shmget, shmat, shmdt, shmctl,
  SemaphoreSet, MessageQueue, listSemaphores, listQueues, semget, semop, semtimedop, semctl,
  msgget, msgsnd, msgrcv, msgctl, Channel, Mailbox, Topic, wait, notify, waitAsync,
  IPC_*, SHM_*, SEM_*, MSG_*, GET*/SET* (GETVAL, SETALL, ...) constants, ShmError          in scope
  ls(kind?, view?)           tables like ipcs: ls() segments (ipcs -m), ls('sem') semaphore sets (-s),
                             ls('msg') queues (-q), ls('all') all three (-a); a view 'time', 'pid',
                             'creator' (-t, -p, -c) after the kind, or alone for segments: ls('time')
  hexdump(x, offset?, length?)   bytes of a Segment, attachment or buffer like hexdump -C (first KiB by default)
  watch(segment, ms = 100)   prints bytes as they change (any process); returns a handle: w.stop()
  keep(x)                    do not remove this segment, SemaphoreSet or MessageQueue when you leave
                             (an id: keep(id) a segment, keep(id, 'sem') a set, keep(id, 'msg') a queue)
  Segments, semaphore sets and queues made here (Segment.create, openOrCreate, SemaphoreSet.create,
  MessageQueue.create, shmget/semget/msgget with IPC_CREAT) are removed when you leave, attachments
  detached: keep(x) keeps one (or removeOnExit: false for a segment).
`;
const TYPESCRIPT_HELP = '  TypeScript works: const s: Segment = Segment.create({ size: 4096 }); top-level await too.\n';
const JAVASCRIPT_HELP = '  JavaScript only (TypeScript at the prompt needs Node >= 22.13); top-level await works.\n';

/** The C constants put in scope: IPC_*, SHM_*, SEM_*, MSG_*, semctl's commands and SEMVMX. */
const CONSTANT = /^(IPC|SHM|SEM|MSG)_[A-Z_0-9]+$|^(GETPID|GETVAL|GETALL|GETNCNT|GETZCNT|SETVAL|SETALL|SEMVMX)$/;

function banner(): string {
  return (
    `sysv-shm REPL (Node ${process.version}): the library is 'shm'; Segment, Channel, list, ftok, shmget, shmat, ... are in scope.\n` +
    `Also SemaphoreSet, MessageQueue, semget, semop, semctl, msgget, msgsnd, msgrcv, msgctl.\n` +
    `Helpers: ls(), ls('sem'), ls('msg'), ls('all'), hexdump(x), watch(segment), keep(x). .shm for help, .exit (or Ctrl-D) to leave.\n` +
    `Segments, semaphore sets and queues created here are removed when you leave, unless keep(x).\n`
  );
}

/** Hands the lines of `input` to a stream one at a time, when next() is called; ends it after the last line. */
function lineByLine(input: NodeJS.ReadableStream): { stream: PassThrough; next(): void } {
  const stream = new PassThrough();
  const lines: string[] = [];
  let ended = false;
  let wanted = false;
  const pump = () => {
    if (!wanted) return;
    const line = lines.shift();
    if (line !== undefined) {
      wanted = false;
      stream.write(line + '\n');
    } else if (ended) {
      wanted = false;
      stream.end();
    }
  };
  const reader = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
  reader.on('line', (line) => {
    lines.push(line);
    pump();
  });
  reader.on('close', () => {
    ended = true;
    pump();
  });
  return {
    stream,
    next() {
      wanted = true;
      setImmediate(pump);
    },
  };
}

export function startSession(options: ReplSessionOptions = {}): ReplSession {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const print = (text: string) => void output.write(text);
  if (options.banner !== false) print(banner());

  // -------------------------------------------------------------------------------------------------------------
  // What this session made, so that leaving can undo it.
  const segments = new Set<Segment>(); // every Segment object handed out: their attachments are detached on exit
  const created = new Set<number>(); // ids this session created and will remove
  const kept = new Set<number>();
  const rawAttachments = new Set<Attachment>(); // from the C-shaped shmat
  const watches = new Set<Watch>();
  // Semaphore sets and queues this session created (and will remove), and those kept.
  const createdSysv: Record<SysvKind, Set<number>> = { sem: new Set(), msg: new Set() };
  const keptSysv: Record<SysvKind, Set<number>> = { sem: new Set(), msg: new Set() };

  /**
   * Removes the sets and queues still to be removed; what was removed already (set.remove(), ipcrm) is reported
   * as gone. Also runs on SIGTERM and SIGHUP, and at exit, so that they go with the process as its segments do.
   */
  const removeCreatedSysv = () => {
    const result = { removed: { sem: [] as number[], msg: [] as number[] }, gone: { sem: [] as number[], msg: [] as number[] } };
    for (const kind of ['sem', 'msg'] as const) {
      for (const id of createdSysv[kind]) {
        try {
          remove({ kind, id });
          result.removed[kind].push(id);
        } catch (error) {
          if (!(error instanceof ShmError)) throw error;
          result.gone[kind].push(id);
        }
      }
      createdSysv[kind].clear();
    }
    stopRemovingSysvOnSignals();
    return result;
  };
  // A termination signal: remove them, then let the signal do what it would have done (the segments'
  // removeOnExit listener, if any, then removes the segments and ends the process; else the default action).
  const onTerminationSignal = (signal: NodeJS.Signals) => {
    removeCreatedSysv();
    process.kill(process.pid, signal);
  };
  const onProcessExit = () => void removeCreatedSysv();
  let removingOnSignals = false;
  function removeSysvOnSignals(): void {
    if (removingOnSignals) return;
    removingOnSignals = true;
    process.on('SIGTERM', onTerminationSignal);
    process.on('SIGHUP', onTerminationSignal);
    process.on('exit', onProcessExit);
  }
  function stopRemovingSysvOnSignals(): void {
    if (!removingOnSignals) return;
    removingOnSignals = false;
    process.removeListener('SIGTERM', onTerminationSignal);
    process.removeListener('SIGHUP', onTerminationSignal);
    process.removeListener('exit', onProcessExit);
  }
  const ownSysv = (kind: SysvKind, id: number) => {
    if (keptSysv[kind].has(id)) return;
    createdSysv[kind].add(id);
    removeSysvOnSignals();
  };
  /** Whether a set or queue with this key exists (then semget/msgget with IPC_CREAT opens it, and it is not ours). */
  const exists = (kind: SysvKind, key: number) => {
    try {
      if (kind === 'sem') libSemget(key, 0, 0);
      else libMsgget(key, 0);
      return true;
    } catch (error) {
      return !(error instanceof ShmError && error.code === 'ENOENT');
    }
  };
  /** Whether semget/msgget with these flags will make a new object (checked before the call). */
  const willCreate = (kind: SysvKind, key: number, flags: number) =>
    typeof key === 'number' &&
    typeof flags === 'number' &&
    (flags & IPC_CREAT) !== 0 &&
    (key === IPC_PRIVATE || (flags & IPC_EXCL) !== 0 || !exists(kind, key));

  const track = (segment: Segment) => {
    segments.add(segment);
    return segment;
  };
  const own = (id: number) => {
    if (kept.has(id)) return;
    removeOnExit(id);
    created.add(id);
  };

  const ReplSegment = new Proxy(Segment, {
    get(target, property, receiver) {
      switch (property) {
        case 'create':
          return (opts: lib.CreateOptions) => {
            const segment = track(target.create({ removeOnExit: true, ...opts }));
            if (isRemovedOnExit(segment.id)) created.add(segment.id);
            return segment;
          };
        case 'openOrCreate':
          return (opts: lib.OpenOrCreateOptions) => {
            const segment = track(target.openOrCreate({ ...opts, removeOnExit: opts?.removeOnExit === true }));
            if (segment.created && opts?.removeOnExit !== false) own(segment.id);
            return segment;
          };
        case 'open':
          return (source: lib.KeySource) => track(target.open(source));
        case 'fromId':
          return (id: number) => track(target.fromId(id));
        default:
          return Reflect.get(target, property, receiver);
      }
    },
  });

  /** shmget as in C; a segment it creates (IPC_CREAT, and this process is its creator) is removed on exit. */
  const shmget: typeof libShmget = (key, size, shmflg) => {
    const id = libShmget(key, size, shmflg);
    if ((shmflg & IPC_CREAT) !== 0 && !created.has(id)) {
      try {
        const ds = shmctl(id, IPC_STAT);
        if (ds.cpid === process.pid) own(id); // made by this process: by this call or an earlier one here
      } catch {
        // no read permission: it stays the caller's business
      }
    }
    return id;
  };
  /** semget as in C; a set it creates (IPC_CREAT with IPC_PRIVATE, IPC_EXCL, or a key nobody had) is removed on exit. */
  const semget: typeof libSemget = (key, nsems, semflg) => {
    const creating = willCreate('sem', key, semflg);
    const id = libSemget(key, nsems, semflg);
    if (creating) ownSysv('sem', id);
    return id;
  };
  /** msgget as in C; a queue it creates is removed on exit, as semget's sets. */
  const msgget: typeof libMsgget = (key, msgflg) => {
    const creating = willCreate('msg', key, msgflg);
    const id = libMsgget(key, msgflg);
    if (creating) ownSysv('msg', id);
    return id;
  };
  /** SemaphoreSet and MessageQueue whose create() registers what it made (not what it opened) for removal on exit. */
  const ReplSemaphoreSet = new Proxy(SemaphoreSet, {
    get(target, property, receiver) {
      if (property !== 'create') return Reflect.get(target, property, receiver);
      return (opts?: lib.SemaphoreSetCreateOptions) => {
        const set = target.create(opts);
        if (set.created) ownSysv('sem', set.id);
        return set;
      };
    },
  });
  const ReplMessageQueue = new Proxy(MessageQueue, {
    get(target, property, receiver) {
      if (property !== 'create') return Reflect.get(target, property, receiver);
      return (opts?: lib.MessageQueueCreateOptions) => {
        const queue = target.create(opts);
        if (queue.created) ownSysv('msg', queue.id);
        return queue;
      };
    },
  });
  const shmat: typeof libShmat = (...args: Parameters<typeof libShmat>) => {
    const attachment = libShmat(...args);
    rawAttachments.add(attachment);
    return attachment;
  };

  const helpers = {
    ls(kindOrView?: LsKind | ListView, view?: ListView): void {
      print(lsText(kindOrView, view));
    },
    hexdump(target: Bytes | number, offset?: number, length?: number): void {
      print(hexdumpText(typeof target === 'number' ? track(Segment.fromId(target)) : target, offset, length));
    },
    watch(target: Segment | lib.SegmentAttachment | lib.ReadOnlySegmentAttachment | number, ms = 100, watchOptions: WatchOptions = {}): Watch {
      const watch = new Watch(target, ms, watchOptions, printAsync, (w) => watches.delete(w));
      watches.add(watch);
      print(`watching segment ${watch.id} every ${ms} ms: changes print here; .stop() on the returned handle (or Ctrl-C) ends it\n`);
      return watch;
    },
    keep(target: Segment | SemaphoreSet | MessageQueue | number, kind: 'shm' | SysvKind = 'shm'): void {
      if (target instanceof SemaphoreSet) kind = 'sem';
      else if (target instanceof MessageQueue) kind = 'msg';
      else if (!(target instanceof Segment) && typeof target !== 'number') {
        throw new TypeError("keep takes a Segment, a SemaphoreSet, a MessageQueue, or an id with its kind: keep(id), keep(id, 'sem'), keep(id, 'msg')");
      }
      if (kind !== 'shm' && kind !== 'sem' && kind !== 'msg') throw new RangeError(`keep: kind must be 'shm', 'sem' or 'msg', got ${JSON.stringify(kind)}`);
      const id = typeof target === 'number' ? target : target.id;
      if (kind === 'shm') {
        cancelRemoveOnExit(id);
        created.delete(id);
        kept.add(id);
        print(`segment ${id} will stay when you leave: remove it later with sysv-shm rm ${id} (or ipcrm -m ${id})\n`);
        return;
      }
      createdSysv[kind].delete(id);
      keptSysv[kind].add(id);
      if (createdSysv.sem.size + createdSysv.msg.size === 0) stopRemovingSysvOnSignals();
      const { one, option } = KIND_WORDS[kind];
      print(`${one} ${id} will stay when you leave: remove it later with sysv-shm rm ${option} ${id} (or ipcrm ${option} ${id})\n`);
    },
  };

  const context: Record<string, unknown> = {
    shm: { ...lib, Segment: ReplSegment, shmget, shmat, SemaphoreSet: ReplSemaphoreSet, MessageQueue: ReplMessageQueue, semget, msgget },
    Segment: ReplSegment,
    SemaphoreSet: ReplSemaphoreSet,
    MessageQueue: ReplMessageQueue,
    SegmentAttachment: lib.SegmentAttachment,
    ReadOnlySegmentAttachment: lib.ReadOnlySegmentAttachment,
    ShmError,
    list: lib.list,
    listSemaphores: lib.listSemaphores,
    listQueues: lib.listQueues,
    limits: lib.limits,
    summary: lib.summary,
    orphans: lib.orphans,
    remove: lib.remove,
    ftok: lib.ftok,
    shmget,
    shmat,
    shmdt: lib.shmdt,
    shmctl: lib.shmctl,
    semget,
    semop: lib.semop,
    semtimedop: lib.semtimedop,
    semctl: lib.semctl,
    msgget,
    msgsnd: lib.msgsnd,
    msgrcv: lib.msgrcv,
    msgctl: lib.msgctl,
    Channel: lib.Channel,
    Mailbox: lib.Mailbox,
    Topic: lib.Topic,
    wait: lib.wait,
    notify: lib.notify,
    waitAsync: lib.waitAsync,
    ...Object.fromEntries(Object.entries(lib).filter(([name]) => CONSTANT.test(name))),
    ...helpers,
  };

  // -------------------------------------------------------------------------------------------------------------
  // Node's REPL reads on while a top-level await is pending when its input is not a terminal (a piped script), so
  // there lines go in one at a time: the next as soon as the REPL shows its prompt again.
  const terminal = options.terminal ?? Boolean((output as { isTTY?: boolean }).isTTY);
  const feed = terminal ? undefined : lineByLine(input);
  const server = repl.start({
    input: feed?.stream ?? input,
    output,
    prompt: options.prompt ?? 'shm> ',
    terminal,
    useGlobal: true, // one realm: typed arrays and ArrayBuffers made at the prompt are the library's own kinds
    ignoreUndefined: true,
    // Ctrl-C during a blocking call (wait(), receive() with no timeout) ends that input and returns to the prompt:
    // the library's synchronous waits return to JavaScript between short sleeps, where V8 stops them.
    breakEvalOnSigint: true,
  });
  if (feed) {
    const displayPrompt = server.displayPrompt.bind(server);
    server.displayPrompt = (preserveCursor?: boolean) => {
      displayPrompt(preserveCursor);
      feed.next();
    };
    feed.next();
  }
  for (const [name, value] of Object.entries(context)) {
    Object.defineProperty(server.context, name, { value, writable: true, configurable: true, enumerable: false });
  }

  function printAsync(text: string): void {
    print(text);
    if (server.terminal) server.displayPrompt(true);
  }

  if (options.transform) {
    const transform = options.transform;
    const defaultEval = server.eval;
    const transformed = (code: string): string => {
      // As Node's REPL does: `{ a: 1 }` is an object, not a block.
      if (/^\s*{/.test(code) && !/;\s*$/.test(code)) {
        try {
          return transform(`(${code.trim()})\n`);
        } catch {
          // a block after all
        }
      }
      return transform(code);
    };
    const evaluate: repl.REPLEval = function (code, ctx, file, callback) {
      let js: string;
      try {
        js = transformed(code);
      } catch (error) {
        if ((error as { incomplete?: boolean }).incomplete) return callback(new repl.Recoverable(error as Error), undefined);
        js = code; // let Node report the syntax error in its own words
      }
      const restore = suspendSigintListener();
      return defaultEval.call(this, js, ctx, file, (error, result) => {
        restore();
        callback(error, result);
      });
    };
    (server as { eval: repl.REPLEval }).eval = evaluate;
  }

  server.defineCommand('shm', {
    help: 'sysv-shm helpers: ls(), hexdump(x), watch(segment), keep(x); what is in scope',
    action() {
      print(HELP + (options.transform ? TYPESCRIPT_HELP : JAVASCRIPT_HELP));
      this.displayPrompt();
    },
  });

  // Ctrl-C stops the watches (and does what it always does).
  server.on('SIGINT', () => {
    for (const watch of [...watches]) watch.stop();
  });

  const historyPath = options.historyPath ?? process.env.SYSV_SHM_REPL_HISTORY ?? DEFAULT_HISTORY;
  if (historyPath !== '') {
    server.setupHistory(historyPath, (error) => {
      if (error) print(`(history not saved: ${error.message})\n`);
    });
  }

  const closed = new Promise<CleanupReport>((resolve) => {
    server.on('exit', () => resolve(cleanup()));
  });

  function cleanup(): CleanupReport {
    for (const watch of [...watches]) watch.stop();
    let detached = 0;
    for (const segment of segments) {
      const attachments = segment.attachments;
      detached += attachments.length;
      segment.detachAll();
    }
    for (const attachment of rawAttachments) {
      if (attachment.detached) continue;
      try {
        shmdt(attachment);
        detached++;
      } catch {
        // detached meanwhile
      }
    }
    const removed: number[] = [];
    const gone: number[] = [];
    for (const id of created) {
      if (!isRemovedOnExit(id)) continue; // removed with segment.remove() or kept meanwhile
      try {
        remove({ id });
        removed.push(id);
      } catch (error) {
        if (!(error instanceof ShmError)) throw error;
        gone.push(id); // removed from elsewhere (sysv-shm rm, ipcrm) and destroyed at our detach
      }
      cancelRemoveOnExit(id);
    }
    const sysv = removeCreatedSysv();
    const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`;
    const parts = [`detached ${detached} ${plural(detached, 'attachment')}`];
    parts.push(removed.length ? `removed ${plural(removed.length, 'segment')} ${removed.join(', ')} (created here)` : 'removed no segments');
    if (gone.length) parts.push(`${plural(gone.length, 'segment')} ${gone.join(', ')} already removed elsewhere`);
    for (const kind of ['sem', 'msg'] as const) {
      const { one, many } = KIND_WORDS[kind];
      const words = (ids: number[]) => `${ids.length === 1 ? one : many} ${ids.join(', ')}`;
      if (sysv.removed[kind].length) parts.push(`removed ${words(sysv.removed[kind])} (created here)`);
      if (sysv.gone[kind].length) parts.push(`${words(sysv.gone[kind])} already removed`);
    }
    if (kept.size) parts.push(`kept ${[...kept].join(', ')}`);
    for (const kind of ['sem', 'msg'] as const) {
      if (keptSysv[kind].size) parts.push(`kept ${KIND_WORDS[kind].one}${keptSysv[kind].size === 1 ? '' : 's'} ${[...keptSysv[kind]].join(', ')}`);
    }
    print(`\nLeaving: ${parts.join('; ')}.\n`);
    return {
      detached,
      removed,
      kept: [...kept],
      semaphoreSets: { removed: sysv.removed.sem, kept: [...keptSysv.sem] },
      queues: { removed: sysv.removed.msg, kept: [...keptSysv.msg] },
    };
  }

  return { server, closed };
}
