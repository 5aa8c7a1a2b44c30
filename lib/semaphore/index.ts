// System V semaphore sets, the friendly layer: docs/semaphores.md.
export {
  SemaphoreSet,
  type SemaphoreSetCreateOptions,
  type SemaphoreSetOpenOptions,
  type AcquireOptions,
  type ReleaseOptions,
  type WaitForZeroOptions,
  type SemaphoreOperation,
  type OperateOptions,
  type SignalOption,
  type LockOptions,
} from './semaphore-set.js';
export { SemaphoreLock } from './lock.js';
export type { SemaphoreSetStatus, SemaphoreState } from './status.js';
