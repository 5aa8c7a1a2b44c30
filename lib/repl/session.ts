// A REPL for experiments with shared memory: the library in scope, helpers (ls, hexdump, watch, keep), and a
// session that cleans up after itself: leaving detaches what it attached and removes the segments it created.
// The TypeScript part (stripping types before evaluation) is passed in by scripts/repl.ts, so that nothing here
// needs a compiler.
import repl, { type REPLServer } from 'node:repl';
import { homedir } from 'node:os';
import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import * as lib from '../index.js';
import { Segment, ShmError, remove, shmat as libShmat, shmctl, shmdt, shmget as libShmget, IPC_CREAT, IPC_STAT, type Attachment } from '../index.js';
import { cancelRemoveOnExit, isRemovedOnExit, removeOnExit, suspendSigintListener } from '../segment/remove-on-exit.js';
import { Watch, hexdumpText, lsText, type Bytes, type WatchOptions } from './helpers.js';
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
  removed: number[];
  kept: number[];
}

export interface ReplSession {
  server: REPLServer;
  /** Resolves when the REPL was left and the cleanup is done. */
  closed: Promise<CleanupReport>;
}

const HELP = `sysv-shm REPL
  shm                        the whole library (import * from 'sysv-shm')
  Segment, list, limits, summary, orphans, remove, ftok, shmget, shmat, shmdt, shmctl,
  Channel, Mailbox, Topic, wait, notify, waitAsync, IPC_* and SHM_* constants, ShmError     in scope
  ls(view?)                  table of segments like ipcs -m ('time', 'pid', 'creator' like -t, -p, -c)
  hexdump(x, offset?, length?)   bytes of a Segment, attachment or buffer like hexdump -C (first KiB by default)
  watch(segment, ms = 100)   prints bytes as they change (any process); returns a handle: w.stop()
  keep(segment)              do not remove this segment when you leave
  Segments made here (Segment.create, openOrCreate, shmget with IPC_CREAT) are removed when you leave,
  attachments detached: pass removeOnExit: false, or keep(segment), to keep one.
`;
const TYPESCRIPT_HELP = '  TypeScript works: const s: Segment = Segment.create({ size: 4096 }); top-level await too.\n';
const JAVASCRIPT_HELP = '  JavaScript only (TypeScript at the prompt needs Node >= 22.13); top-level await works.\n';

function banner(): string {
  return (
    `sysv-shm REPL (Node ${process.version}): the library is 'shm'; Segment, Channel, list, ftok, shmget, shmat, ... are in scope.\n` +
    `Helpers: ls(), hexdump(x), watch(segment), keep(segment). .shm for help, .exit (or Ctrl-D) to leave.\n` +
    `Segments created here are removed when you leave (Segment.create defaults to removeOnExit: true).\n`
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
  const shmat: typeof libShmat = (...args: Parameters<typeof libShmat>) => {
    const attachment = libShmat(...args);
    rawAttachments.add(attachment);
    return attachment;
  };

  const helpers = {
    ls(view: ListView = 'default'): void {
      print(lsText(view));
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
    keep(target: Segment | number): void {
      const id = typeof target === 'number' ? target : target.id;
      cancelRemoveOnExit(id);
      created.delete(id);
      kept.add(id);
      print(`segment ${id} will stay when you leave: remove it later with sysv-shm rm ${id} (or ipcrm -m ${id})\n`);
    },
  };

  const context: Record<string, unknown> = {
    shm: { ...lib, Segment: ReplSegment, shmget, shmat },
    Segment: ReplSegment,
    SegmentAttachment: lib.SegmentAttachment,
    ReadOnlySegmentAttachment: lib.ReadOnlySegmentAttachment,
    ShmError,
    list: lib.list,
    limits: lib.limits,
    summary: lib.summary,
    orphans: lib.orphans,
    remove: lib.remove,
    ftok: lib.ftok,
    shmget,
    shmat,
    shmdt: lib.shmdt,
    shmctl: lib.shmctl,
    Channel: lib.Channel,
    Mailbox: lib.Mailbox,
    Topic: lib.Topic,
    wait: lib.wait,
    notify: lib.notify,
    waitAsync: lib.waitAsync,
    ...Object.fromEntries(Object.entries(lib).filter(([name]) => /^(IPC|SHM)_/.test(name))),
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
    help: 'sysv-shm helpers: ls(), hexdump(x), watch(segment), keep(segment); what is in scope',
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
    const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`;
    const parts = [`detached ${detached} ${plural(detached, 'attachment')}`];
    parts.push(removed.length ? `removed ${plural(removed.length, 'segment')} ${removed.join(', ')} (created here)` : 'removed no segments');
    if (gone.length) parts.push(`${plural(gone.length, 'segment')} ${gone.join(', ')} already removed elsewhere`);
    if (kept.size) parts.push(`kept ${[...kept].join(', ')}`);
    print(`\nLeaving: ${parts.join('; ')}.\n`);
    return { detached, removed, kept: [...kept] };
  }

  return { server, closed };
}
