import { describe, expect, it } from 'vitest';
import * as api from '../lib/index.js';

// The package's public API, name by name. Adding, removing or renaming an export must be a deliberate change:
// update this list, docs/api.md and the CHANGELOG together. Internals for tests and benchmarks live in
// lib/internal.ts, which the package does not export.
describe('public surface', () => {
  it('exports exactly the documented names', () => {
    expect(Object.keys(api).sort()).toEqual(EXPORTS);
  });

  it('exports no mutable state: every export is a function, a class or a constant number', () => {
    for (const [name, value] of Object.entries(api)) {
      expect(['function', 'number'], name).toContain(typeof value);
    }
  });
});

const EXPORTS = [
  'Attachment',
  'Channel',
  'Consumer',
  'GETALL',
  'GETNCNT',
  'GETPID',
  'GETVAL',
  'GETZCNT',
  'IPC_CREAT',
  'IPC_EXCL',
  'IPC_INFO',
  'IPC_NOWAIT',
  'IPC_PRIVATE',
  'IPC_RMID',
  'IPC_SET',
  'IPC_STAT',
  'MSG_COPY',
  'MSG_EXCEPT',
  'MSG_INFO',
  'MSG_NOERROR',
  'MSG_STAT',
  'MSG_STAT_ANY',
  'Mailbox',
  'MailboxSender',
  'MessageQueue',
  'Producer',
  'Publisher',
  'ReadOnlySegmentAttachment',
  'SEMVMX',
  'SEM_INFO',
  'SEM_STAT',
  'SEM_STAT_ANY',
  'SEM_UNDO',
  'SETALL',
  'SETVAL',
  'SHM_DEST',
  'SHM_EXEC',
  'SHM_HUGETLB',
  'SHM_HUGE_1GB',
  'SHM_HUGE_2MB',
  'SHM_HUGE_SHIFT',
  'SHM_INFO',
  'SHM_LOCK',
  'SHM_LOCKED',
  'SHM_NORESERVE',
  'SHM_RDONLY',
  'SHM_REMAP',
  'SHM_RND',
  'SHM_STAT',
  'SHM_STAT_ANY',
  'SHM_UNLOCK',
  'Segment',
  'SegmentAttachment',
  'SemaphoreLock',
  'SemaphoreSet',
  'ShmError',
  'Subscriber',
  'Topic',
  'ftok',
  'getAbi',
  'hostTarget',
  'limits',
  'list',
  'listQueues',
  'listSemaphores',
  'listTargets',
  'msgctl',
  'msgget',
  'msgrcv',
  'msgsnd',
  'notify',
  'orphans',
  'remove',
  'semctl',
  'semget',
  'semop',
  'semtimedop',
  'shmat',
  'shmctl',
  'shmdt',
  'shmget',
  'summary',
  'wait',
  'waitAsync',
];
