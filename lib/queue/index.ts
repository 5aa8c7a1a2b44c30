// System V message queues, the friendly layer: docs/message-queues.md.
export {
  MessageQueue,
  type MessageQueueCreateOptions,
  type QueueMessage,
  type SendOptions,
  type ReceiveOptions,
  type PeekOptions,
  type QueueSignalOption,
  type MessagesOptions,
} from './message-queue.js';
export type { MessageQueueStatus } from './status.js';
