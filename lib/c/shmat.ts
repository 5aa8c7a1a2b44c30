// shmat(2) and shmdt(2).
import { libc } from '../native/libc.js';
import { errnoError, stateError } from './errors.js';
import { IPC_STAT, SHM_EXEC, SHM_RDONLY, SHM_REMAP, SHM_RND, describeShmatFlags } from './constants.js';
import { Attachment, AttachmentState, detach, newAttachment } from './attachment.js';
import { claim, isTainted, ownsRange, restorePlaceholder, reusableAddress } from './address-space.js';
import { scratchBuffer } from './shmctl.js';
import { record } from './threads.js';
import { checkAddress, checkFlags, checkShmid } from '../common/arguments.js';

export interface ShmatOptions {
  /**
   * Let shmat(SHM_REMAP) map over memory this library did not attach itself (or SHM_RDONLY over memory that
   * live views may write). This can replace memory the process is using and crash it; it exists for code
   * that manages its own address space.
   */
  unsafeAllowForeignAddress?: boolean;
}

const KNOWN_FLAGS = SHM_RDONLY | SHM_RND | SHM_REMAP | SHM_EXEC;

/** `value` rounded up to a multiple of `unit` (a power of two); exact below 2^53, which any segment size is. */
function roundUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}

let boundary: bigint | undefined;

/** SHMLBA in bytes: the alignment SHM_RND rounds to. */
function attachBoundary(c: ReturnType<typeof libc>): bigint {
  const k = c.abi.constants;
  return (boundary ??= k.SHMLBA_BYTES !== undefined ? BigInt(k.SHMLBA_BYTES) : BigInt(k.SHMLBA_PAGES) * BigInt(c.pageSize));
}

/**
 * Attaches segment `shmid`. With no `shmaddr` the kernel picks the address. A fixed `shmaddr` is accepted
 * where nothing is mapped (the kernel refuses overlaps); with SHM_REMAP it must lie in ranges this library
 * attached itself, unless `options.unsafeAllowForeignAddress` is set.
 */
export function shmat(shmid: number, shmaddr: bigint | null = null, shmflg = 0, options: ShmatOptions = {}): Attachment {
  const id = checkShmid(shmid);
  const requested = checkAddress(shmaddr);
  const flags = checkFlags(shmflg);
  if (flags & ~KNOWN_FLAGS) {
    throw new RangeError(`shmflg has unknown bits 0x${(flags & ~KNOWN_FLAGS).toString(16)}; shmat takes SHM_RDONLY, SHM_RND, SHM_REMAP and SHM_EXEC`);
  }
  const c = libc();
  // Spelled out only when needed (an error): building it on every call was a tenth of the library's own cost.
  const describe = () => `shmat(${id}, ${requested === null ? 'NULL' : '0x' + requested.toString(16)}, ${describeShmatFlags(flags)})`;

  // The real size comes from IPC_STAT: it bounds the view and the range checks below. IPC_STAT needs no more
  // permission than shmat, so its failure is reported as shmat's.
  const statBytes = scratchBuffer();
  if (c.shmctl(id, IPC_STAT, statBytes) === -1) throw errnoError({ syscall: 'shmat', call: describe(), shmid: id });
  const size = c.abi.decodeShmidDs(statBytes).segsz;
  const length = BigInt(roundUp(Math.max(size, 1), c.pageSize));
  const shmlba = attachBoundary(c);
  if (requested !== null && flags & SHM_REMAP) {
    const start = flags & SHM_RND ? requested - (requested % shmlba) : requested;
    const end = start + length;
    if (!options.unsafeAllowForeignAddress) {
      if (!ownsRange(start, end)) {
        throw stateError(
          'ERR_SHM_FOREIGN_ADDRESS',
          'shmat',
          `${describe()} would map over 0x${start.toString(16)}-0x${end.toString(16)}, which this library did not attach: that memory may belong to the JavaScript engine. Remap only over your own attachments, or pass { unsafeAllowForeignAddress: true } if you manage that range yourself`,
          { shmid: id },
        );
      }
      if (flags & SHM_RDONLY && isTainted(start, end)) {
        throw stateError(
          'ERR_SHM_FOREIGN_ADDRESS',
          'shmat',
          `${describe()} would put a read-only mapping where ArrayBuffers were made, which may still be written; a write through them would kill the process. Remap without SHM_RDONLY, or attach read-only elsewhere`,
          { shmid: id },
        );
      }
    }
  }

  let address = c.MAP_FAILED;
  // A writable attachment with no address of its own goes over a free placeholder when one fits, so that
  // placeholders (kept for the life of the process, see address-space.ts) are recycled.
  const reuse = requested === null && !(flags & SHM_RDONLY) ? reusableAddress(length, shmlba) : undefined;
  if (reuse !== undefined) {
    address = c.shmat(id, reuse, flags | SHM_REMAP);
    if (address === c.MAP_FAILED) restorePlaceholder(reuse);
  }
  if (address === c.MAP_FAILED) address = c.shmat(id, requested, flags);
  if (address === c.MAP_FAILED) throw errnoError({ syscall: 'shmat', call: describe(), shmid: id });
  // Node starts child processes with fork + exec: without this, every spawn would count as an attach and a
  // detach by the child (nattch, lpid, atime and dtime change). JavaScript has no fork without exec.
  c.madvise(address, Number(length), c.abi.constants.MADV_DONTFORK);
  const state = new AttachmentState(id, address, size, (flags & SHM_RDONLY) !== 0, address + length);
  for (const displaced of claim(address, address + length, state)) (displaced as AttachmentState).superseded = true;
  state.slot = record(id, address, address + length);
  return newAttachment(state);
}

/**
 * Detaches. Views of the attachment's ArrayBuffer stay harmless afterwards (they read zeros); reaching the
 * memory through the attachment throws. Detaching twice throws EINVAL, as C's shmdt fails.
 */
export function shmdt(attachment: Attachment): void {
  detach(attachment);
}

export { Attachment };
