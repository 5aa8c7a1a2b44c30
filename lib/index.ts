// sysv-shm: Linux System V shared memory for Node.js.
// The C-shaped layer: names, flags and semantics exactly as in C, with exceptions instead of -1.
export { ftok } from './c/ftok.js';
export { shmget } from './c/shmget.js';
export { shmat, shmdt, type ShmatOptions } from './c/shmat.js';
export { Attachment } from './c/attachment.js';
export { shmctl, type ShminfoResult, type ShmInfoResult, type ShmidDsWithId } from './c/shmctl.js';
export * from './c/constants.js';
export { ShmError } from './errors.js';
export { getAbi, hostTarget, listTargets, type Abi, type ShmidDs, type Shminfo, type ShmInfo, type IpcPerm, type ShmidDsPatch } from './abi/index.js';

// The friendly layer, built on the C-shaped one.
export { Segment, type CreateOptions, type OpenOrCreateOptions, type AttachOptions, type KeySource } from './segment/segment.js';
export { SegmentAttachment, ReadOnlySegmentAttachment, type TypedArrayConstructor } from './segment/attachment.js';
export type { SegmentStatus } from './segment/status.js';
export { list, listByShmStat, type ListOptions } from './system/list.js';
export { limits, summary, type Limits, type Summary } from './system/limits.js';
export { orphans, remove, processExists } from './system/cleanup.js';

// Waiting and messaging across processes over shared memory.
export { wait, notify, waitAsync, futexDefaults, futexCallCounts, type WaitResult, type WaitOptions } from './sync/futex.js';
export {
  Channel,
  DEFAULT_SPIN as CHANNEL_DEFAULT_SPIN,
  SLICE_MS as CHANNEL_SLICE_MS,
  type ChannelCreateOptions,
  type ChannelOpenOptions,
  type TimeoutOptions,
  type ChannelRole,
} from './sync/channel.js';
