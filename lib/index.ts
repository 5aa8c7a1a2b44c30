// sysv-shm: Linux System V shared memory for Node.js. The package's whole public API: every name here is
// documented in docs/api.md, and test/public-surface.test.ts lists them, so that a change is deliberate.

// The C-shaped layer: names, flags and semantics exactly as in C, with exceptions instead of -1.
export { ftok } from './c/ftok.js';
export { shmget } from './c/shmget.js';
export { shmat, shmdt, type ShmatOptions } from './c/shmat.js';
export { Attachment } from './c/attachment.js';
export { shmctl, type ShminfoResult, type ShmInfoResult, type ShmidDsWithId } from './c/shmctl.js';
export { semget } from './c/semget.js';
export { semop, semtimedop, type SemOperation } from './c/semop.js';
export { semctl, type SeminfoResult, type SemidDsWithId } from './c/semctl.js';
export { msgget } from './c/msgget.js';
export { msgsnd } from './c/msgsnd.js';
export { msgrcv, type ReceivedMessage } from './c/msgrcv.js';
export { msgctl, type MsginfoResult, type MsqidDsWithId, type MsgctlSetPatch } from './c/msgctl.js';
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
  SEM_UNDO,
  GETPID,
  GETVAL,
  GETALL,
  GETNCNT,
  GETZCNT,
  SETVAL,
  SETALL,
  SEM_STAT,
  SEM_INFO,
  SEM_STAT_ANY,
  SEMVMX,
  MSG_NOERROR,
  MSG_EXCEPT,
  MSG_COPY,
  MSG_STAT,
  MSG_INFO,
  MSG_STAT_ANY,
  type ShmctlCommand,
  type SemctlCommand,
  type MsgctlCommand,
} from './c/constants.js';
export { ShmError, type ShmErrorFields } from './c/errors.js';
export { getAbi, hostTarget, listTargets, type Abi, type ShmidDs, type Shminfo, type ShmInfo, type IpcPerm, type ShmidDsPatch } from './abi/index.js';
export type { SemidDs, SemidDsPatch, Seminfo, MsqidDs, Msginfo } from './abi/index.js';

// The friendly layer, built on the C-shaped one.
export { Segment, type CreateOptions, type OpenOrCreateOptions, type AttachOptions, type KeySource } from './segment/segment.js';
export { SegmentAttachment, ReadOnlySegmentAttachment, type TypedArrayConstructor } from './segment/attachment.js';
export type { SegmentStatus } from './segment/status.js';
export { list, listSemaphores, listQueues, type ListOptions, type SemaphoreSetEntry, type MessageQueueEntry } from './system/list.js';
export {
  limits,
  summary,
  type Limits,
  type Summary,
  type SemaphoreLimits,
  type MessageQueueLimits,
  type SemaphoreSummary,
  type MessageQueueSummary,
} from './system/limits.js';
export { orphans, remove, type IpcKind, type RemoveTarget } from './system/cleanup.js';
export {
  SemaphoreSet,
  SemaphoreLock,
  type SemaphoreSetCreateOptions,
  type SemaphoreSetOpenOptions,
  type AcquireOptions,
  type ReleaseOptions,
  type WaitForZeroOptions,
  type SemaphoreOperation,
  type OperateOptions,
  type SignalOption,
  type LockOptions,
  type SemaphoreSetStatus,
  type SemaphoreState,
} from './semaphore/index.js';
export {
  MessageQueue,
  type MessageQueueCreateOptions,
  type QueueMessage,
  type SendOptions,
  type ReceiveOptions,
  type PeekOptions,
  type QueueSignalOption,
  type MessagesOptions,
  type MessageQueueStatus,
} from './queue/index.js';
export type { OpenTarget } from './sysv-wait/index.js';

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
