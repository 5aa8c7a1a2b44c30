// The ledger of address ranges this library has mapped, and how they are given back.
//
// Why it exists: an ArrayBuffer made by koffi.view() points straight at the segment, and JavaScript can keep it
// (or a view of it) after detach. Unmapping such a range would let that view fault and kill the process. So:
//
// - A range over which an ArrayBuffer was ever made is "tainted", and stays mapped, readable and writable, for
//   the life of the process. At detach it is replaced, in one mmap(MAP_FIXED) call, by a private anonymous
//   mapping of the same size (a "placeholder"). That detaches the segment exactly as shmdt would (nattch drops,
//   dtime and lpid are set), and old views read zeros instead of crashing.
// - Why forever, and not until the buffer is collected: on Node >= 21 `ArrayBuffer.prototype.transfer()` moves
//   the memory into a new ArrayBuffer this library cannot see (V8 reuses the backing store), so no JavaScript
//   event tells when the last buffer over a range is gone.
// - A placeholder that no buffer we know of reaches any more ("free") is kept. Once more than FREE_KEPT are free,
//   the next writable attachment that fits goes over one (shmat with SHM_REMAP), so a program that attaches and
//   detaches in a loop keeps a bounded footprint. Only a buffer moved away with transfer() could then see the new
//   segment; it can never fault.
// - A range no ArrayBuffer was made over is simply unmapped (shmdt).
//
// The ledger is also what lets shmat(SHM_REMAP) refuse to map over memory this library does not own, and
// SHM_RDONLY over memory old views may still write.
import { readFileSync, readdirSync } from 'node:fs';
import { libc } from '../native/libc.js';
import { OrderedRanges } from './ordered-ranges.js';

/** What a region currently holds: a live attachment (by its state object) or a placeholder. */
export interface RegionOwner {
  readonly shmid: number;
  readonly readOnly: boolean;
  /** Where shmat mapped it and the page-rounded end. */
  readonly address: bigint;
  readonly end: bigint;
}

interface Region {
  start: bigint;
  end: bigint;
  /** null: a placeholder. */
  owner: RegionOwner | null;
  /** Attachments whose ArrayBuffer covers this region and has not been collected yet. */
  pins: Set<RegionOwner>;
  /** An ArrayBuffer was made over these bytes at some time: they are never unmapped. */
  tainted: boolean;
}

/** Every region, in address order, never overlapping. */
const regions = new OrderedRanges<Region>();
/** The regions each live owner holds (one, unless SHM_REMAP cut it up). */
const heldBy = new Map<RegionOwner, Region[]>();
/** The regions each owner's ArrayBuffer reaches, for unpin. */
const pinnedBy = new Map<RegionOwner, Set<Region>>();
/**
 * Placeholders no tracked buffer reaches, reusable by the next attachment, by size class (floor of log2 of the
 * length): a fit is found without scanning them all.
 */
const freeByClass = new Map<number, Set<Region>>();
const sizeClass = (length: bigint) => length.toString(2).length - 1;
let freeCount = 0;
/**
 * Free placeholders are reused only beyond this many: an attachment that goes over one keeps that range mapped
 * when it is detached (an untracked buffer may reach it), so a program that detaches now and then should get
 * fresh ranges, as from C, while one that attaches and detaches in a loop keeps a bounded footprint.
 */
const FREE_KEPT = 64;

function isFree(region: Region): boolean {
  return freeByClass.get(sizeClass(region.end - region.start))?.has(region) ?? false;
}

function addFree(region: Region): void {
  const key = sizeClass(region.end - region.start);
  let set = freeByClass.get(key);
  if (!set) freeByClass.set(key, (set = new Set()));
  if (!set.has(region)) freeCount++;
  set.add(region);
}

function removeFree(region: Region): void {
  const key = sizeClass(region.end - region.start);
  const set = freeByClass.get(key);
  if (!set?.delete(region)) return;
  freeCount--;
  if (set.size === 0) freeByClass.delete(key);
}

function within(start: bigint, end: bigint): Region[] {
  const found: Region[] = [];
  for (const region of regions.from(start)) {
    if (region.start >= end) break;
    found.push(region);
  }
  return found;
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function removeFrom<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) return;
  const index = list.indexOf(value);
  if (index >= 0) list.splice(index, 1);
  if (list.length === 0) map.delete(key);
}

function forget(region: Region): void {
  regions.remove(region);
  if (region.owner) removeFrom(heldBy, region.owner, region);
  for (const pin of region.pins) pinnedBy.get(pin)?.delete(region);
  removeFree(region);
}

/** Cuts the region that straddles `at` in two, so that `at` is a region boundary. */
function splitAt(at: bigint): void {
  const region = regions.firstEndingAfter(at);
  if (!region || !(region.start < at && at < region.end)) return;
  const wasFree = isFree(region);
  if (wasFree) removeFree(region);
  const tail: Region = { start: at, end: region.end, owner: region.owner, pins: new Set(region.pins), tainted: region.tainted };
  region.end = at;
  regions.insert(tail);
  if (tail.owner) addTo(heldBy, tail.owner, tail);
  for (const pin of tail.pins) pinnedBy.get(pin)!.add(tail);
  if (wasFree) {
    addFree(region);
    addFree(tail);
  }
}

/** True when every byte of [start, end) is in ranges this library mapped. */
export function ownsRange(start: bigint, end: bigint): boolean {
  let cursor = start;
  for (const region of within(start, end)) {
    if (region.start > cursor) return false;
    cursor = region.end;
  }
  return cursor >= end;
}

/** True when an ArrayBuffer was ever made over some byte of [start, end). */
export function isTainted(start: bigint, end: bigint): boolean {
  return within(start, end).some((r) => r.tainted);
}

const NOTHING_DISPLACED: ReadonlySet<RegionOwner> = new Set();

/**
 * Records a new attachment at [start, end). With SHM_REMAP the range may replace our own regions: the new
 * region inherits their pins and taint (old views now reach the new segment) and old owners lose those bytes.
 * Returns the attachments that lost bytes.
 */
export function claim(start: bigint, end: bigint, owner: RegionOwner): ReadonlySet<RegionOwner> {
  const next = regions.firstEndingAfter(start);
  if (next === undefined || next.start >= end) {
    // The common case: the kernel chose fresh addresses; nothing of ours is there to split or replace.
    const region: Region = { start, end, owner, pins: new Set(), tainted: false };
    regions.insert(region);
    heldBy.set(owner, [region]);
    return NOTHING_DISPLACED;
  }
  splitAt(start);
  splitAt(end);
  const replaced = within(start, end);
  const region: Region = { start, end, owner, pins: new Set(), tainted: false };
  const displaced = new Set<RegionOwner>();
  for (const old of replaced) {
    for (const pin of old.pins) region.pins.add(pin);
    region.tainted ||= old.tainted;
    if (old.owner) displaced.add(old.owner);
    forget(old);
  }
  regions.insert(region);
  addTo(heldBy, owner, region);
  for (const pin of region.pins) pinnedBy.get(pin)!.add(region);
  return displaced;
}

/** Marks every region the owner holds as reachable from its ArrayBuffer, and so never to be unmapped. */
export function pin(owner: RegionOwner): void {
  let pinned = pinnedBy.get(owner);
  if (!pinned) pinnedBy.set(owner, (pinned = new Set()));
  for (const region of heldBy.get(owner) ?? []) {
    region.pins.add(owner);
    region.tainted = true;
    pinned.add(region);
  }
}

/**
 * Gives back what `owner` holds: untainted regions are unmapped (detaching the segment), tainted ones are
 * swapped for placeholders. Returns the errno of a failed call, or 0.
 */
export function releaseOwner(owner: RegionOwner, unmapWhole: () => number): number {
  const held = [...(heldBy.get(owner) ?? [])];
  const whole = held.length === 1 && !held[0].tainted && held[0].start === owner.address && held[0].end === owner.end;
  if (whole) {
    // The common case: the attachment is intact and no buffer was ever made over it; plain shmdt.
    if (unmapWhole() !== 0) return libc().errno();
    forget(held[0]);
    return 0;
  }
  for (const region of held) {
    const failure = region.tainted ? replaceWithPlaceholder(region) : unmapRegion(region);
    if (failure !== 0) return failure;
  }
  return 0;
}

/** Called when an attachment's ArrayBuffer has been collected: placeholders no known buffer reaches become free. */
export function unpin(owner: RegionOwner): void {
  const pinned = pinnedBy.get(owner);
  if (!pinned) return;
  pinnedBy.delete(owner);
  for (const region of pinned) {
    region.pins.delete(owner);
    if (region.owner === null && region.pins.size === 0) makeFree(region);
  }
}

/**
 * An address where a writable attachment of `length` bytes can go over a free placeholder, or undefined.
 * The address is never a multiple of the smallest huge page size: a huge-page segment (whose mapping is longer
 * than its size) is then refused by the kernel with EINVAL instead of mapping past the placeholder.
 */
export function reusableAddress(length: bigint, shmlba: bigint): bigint | undefined {
  if (freeCount <= FREE_KEPT) return undefined;
  const huge = smallestHugePageSize();
  if (shmlba % huge === 0n) return undefined; // every SHMLBA-aligned address is huge-page aligned: none is safe
  // The smallest class that can hold `length`, then larger ones; the first fit is taken.
  const classes = [...freeByClass.keys()].filter((key) => key >= sizeClass(length)).sort((a, b) => a - b);
  for (const key of classes) {
    for (const region of freeByClass.get(key)!) {
      let address = region.start;
      if (address % shmlba !== 0n) address += shmlba - (address % shmlba);
      if (address % huge === 0n) address += shmlba;
      if (region.end - address >= length) return address;
    }
  }
  return undefined;
}

/** For tests and diagnostics: how many regions the ledger holds, of which placeholders, of which free. */
export function addressSpaceStats(): { regions: number; attachments: number; placeholders: number; free: number } {
  let placeholders = 0;
  for (const region of regions) if (region.owner === null) placeholders++;
  return { regions: regions.size, attachments: heldBy.size, placeholders, free: freeCount };
}

/** After a failed shmat(SHM_REMAP) over a free placeholder: make sure the placeholder is still mapped. */
export function restorePlaceholder(address: bigint): void {
  const region = regions.firstEndingAfter(address);
  if (!region || region.owner !== null || region.start > address) return;
  const c = libc();
  const k = c.abi.constants;
  // MAP_FIXED_NOREPLACE: if the kernel kept the old mapping this fails with EEXIST and changes nothing.
  c.mmap(
    region.start,
    Number(region.end - region.start),
    k.PROT_READ | k.PROT_WRITE,
    k.MAP_PRIVATE | k.MAP_ANONYMOUS | k.MAP_FIXED_NOREPLACE | k.MAP_NORESERVE,
    -1,
    0,
  );
}

function makeFree(region: Region): void {
  // Pages old views wrote are given back by mapping a fresh placeholder over the old one.
  mapPlaceholder(region.start, region.end - region.start);
  addFree(region);
}

function unmapRegion(region: Region): number {
  const c = libc();
  if (c.munmap(region.start, Number(region.end - region.start)) !== 0) return c.errno();
  forget(region);
  return 0;
}

function mapPlaceholder(start: bigint, length: bigint): boolean {
  const c = libc();
  const k = c.abi.constants;
  const address = c.mmap(start, Number(length), k.PROT_READ | k.PROT_WRITE, k.MAP_PRIVATE | k.MAP_ANONYMOUS | k.MAP_FIXED | k.MAP_NORESERVE, -1, 0);
  return address !== c.MAP_FAILED;
}

/**
 * Maps a placeholder over [start, end), detaching what was there. Returns the end it covers (further than `end` for
 * a huge-page segment, mapped in huge-page units larger than the page-rounded size), or undefined on failure.
 */
export function placeholderOver(start: bigint, end: bigint): bigint | undefined {
  if (mapPlaceholder(start, end - start)) return end;
  const extent = mappingEnd(start);
  if (extent !== undefined && extent > end && mapPlaceholder(start, extent - start)) return extent;
  return undefined;
}

function replaceWithPlaceholder(region: Region): number {
  const end = placeholderOver(region.start, region.end);
  if (end === undefined) return libc().errno();
  region.end = end;
  if (region.owner) removeFrom(heldBy, region.owner, region);
  region.owner = null;
  if (region.pins.size === 0) addFree(region);
  return 0;
}

/** End of the one mapping (vma) that starts at `start`, read from /proc/self/maps; never its neighbours. */
function mappingEnd(start: bigint): bigint | undefined {
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+)/.exec(line);
    if (match && BigInt('0x' + match[1]) === start) return BigInt('0x' + match[2]);
  }
  return undefined;
}

let hugeUnit: bigint | undefined;

/** The smallest huge page size the kernel offers (64 KiB when /sys does not say: the smallest any CPU has). */
function smallestHugePageSize(): bigint {
  if (hugeUnit !== undefined) return hugeUnit;
  hugeUnit = 64n * 1024n;
  try {
    // Entries are named hugepages-<size>kB.
    const sizes = readdirSync('/sys/kernel/mm/hugepages')
      .map((name) => Number(/^hugepages-(\d+)kB$/.exec(name)?.[1]))
      .filter((kB) => kB > 0);
    if (sizes.length) hugeUnit = BigInt(Math.min(...sizes)) * 1024n;
  } catch {
    // no /sys: keep the conservative default
  }
  return hugeUnit;
}
