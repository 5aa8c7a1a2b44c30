// The ledger of address ranges this library has mapped, and how they are given back.
//
// Why it exists: an ArrayBuffer made by koffi.view() points straight at the segment. If the range were simply
// unmapped at detach, any view the user still holds would fault and kill the process. So a range whose
// ArrayBuffer may still be reachable ("pinned") is not unmapped at detach: it is replaced, in one mmap(MAP_FIXED)
// call, by a private anonymous mapping of the same size (a "placeholder"). That detaches the segment exactly as
// shmdt would (nattch drops, dtime and lpid are set), and old views read zeros instead of crashing. The
// placeholder is unmapped once the last pinning ArrayBuffer has been garbage collected.
//
// The ledger is also what lets shmat(SHM_REMAP) refuse to map over memory this library does not own.
import { libc } from '../native/libc.js';
import { readFileSync } from 'node:fs';

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
  /** null: a placeholder left by a detached attachment whose views may still be reachable. */
  owner: RegionOwner | null;
  /** Attachments whose ArrayBuffer covers this region and has not been collected yet. */
  pins: Set<RegionOwner>;
}

const regions: Region[] = [];

function splitAt(at: bigint): void {
  const index = regions.findIndex((r) => r.start < at && at < r.end);
  if (index < 0) return;
  const region = regions[index];
  const tail: Region = { start: at, end: region.end, owner: region.owner, pins: new Set(region.pins) };
  region.end = at;
  regions.splice(index + 1, 0, tail);
}

function within(start: bigint, end: bigint): Region[] {
  return regions.filter((r) => r.start < end && r.end > start);
}

/** True when every byte of [start, end) is in ranges this library mapped. */
export function ownsRange(start: bigint, end: bigint): boolean {
  let cursor = start;
  for (const region of [...within(start, end)].sort((a, b) => (a.start < b.start ? -1 : 1))) {
    if (region.start > cursor) return false;
    if (region.end > cursor) cursor = region.end;
    if (cursor >= end) return true;
  }
  return cursor >= end;
}

/** True when an ArrayBuffer we handed out may still reach some byte of [start, end). */
export function isPinned(start: bigint, end: bigint): boolean {
  return within(start, end).some((r) => r.pins.size > 0);
}

/**
 * Records a new attachment at [start, end). With SHM_REMAP the range may replace our own regions: the new
 * region inherits their pins (old views now read the new segment) and old owners lose those bytes.
 * Returns the attachments that lost bytes.
 */
export function claim(start: bigint, end: bigint, owner: RegionOwner): Set<RegionOwner> {
  splitAt(start);
  splitAt(end);
  const replaced = within(start, end);
  const pins = new Set<RegionOwner>();
  for (const region of replaced) for (const pin of region.pins) pins.add(pin);
  const displaced = new Set<RegionOwner>();
  for (const region of replaced) {
    if (region.owner) displaced.add(region.owner);
    regions.splice(regions.indexOf(region), 1);
  }
  const index = regions.findIndex((r) => r.start >= end);
  const region: Region = { start, end, owner, pins };
  if (index < 0) regions.push(region);
  else regions.splice(index, 0, region);
  return displaced;
}

/** Marks every region the owner holds as reachable from its ArrayBuffer. */
export function pin(owner: RegionOwner): void {
  for (const region of regions) if (region.owner === owner) region.pins.add(owner);
}

/** The ranges an attachment still holds (all of it, unless SHM_REMAP took part of it away). */
export function rangesOf(owner: RegionOwner): Array<{ start: bigint; end: bigint; pinned: boolean }> {
  return regions.filter((r) => r.owner === owner).map((r) => ({ start: r.start, end: r.end, pinned: r.pins.size > 0 }));
}

export type DetachOutcome = 'unmapped' | 'placeholder';

/**
 * Gives back what `owner` holds: unpinned regions are unmapped (detaching the segment), pinned ones are
 * swapped for placeholders. Returns the errno of a failed call, or 0.
 */
export function releaseOwner(owner: RegionOwner, unmapWhole: () => number): number {
  const held = regions.filter((r) => r.owner === owner);
  const whole =
    held.length === 1 && held[0].pins.size === 0 && held[0].start === owner.address && held[0].end === owner.end;
  if (whole) {
    // The common case: the attachment is intact and nothing can reach it; plain shmdt.
    if (unmapWhole() !== 0) return libc().errno();
    regions.splice(regions.indexOf(held[0]), 1);
    return 0;
  }
  for (const region of held) {
    const failure = region.pins.size > 0 ? replaceWithPlaceholder(region) : unmapRegion(region);
    if (failure !== 0) return failure;
  }
  return 0;
}

/** Called when an attachment's ArrayBuffer has been collected: placeholders nobody can reach are unmapped. */
export function unpin(owner: RegionOwner): void {
  for (const region of [...regions]) {
    region.pins.delete(owner);
    if (region.owner === null && region.pins.size === 0) unmapRegion(region);
  }
}

function unmapRegion(region: Region): number {
  const c = libc();
  if (c.munmap(region.start, Number(region.end - region.start)) !== 0) return c.errno();
  regions.splice(regions.indexOf(region), 1);
  return 0;
}

function replaceWithPlaceholder(region: Region): number {
  const c = libc();
  const k = c.abi.constants;
  const map = (length: bigint) =>
    c.mmap(region.start, Number(length), k.PROT_READ | k.PROT_WRITE, k.MAP_PRIVATE | k.MAP_ANONYMOUS | k.MAP_FIXED | k.MAP_NORESERVE, -1, 0);
  let address = map(region.end - region.start);
  if (address === c.MAP_FAILED) {
    // A huge-page segment is mapped in huge-page units, larger than the page-rounded size we recorded.
    const extent = mappingEnd(region.start);
    if (extent !== undefined && extent > region.end) {
      address = map(extent - region.start);
      if (address !== c.MAP_FAILED) region.end = extent;
    }
  }
  if (address === c.MAP_FAILED) return c.errno();
  region.owner = null;
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

/** For tests and diagnostics: a copy of the ledger. */
export function ledgerSnapshot(): Array<{ start: bigint; end: bigint; shmid: number | null; pins: number }> {
  return regions.map((r) => ({ start: r.start, end: r.end, shmid: r.owner?.shmid ?? null, pins: r.pins.size }));
}
