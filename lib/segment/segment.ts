// Segments for people: create or open by key, path or id; attach with typed views; status, ownership,
// removal and locking; cleanup that survives crashes. Built only on the C-shaped layer in lib/c/.
import { inspect } from 'node:util';
import {
  ShmError,
  ftok,
  shmat,
  shmctl,
  shmget,
  stateError,
  statOrProc,
  IPC_CREAT,
  IPC_EXCL,
  IPC_PRIVATE,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SHM_HUGE_1GB,
  SHM_HUGE_2MB,
  SHM_HUGETLB,
  SHM_LOCK,
  SHM_NORESERVE,
  SHM_RDONLY,
  SHM_REMAP,
  SHM_UNLOCK,
} from '../c/index.js';
import { checkInteger, checkMode, checkTimeoutMs } from '../common/arguments.js';
import { hexKey, octalMode } from '../common/format.js';
import { toStatus, type SegmentStatus } from './status.js';
import { ReadOnlySegmentAttachment, SegmentAttachment } from './attachment.js';
import { cancelRemoveOnExit, isRemovedOnExit, removeOnExit } from './remove-on-exit.js';

/** Where a segment's key comes from: a number (as C's key_t, signed or unsigned), or ftok(path, projId). */
export type KeySource = number | { path: string; projId: number | string };

export interface CreateOptions {
  /** A key, or ftok's inputs; without either the segment is private (IPC_PRIVATE). */
  key?: number;
  path?: string;
  projId?: number | string;
  size: number;
  /** Permission bits; owner-only by default, not the 0666 of many tutorials. */
  mode?: number;
  /** Fail with EEXIST when the key is taken (IPC_EXCL). Default true. */
  exclusive?: boolean;
  /** SHM_HUGETLB, with a page size ('2MB', '1GB') or the system's default size (true). */
  hugePages?: '2MB' | '1GB' | true;
  /** SHM_NORESERVE: do not reserve swap for the segment. */
  noReserve?: boolean;
  /** Remove the segment when this process exits, including by SIGINT/SIGTERM/SIGHUP or an uncaught exception. */
  removeOnExit?: boolean;
}

export interface OpenOrCreateOptions extends Omit<CreateOptions, 'exclusive'> {}

export interface AttachOptions {
  readOnly?: boolean;
  /** A fixed address (see shmat); with `remap`, it may replace one of this library's own attachments. */
  address?: bigint;
  remap?: boolean;
}

function resolveKey(source: KeySource | undefined, what: string): number {
  if (source === undefined) return IPC_PRIVATE;
  if (typeof source === 'number') return source;
  if (typeof source === 'object' && source !== null && 'path' in source) return ftok(source.path, source.projId);
  throw new TypeError(`${what} takes a key number or { path, projId }`);
}

function keyOf(options: { key?: number; path?: string; projId?: number | string }): number {
  if (options.path !== undefined) {
    if (options.key !== undefined) throw new TypeError('give either key or path + projId, not both');
    if (options.projId === undefined) throw new TypeError('path needs a projId (1..255) for ftok');
    return ftok(options.path, options.projId);
  }
  return options.key ?? IPC_PRIVATE;
}

function hugePageFlags(hugePages: CreateOptions['hugePages']): number {
  if (hugePages === undefined) return 0;
  if (hugePages === true) return SHM_HUGETLB;
  if (hugePages === '2MB') return SHM_HUGETLB | SHM_HUGE_2MB;
  if (hugePages === '1GB') return SHM_HUGETLB | SHM_HUGE_1GB;
  throw new TypeError(`hugePages must be '2MB', '1GB' or true, got ${String(hugePages)}`);
}

/** Key and real size of a segment, also when its mode does not let this process read it (see statOrProc). */
function facts(id: number): { key: number; size: number } {
  const { key, size } = statOrProc(id);
  return { key, size };
}

export class Segment {
  /** The segment id (shmid). */
  readonly id: number;
  /** The key it was created or opened with (0 for private segments). */
  readonly key: number;
  /** Size in bytes (shm_segsz): the real size, also when opened by key or id. */
  readonly size: number;
  /** True when this object's call created the segment. */
  readonly created: boolean;
  // Weak: an attachment the program dropped is the garbage collector's to detach, and must not be kept alive here.
  readonly #attachments = new Set<WeakRef<SegmentAttachment | ReadOnlySegmentAttachment>>();

  private constructor(id: number, key: number, size: number, created: boolean) {
    this.id = id;
    this.key = key;
    this.size = size;
    this.created = created;
  }

  /** Creates a segment. Exclusive by default: an existing key is an EEXIST error. */
  static create(options: CreateOptions): Segment {
    if (typeof options !== 'object' || options === null) throw new TypeError('Segment.create takes { size, key?, mode?, ... }');
    const key = keyOf(options);
    const mode = checkMode(options.mode ?? 0o600);
    const exclusive = options.exclusive ?? true;
    const flags = IPC_CREAT | (exclusive ? IPC_EXCL : 0) | hugePageFlags(options.hugePages) | (options.noReserve ? SHM_NORESERVE : 0) | mode;
    const id = shmget(key, options.size, flags);
    // An exclusive create made exactly this segment; otherwise an existing, possibly larger one may have answered.
    const segment = new Segment(id, key, exclusive ? options.size : facts(id).size, true);
    if (options.removeOnExit) segment.removeOnExit();
    return segment;
  }

  /** Opens an existing segment by key or by ftok(path, projId), at its real size. */
  static open(source: KeySource): Segment {
    const key = resolveKey(source, 'Segment.open');
    if (key === IPC_PRIVATE) throw new RangeError('a private segment has no key to open it by: use Segment.fromId(id)');
    const id = shmget(key, 0, 0);
    return new Segment(id, key, facts(id).size, false);
  }

  /**
   * Opens the segment with this key, or creates it if there is none. An existing segment smaller than `size`
   * is an error (EINVAL) rather than a silent surprise; a larger one is opened at its real size.
   */
  static openOrCreate(options: OpenOrCreateOptions): Segment {
    const key = keyOf(options);
    if (key === IPC_PRIVATE) throw new RangeError('openOrCreate needs a key or path + projId: a private segment can only be created');
    for (;;) {
      try {
        return Segment.create({ ...options, exclusive: true });
      } catch (error) {
        if (!(error instanceof ShmError) || error.code !== 'EEXIST') throw error;
      }
      let existing: Segment;
      try {
        existing = Segment.open(key);
      } catch (error) {
        if (error instanceof ShmError && (error.code === 'ENOENT' || error.code === 'EIDRM')) continue; // removed meanwhile: create again
        throw error;
      }
      if (existing.size < options.size) {
        throw stateError(
          'EINVAL',
          'Segment.openOrCreate',
          `the segment with key ${hexKey(key)} (id ${existing.id}) exists with ${existing.size} bytes, smaller than the ${options.size} asked for: remove it (ipcrm -m ${existing.id}) or ask for at most ${existing.size}`,
          { shmid: existing.id, key },
        );
      }
      if (options.removeOnExit) existing.removeOnExit();
      return existing;
    }
  }

  /** A segment by id (e.g. one handed over by another process; on Linux also after it was marked for removal). */
  static fromId(id: number): Segment {
    const { key, size } = facts(id);
    return new Segment(id, key, size, false);
  }

  /** The key as ipcs prints it. */
  get keyHex(): string {
    return hexKey(this.key);
  }

  attach(options: AttachOptions & { readOnly: true }): ReadOnlySegmentAttachment;
  attach(options?: AttachOptions & { readOnly?: false }): SegmentAttachment;
  attach(options?: AttachOptions): SegmentAttachment | ReadOnlySegmentAttachment;
  attach(options: AttachOptions = {}): SegmentAttachment | ReadOnlySegmentAttachment {
    const flags = (options.readOnly ? SHM_RDONLY : 0) | (options.remap ? SHM_REMAP : 0);
    const raw = shmat(this.id, options.address ?? null, flags);
    const attachment = options.readOnly ? new ReadOnlySegmentAttachment(raw) : new SegmentAttachment(raw);
    this.attachments; // prunes detached and collected ones
    this.#attachments.add(new WeakRef(attachment));
    return attachment;
  }

  /** Attachments made through this object that are still attached. */
  get attachments(): Array<SegmentAttachment | ReadOnlySegmentAttachment> {
    const live: Array<SegmentAttachment | ReadOnlySegmentAttachment> = [];
    for (const ref of this.#attachments) {
      const attachment = ref.deref();
      if (attachment && !attachment.detached) live.push(attachment);
      else this.#attachments.delete(ref);
    }
    return live;
  }

  /** Detaches every attachment made through this object. */
  detachAll(): void {
    for (const attachment of this.attachments) attachment[Symbol.dispose]();
  }

  /** For `using`: detaches this object's attachments (removal stays explicit: remove() or removeOnExit). */
  [Symbol.dispose](): void {
    this.detachAll();
  }

  /** The kernel's status of the segment, decoded. */
  stat(): SegmentStatus {
    return toStatus(this.id, shmctl(this.id, IPC_STAT));
  }

  // Single attributes, read live from the kernel (the vocabulary of Python's sysv_ipc).
  get numberAttached(): number {
    return this.stat().attached;
  }
  get lastAttachTime(): Date | null {
    return this.stat().lastAttachTime;
  }
  get lastDetachTime(): Date | null {
    return this.stat().lastDetachTime;
  }
  get lastChangeTime(): Date | null {
    return this.stat().lastChangeTime;
  }
  get creatorPid(): number {
    return this.stat().creatorPid;
  }
  get lastPid(): number {
    return this.stat().lastPid;
  }
  get mode(): number {
    return this.stat().mode;
  }
  get uid(): number {
    return this.stat().uid;
  }
  get gid(): number {
    return this.stat().gid;
  }
  get cuid(): number {
    return this.stat().cuid;
  }
  get cgid(): number {
    return this.stat().cgid;
  }
  get markedForRemoval(): boolean {
    return this.stat().markedForRemoval;
  }
  get locked(): boolean {
    return this.stat().locked;
  }

  /** Changes the owner (IPC_SET); the mode is kept. */
  setOwner(uid: number, gid: number): void {
    shmctl(this.id, IPC_SET, { perm: { uid, gid } });
  }

  /** Changes the permission bits (IPC_SET); the owner is kept. */
  chmod(mode: number): void {
    shmctl(this.id, IPC_SET, { perm: { mode } });
  }

  /**
   * IPC_RMID. Unattached, the segment is destroyed now; attached, it is marked (key becomes 0) and destroyed
   * at the last detach, and Linux still lets processes attach it by id until then.
   */
  remove(): void {
    cancelRemoveOnExit(this.id);
    shmctl(this.id, IPC_RMID);
  }

  /**
   * Removes the segment as soon as `count` attachments exist (across all processes): the pattern that leaks
   * nothing even if every process is killed with SIGKILL afterwards.
   */
  async removeOnceAttached(count: number, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
    checkInteger('removeOnceAttached', 'count', count, 1);
    const timeoutMs = checkTimeoutMs('removeOnceAttached', options.timeoutMs, 10_000);
    const pollMs = checkInteger('removeOnceAttached', 'pollMs', options.pollMs ?? 2, 1, 60_000);
    const deadline = Date.now() + timeoutMs;
    while (this.stat().attached < count) {
      if (Date.now() >= deadline) {
        throw stateError(
          'ETIMEDOUT',
          'Segment.removeOnceAttached',
          `segment ${this.id}: ${this.stat().attached} of ${count} attachments after ${timeoutMs} ms; not removed`,
          {
            shmid: this.id,
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    this.remove();
  }

  /** Removes the segment when this process exits, however it exits short of SIGKILL. */
  removeOnExit(): this {
    removeOnExit(this.id);
    return this;
  }

  /** Takes back removeOnExit(): the segment stays when this process exits. */
  cancelRemoveOnExit(): this {
    cancelRemoveOnExit(this.id);
    return this;
  }

  /** Whether this process will remove the segment when it exits. */
  get removesOnExit(): boolean {
    return isRemovedOnExit(this.id);
  }

  /** SHM_LOCK: keep the segment in memory (needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK). */
  lock(): void {
    shmctl(this.id, SHM_LOCK);
  }
  unlock(): void {
    shmctl(this.id, SHM_UNLOCK);
  }

  [inspect.custom](): string {
    let status = '';
    try {
      const s = this.stat();
      status = `mode: ${octalMode(s.mode)}, attached: ${s.attached}${s.markedForRemoval ? ', marked for removal' : ''}${s.locked ? ', locked' : ''}`;
    } catch (error) {
      status = `gone (${(error as ShmError).code})`;
    }
    const here = this.attachments.length;
    const cleanup = isRemovedOnExit(this.id) ? ', removed on exit' : '';
    return `Segment { id: ${this.id}, key: ${this.keyHex}, size: ${this.size}, ${status}, attached here: ${here}${cleanup} }`;
  }
}
