// Helpers for poking at System V IPC interactively: ls() prints the ipcs tables, hexdump() shows bytes as
// hexdump -C does, watch() prints bytes as other processes change them. Used by the REPL (npm run repl); they print
// to the stream they are given and return nothing worth printing.
import { inspect } from 'node:util';
import { Attachment, ReadOnlySegmentAttachment, Segment, SegmentAttachment, list, listQueues, listSemaphores } from '../index.js';
import { hexdumpLines, ipcsOutput, msgSection, semSection, shmSection, type ListView } from '../cli/format.js';

/** What hexdump() and watch() accept. */
export type Bytes = Segment | SegmentAttachment | ReadOnlySegmentAttachment | Attachment | ArrayBuffer | ArrayBufferView;

/** Printed before the REPL output of an asynchronous helper (watch), and after: e.g. to redraw the prompt. */
export type Printer = (text: string) => void;

/** How much hexdump() shows when no length is given. */
export const HEXDUMP_DEFAULT_LENGTH = 1024;

function checkRange(size: number, offset: number, length: number | undefined, what: string): { offset: number; length: number } {
  if (!Number.isInteger(offset) || offset < 0 || offset > size) throw new RangeError(`offset ${offset} is outside ${what} (0..${size})`);
  const n = length ?? Math.min(size - offset, HEXDUMP_DEFAULT_LENGTH);
  if (!Number.isInteger(n) || n < 0 || offset + n > size) throw new RangeError(`${n} bytes at ${offset} pass the end of ${what} (${size} bytes)`);
  return { offset, length: n };
}

/** Copies bytes out of anything hexdump() accepts; a Segment with no attachment here is attached read-only for the read. */
export function readBytes(target: Bytes, offset = 0, length?: number): { bytes: Uint8Array; offset: number; size: number } {
  if (target instanceof Segment) {
    const live = target.attachments[0];
    if (live) return readBytes(live, offset, length);
    const attachment = target.attach({ readOnly: true });
    try {
      return readBytes(attachment, offset, length);
    } finally {
      attachment.detach();
    }
  }
  if (target instanceof SegmentAttachment || target instanceof ReadOnlySegmentAttachment || target instanceof Attachment) {
    const range = checkRange(target.size, offset, length, `segment ${target instanceof Attachment ? target.shmid : target.id}`);
    return { bytes: target.read(range.offset, range.length), offset: range.offset, size: target.size };
  }
  let view: Uint8Array;
  if (target instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && target instanceof SharedArrayBuffer)) view = new Uint8Array(target);
  else if (ArrayBuffer.isView(target)) view = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  else throw new TypeError('hexdump takes a Segment, an attachment, an ArrayBuffer or a view (Uint8Array, Buffer, DataView, ...)');
  const range = checkRange(view.length, offset, length, 'the buffer');
  return { bytes: view.slice(range.offset, range.offset + range.length), offset: range.offset, size: view.length };
}

/** hexdump -C of `length` bytes at `offset` (by default the first KiB), as text. */
export function hexdumpText(target: Bytes, offset = 0, length?: number): string {
  const { bytes, offset: at, size } = readBytes(target, offset, length);
  const lines = hexdumpLines(bytes, at);
  const rest = size - at - bytes.length;
  if (length === undefined && rest > 0) lines.push(`... ${rest} more bytes: hexdump(x, ${at + bytes.length}, n) shows them`);
  return lines.map((line) => line + '\n').join('');
}

/** What ls() shows: segments (ipcs -m, the default), semaphore sets (-s), message queues (-q), or all three (-a). */
export type LsKind = 'shm' | 'sem' | 'msg' | 'all';
const LS_KINDS: readonly string[] = ['shm', 'sem', 'msg', 'all'];
const LS_VIEWS: readonly string[] = ['default', 'time', 'pid', 'creator'];
const LS_USAGE = "ls takes a kind ('shm', 'sem', 'msg' or 'all') and a view ('time', 'pid' or 'creator'), both optional: ls('sem', 'time')";

/**
 * What ipcs prints, as text, in the kernel's order as ipcs lists: ls() the segments (ipcs -m), ls('sem') the
 * semaphore sets (ipcs -s), ls('msg') the queues (ipcs -q), ls('all') all three in ipcs -a's order (queues,
 * segments, sets); a view ('time', 'pid', 'creator': -t, -p, -c) after the kind, or alone for segments.
 */
export function lsText(kindOrView: LsKind | ListView = 'shm', view?: ListView): string {
  if (typeof kindOrView !== 'string' || (view !== undefined && typeof view !== 'string')) throw new TypeError(LS_USAGE);
  let kind: string = kindOrView;
  let shown: string = view ?? 'default';
  if (LS_VIEWS.includes(kindOrView) && view === undefined) {
    kind = 'shm';
    shown = kindOrView;
  }
  if (!LS_KINDS.includes(kind)) throw new RangeError(`${LS_USAGE}; got ${JSON.stringify(kindOrView)}`);
  if (!LS_VIEWS.includes(shown)) throw new RangeError(`${LS_USAGE}; got view ${JSON.stringify(view)}`);
  const v = shown as ListView;
  const sections = {
    msg: () => msgSection(listQueues({ order: 'kernel' }), v),
    shm: () => shmSection(list({ order: 'kernel' }), v),
    sem: () => semSection(listSemaphores({ order: 'kernel' }), v),
  };
  const kinds = kind === 'all' ? (['msg', 'shm', 'sem'] as const) : [kind as 'msg' | 'shm' | 'sem'];
  return ipcsOutput(kinds.map((k) => sections[k]()));
}

// ---------------------------------------------------------------------------------------------------------------
export interface WatchOptions {
  /** The part of the segment to watch (default: all of it). */
  offset?: number;
  length?: number;
}

/** A running watch(): stop() ends it. */
export class Watch {
  readonly id: number;
  readonly intervalMs: number;
  /** How many changes were printed. */
  changes = 0;
  #timer: NodeJS.Timeout | undefined;
  #attachment: ReadOnlySegmentAttachment;
  #onStop: (watch: Watch) => void;
  #print: Printer;

  constructor(
    target: Segment | SegmentAttachment | ReadOnlySegmentAttachment | number,
    intervalMs: number,
    options: WatchOptions,
    print: Printer,
    onStop: (watch: Watch) => void,
  ) {
    if (!Number.isFinite(intervalMs) || intervalMs < 1) throw new RangeError(`watch interval must be at least 1 ms, got ${intervalMs}`);
    const id = typeof target === 'number' ? target : target.id;
    this.id = id;
    this.intervalMs = intervalMs;
    this.#print = print;
    this.#onStop = onStop;
    // Its own read-only attachment: the watch sees what every process writes, and cannot write.
    this.#attachment = Segment.fromId(id).attach({ readOnly: true });
    const offset = options.offset ?? 0;
    let range: { offset: number; length: number };
    try {
      range = checkRange(this.#attachment.size, offset, options.length ?? this.#attachment.size - offset, `segment ${id}`);
    } catch (error) {
      this.#attachment.detach();
      throw error;
    }
    let previous = this.#attachment.read(range.offset, range.length);
    const started = Date.now();
    this.#timer = setInterval(() => {
      const current = this.#attachment.read(range.offset, range.length);
      const runs = changedRuns(previous, current);
      if (runs.length > 0) {
        const seconds = ((Date.now() - started) / 1000).toFixed(2);
        const lines = runs.map(([from, to]) => describeRun(id, seconds, range.offset, previous, current, from, to));
        this.changes += runs.length;
        this.#print(lines.join(''));
      }
      previous = current;
      if (runs.length === 0 && this.#onlyUser()) {
        this.#print(`[watch ${id}] the segment was removed and only this watch kept it: stopped, so that it is destroyed\n`);
        this.stop();
      }
    }, intervalMs);
    this.#timer.unref();
  }

  /** True when the segment is marked for removal and this watch's attachment is the last one. */
  #onlyUser(): boolean {
    try {
      const status = Segment.fromId(this.id).stat();
      return status.markedForRemoval && status.attached <= 1;
    } catch {
      return true;
    }
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Stops watching and detaches the watch's attachment. Stopping twice does nothing. */
  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#attachment[Symbol.dispose]();
    this.#onStop(this);
  }

  [inspect.custom](): string {
    return `Watch { id: ${this.id}, every: ${this.intervalMs} ms, changes: ${this.changes}, ${this.running ? 'running: .stop() ends it' : 'stopped'} }`;
  }
}

/** [from, to) ranges where the bytes differ; runs closer than 4 bytes are merged. */
function changedRuns(before: Uint8Array, after: Uint8Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < after.length; i++) {
    if (before[i] === after[i]) continue;
    const last = runs[runs.length - 1];
    if (last && i - last[1] < 4) last[1] = i + 1;
    else runs.push([i, i + 1]);
  }
  return runs;
}

const SHOWN = 32;
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
const text = (bytes: Uint8Array) => Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');

function describeRun(id: number, seconds: string, base: number, before: Uint8Array, after: Uint8Array, from: number, to: number): string {
  const end = Math.min(to, from + SHOWN);
  const more = to > end ? ` ... (${to - from} bytes)` : '';
  const now = after.subarray(from, end);
  const was = before.subarray(from, end);
  const where = to - from === 1 ? `byte ${base + from}` : `bytes ${base + from}..${base + to - 1}`;
  return `[watch ${id} +${seconds}s] ${where}: ${hex(now)} |${text(now)}|${more} (was ${hex(was)})\n`;
}
