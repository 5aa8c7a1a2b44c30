// sysv-shm: Linux System V shared memory for Node.js. The package's whole public API: every name here is
// documented in docs/api.md, and test/public-surface.test.ts lists them, so that a change is deliberate.

// The C-shaped layer: names, flags and semantics exactly as in C, with exceptions instead of -1.
export { ftok } from './c/ftok.js';
export { shmget } from './c/shmget.js';
export { shmat, shmdt, type ShmatOptions } from './c/shmat.js';
export { Attachment } from './c/attachment.js';
export { shmctl, type ShminfoResult, type ShmInfoResult, type ShmidDsWithId } from './c/shmctl.js';
export {
  IPC_PRIVATE,
  IPC_CREAT,
  IPC_EXCL,
  IPC_NOWAIT,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  IPC_INFO,
  SHM_LOCK,
  SHM_UNLOCK,
  SHM_STAT,
  SHM_INFO,
  SHM_STAT_ANY,
  SHM_RDONLY,
  SHM_RND,
  SHM_REMAP,
  SHM_EXEC,
  SHM_HUGETLB,
  SHM_NORESERVE,
  SHM_HUGE_SHIFT,
  SHM_HUGE_2MB,
  SHM_HUGE_1GB,
  SHM_DEST,
  SHM_LOCKED,
  type ShmctlCommand,
} from './c/constants.js';
export { ShmError, type ShmErrorFields } from './c/errors.js';
export { getAbi, hostTarget, listTargets, type Abi, type ShmidDs, type Shminfo, type ShmInfo, type IpcPerm, type ShmidDsPatch } from './abi/index.js';

// The friendly layer, built on the C-shaped one.
export { Segment, type CreateOptions, type OpenOrCreateOptions, type AttachOptions, type KeySource } from './segment/segment.js';
export { SegmentAttachment, ReadOnlySegmentAttachment, type TypedArrayConstructor } from './segment/attachment.js';
export type { SegmentStatus } from './segment/status.js';
export { list, type ListOptions } from './system/list.js';
export { limits, summary, type Limits, type Summary } from './system/limits.js';
export { orphans, remove } from './system/cleanup.js';

// Waiting and messaging across processes over shared memory.
export { wait, notify, waitAsync, type WaitResult, type WaitOptions, type WaitAsyncOptions } from './sync/futex.js';
export {
  Channel,
  Producer,
  Consumer,
  type ChannelCreateOptions,
  type ChannelOpenOptions,
  type TimeoutOptions,
  type AsyncOptions,
  type ProducerWritableOptions,
  type ConsumerReadableOptions,
} from './sync/channel/index.js';
export {
  Mailbox,
  MailboxSender,
  type MailboxMessage,
  type MailboxReceipt,
  type MailboxCreateOptions,
  type MailboxConnectOptions,
} from './sync/mailbox/index.js';
export { Topic, Publisher, Subscriber, type TopicCreateOptions, type TopicSubscribeOptions } from './sync/topic/index.js';
